package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/internal/conv"
	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/sgemm"
)

// directCases have channel counts that are and are not multiples of 16 (the
// direct kernels' blocks; dw needs one), with and without padding, 3 and 5
// wide filters and one 4 wide (dw on im2col), rows of 1 to 28 pixels; the
// last has stride 2 (im2col only).
var directCases = []struct {
	xs, ws []int
	opt    ConvOptions
}{
	{[]int{9, 16, 14, 14}, []int{32, 16, 5, 5}, ConvOptions{Padding: [2]int{2, 2}}},
	{[]int{9, 1, 28, 28}, []int{16, 1, 5, 5}, ConvOptions{Padding: [2]int{2, 2}}},
	{[]int{3, 32, 13, 13}, []int{64, 32, 3, 3}, ConvOptions{}},
	{[]int{10, 16, 6, 19}, []int{16, 16, 3, 5}, ConvOptions{Padding: [2]int{1, 0}}},
	{[]int{2, 16, 5, 5}, []int{48, 16, 5, 5}, ConvOptions{Padding: [2]int{4, 3}}},
	{[]int{4, 16, 7, 9}, []int{32, 16, 3, 4}, ConvOptions{Padding: [2]int{1, 2}}},
	{[]int{3, 5, 8, 11}, []int{7, 5, 3, 3}, ConvOptions{Padding: [2]int{1, 1}}},
	{[]int{5, 16, 9, 9}, []int{16, 16, 3, 3}, ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
}

// TestConvDirect runs the three ops of each case on every path of
// internal/conv (its Go path: im2col and the matrix product here): the
// direct kernels agree with im2col to rounding, AVX-512 and AVX2 bit for
// bit, and each op takes the direct kernels exactly when the geometry fits.
func TestConvDirect(t *testing.T) {
	for _, c := range directCases {
		g, err := convGeometry(c.xs, c.ws, c.opt)
		require.NoError(t, err)
		name := fmt.Sprintf("x=%v/w=%v/%+v", c.xs, c.ws, c.opt)
		got := map[string][][]float32{}
		for _, path := range conv.Paths() {
			restore, ok := conv.ForcePath(path)
			require.True(t, ok)
			ops, inputs, jobs := convOps3(t, c.xs, c.ws, c.opt)
			for k, o := range ops {
				v, err := o.Do(inputs[k]...)
				got[path] = append(got[path], data32(t, v, err))
				want := path != "go" && g.sh == 1 && g.sw == 1 && (k != convGradW || (g.kw != 4 && g.o%16 == 0))
				assert.Equal(t, want, jobs[k].useDirect, "%s: op %s on %s takes the direct kernels", name, o.label, path)
			}
			restore()
		}
		for k := range 3 {
			ref := got["go"][k]
			for path, vals := range got {
				for i, v := range vals[k] {
					require.InDelta(t, ref[i], v, 1e-4*(1+math.Abs(float64(ref[i]))), "%s: op %d on %s, element %d", name, k, path, i)
				}
			}
			if a, b := got["avx512"], got["avx2"]; a != nil && b != nil {
				assert.Equal(t, a[k], b[k], "%s: op %d: AVX-512 and AVX2 differ", name, k)
			}
		}
	}
}

// convOps3 is convOps (same inputs) returning the three float32 jobs.
func convOps3(t testing.TB, xs, ws []int, opt ConvOptions) ([]*op, [][]gorgonia.Value, [3]*convJob[float32]) {
	t.Helper()
	_, inputs, _ := convOps(t, xs, ws, opt)
	g, err := convGeometry(xs, ws, opt)
	require.NoError(t, err)
	fwd := &convJob[float32]{g: g, kind: convForward}
	jobs := [3]*convJob[float32]{fwd, {g: g, kind: convGradX}, {g: g, kind: convGradW, fwd: fwd}}
	var ops []*op
	for kind, j := range jobs {
		d := convDefOf(g, kind, j, &convJob[float64]{g: g, kind: kind})
		ops = append(ops, &op{opBase: newBase(d.name), def: d, arity: len(inputs[kind])})
	}
	return ops, inputs, jobs
}

// TestConvDirectSplitIndependent: on the direct kernels too, the three ops
// give bit-identical results on 1, 2 and 3 parts, and dw from the forward
// op's padded inputs equals dw from its own.
func TestConvDirectSplitIndependent(t *testing.T) {
	defer parallel.SetParallelism(parallel.SetParallelism(0))
	for _, c := range directCases[:3] {
		ops, inputs, dw := convOps(t, c.xs, c.ws, c.opt)
		var want [][]float32
		for _, p := range []int{1, 2, 3} {
			parallel.SetParallelism(p)
			for k, o := range ops {
				v, err := o.Do(inputs[k]...)
				got := data32(t, v, err)
				if p == 1 {
					want = append(want, got)
					continue
				}
				assert.Equal(t, want[k], got, "op %s on %d parts", o.label, p)
			}
		}
		if !conv.Accelerated() {
			continue
		}
		assert.True(t, dw.reuse, "dw reads the forward op's padded inputs")
		v, err := ops[2].Do(inputs[2]...) // no forward run since: pads its own
		assert.False(t, dw.reuse)
		assert.Equal(t, want[2], data32(t, v, err))
	}
}

// TestConvDirectNoAllocs: a steady-state run of each op on the direct
// kernels (two parts, through the worker pool) allocates nothing.
func TestConvDirectNoAllocs(t *testing.T) {
	if !conv.Accelerated() {
		t.Skip("no direct kernels on this CPU")
	}
	defer parallel.SetParallelism(parallel.SetParallelism(2))
	c := directCases[0]
	ops, inputs, jobs := convOps3(t, c.xs, c.ws, c.opt)
	for k, o := range ops {
		_, err := o.Do(inputs[k]...)
		require.NoError(t, err)
		require.True(t, jobs[k].useDirect)
		allocs := testing.AllocsPerRun(10, func() { _, _ = o.Do(inputs[k]...) })
		assert.Zero(t, allocs, "%s allocates", o.label)
	}
}

// TestConvIm2colNoAllocs: on the im2col path too (stride 2), with the real
// internal/sgemm (whose per-call state no longer escapes), a steady-state
// run of each op allocates nothing. (Without AVX2, internal/sgemm is
// gonum's Sgemm, which allocates.)
func TestConvIm2colNoAllocs(t *testing.T) {
	if !sgemm.Accelerated() {
		t.Skip("internal/sgemm runs gonum's Sgemm on this CPU")
	}
	if raceEnabled {
		t.Skip("the race detector allocates (internal/sgemm's pooled state is dropped at random under it)")
	}
	defer parallel.SetParallelism(parallel.SetParallelism(2))
	ops, inputs, jobs := convOps3(t, []int{16, 16, 14, 14}, []int{32, 16, 5, 5}, ConvOptions{Padding: [2]int{2, 2}, Stride: [2]int{2, 2}})
	for k, o := range ops {
		_, err := o.Do(inputs[k]...)
		require.NoError(t, err)
		require.False(t, jobs[k].useDirect)
		allocs := testing.AllocsPerRun(10, func() { _, _ = o.Do(inputs[k]...) })
		assert.Zero(t, allocs, "%s allocates", o.label)
	}
}
