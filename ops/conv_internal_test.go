package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
)

// convOps returns the forward, dx and dw ops of a geometry and random
// float32 inputs for each.
func convOps(t testing.TB, xs, ws []int, opt ConvOptions) (ops []*op, inputs [][]gorgonia.Value, dw *convJob[float32]) {
	t.Helper()
	g, err := convGeometry(xs, ws, opt)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(shape ...int) *tensor.Dense {
		v := make([]float32, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	x, w, dy := rnd(xs...), rnd(ws...), rnd(g.n, g.o, g.oh, g.ow)
	fwd32, fwd64 := &convJob[float32]{g: g, kind: convForward}, &convJob[float64]{g: g, kind: convForward}
	jobs := [][2]any{{fwd32, fwd64}, {&convJob[float32]{g: g, kind: convGradX}, &convJob[float64]{g: g, kind: convGradX}},
		{&convJob[float32]{g: g, kind: convGradW, fwd: fwd32}, &convJob[float64]{g: g, kind: convGradW, fwd: fwd64}}}
	for kind, in := range [][]gorgonia.Value{{x, w}, {w, dy}, {x, dy, dy}} {
		d := convDefOf(g, kind, jobs[kind][0].(*convJob[float32]), jobs[kind][1].(*convJob[float64]))
		ops = append(ops, &op{opBase: newBase(d.name), def: d, arity: len(in)})
		inputs = append(inputs, in)
	}
	return ops, inputs, jobs[convGradW][0].(*convJob[float32])
}

// TestConvGradWReuse checks that dw computed from the forward pass's column
// matrices equals dw computed from its own, and that dw computes its own
// when the forward op has not run since dw last ran.
func TestConvGradWReuse(t *testing.T) {
	ops, inputs, job := convOps(t, []int{11, 3, 9, 8}, []int{4, 3, 3, 2}, ConvOptions{Stride: [2]int{1, 2}, Padding: [2]int{2, 1}, Dilation: [2]int{2, 1}})
	run := func() []float32 {
		v, err := ops[2].Do(inputs[2]...)
		return data32(t, v, err)
	}
	own := run() // the forward op has not run
	assert.False(t, job.reuse)
	_, err := ops[0].Do(inputs[0]...)
	require.NoError(t, err)
	reused := run()
	assert.True(t, job.reuse)
	assert.Equal(t, own, reused)
	again := run() // no forward run since: its own columns again
	assert.False(t, job.reuse)
	assert.Equal(t, own, again)
}

func data32(t testing.TB, v gorgonia.Value, err error) []float32 {
	t.Helper()
	require.NoError(t, err)
	return slices.Clone(v.Data().([]float32))
}

// TestConvSplitIndependent runs the three convolution ops on 1, 2, 3 and 5
// parts: the results are bit-identical (forward and dx per sample, dw by
// partial sums over fixed chunks of samples added in chunk order).
func TestConvSplitIndependent(t *testing.T) {
	defer parallel.SetParallelism(parallel.SetParallelism(0))
	for _, c := range []struct{ xs, ws []int }{
		{[]int{19, 3, 11, 10}, []int{5, 3, 3, 2}},
		{[]int{19, 8, 7, 6}, []int{5, 8, 5, 4}}, // C·KH·KW = 160
	} {
		ops, inputs, _ := convOps(t, c.xs, c.ws, ConvOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}})
		var want [][]float32
		for _, p := range []int{1, 2, 3, 5} {
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
	}
}

// TestConvNoAllocs checks that a steady-state run of each op (float32, on
// two parts through the worker pool) allocates nothing in the ops' own code.
// The matrix products are replaced by a stub: internal/sgemm's SIMD paths
// allocate nothing once warm (TestSgemmZeroAllocs), but its pure-Go path
// (CI's no-AVX2 run) is gonum's Sgemm, which allocates per call; the stub
// keeps the count to the ops' own code on every path.
func TestConvNoAllocs(t *testing.T) {
	defer func(p int, f func(blas.Transpose, blas.Transpose, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)) {
		parallel.SetParallelism(p)
		sgemmFn = f
	}(parallel.SetParallelism(2), sgemmFn)
	sgemmFn = func(blas.Transpose, blas.Transpose, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int) {
	}
	ops, inputs, _ := convOps(t, []int{16, 16, 14, 14}, []int{32, 16, 5, 5}, ConvOptions{Padding: [2]int{2, 2}})
	for _, kind := range []int{poolMax, poolAvg} {
		for _, grad := range []bool{false, true} {
			g, err := poolGeometry("pool", []int{16, 16, 14, 14}, PoolOptions{Kernel: [2]int{2, 2}})
			require.NoError(t, err)
			d := poolDef(g, kind, grad)
			in := []gorgonia.Value{inputs[0][0]}
			if grad {
				y := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(16, 16, 7, 7))
				in = append(in, y, y)
			}
			ops = append(ops, &op{opBase: newBase(d.name), def: d, arity: len(in)})
			inputs = append(inputs, in)
		}
	}
	for k, o := range ops {
		_, err := o.Do(inputs[k]...)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(10, func() { _, _ = o.Do(inputs[k]...) })
		assert.Zero(t, allocs, "%s allocates", o.label)
	}
}

// TestOpRecoversPanic checks that a panic inside a kernel (here, inputs of
// the wrong size fed to a pool's gradient) becomes an error naming the op.
func TestOpRecoversPanic(t *testing.T) {
	d := &def{name: "Boom()", label: "Boom", typ: sig(0, 0),
		run32: func([]float32, [][]float32) error { panic("kaboom") },
		run64: func([]float64, [][]float64) error { panic("kaboom") }}
	o := &op{opBase: newBase(d.name), def: d, arity: 1}
	_, err := o.Do(tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2})))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBuild)
	assert.Contains(t, err.Error(), "Boom")
	assert.Contains(t, err.Error(), "kaboom")
	// A size mismatch is an error from the kernel, not a panic.
	ops, inputs, _ := convOps(t, []int{2, 3, 5, 5}, []int{4, 3, 3, 3}, ConvOptions{})
	_, err = ops[0].Do(inputs[1]...)
	require.ErrorIs(t, err, ErrShape)
}

// TestMaxPoolNaNRouting pins PyTorch's routing when a window holds NaNs:
// the output is NaN and the gradient goes to the last NaN, since PyTorch's
// kernel takes every NaN it meets (`val > maxval || isnan(val)`).
func TestMaxPoolNaNRouting(t *testing.T) {
	nan := float32(math.NaN())
	g, err := poolGeometry("MaxPool2D", []int{1, 1, 2, 3}, PoolOptions{Kernel: [2]int{2, 3}})
	require.NoError(t, err)
	x := []float32{1, nan, 5, 2, nan, 3}
	y := make([]float32, 1)
	fwd := &poolJob[float32]{g: g, kind: poolMax}
	require.NoError(t, fwd.do(y, [][]float32{x}))
	assert.True(t, y[0] != y[0], "max is NaN")
	dx := make([]float32, 6)
	bwd := &poolJob[float32]{g: g, kind: poolMax, grad: true}
	require.NoError(t, bwd.do(dx, [][]float32{x, y, {1}}))
	assert.Equal(t, []float32{0, 0, 0, 0, 1, 0}, dx)
}

// TestTranspose checks the tiled transpose against its definition on
// shapes with and without whole 8×8 tiles.
func TestTranspose(t *testing.T) {
	for _, s := range [][2]int{{400, 196}, {32, 196}, {7, 5}, {9, 17}, {16, 784}, {1, 9}, {8, 8}} {
		rows, cols := s[0], s[1]
		src := make([]float64, rows*cols)
		for i := range src {
			src[i] = float64(i)
		}
		dst := make([]float64, len(src))
		transpose(dst, src, rows, cols)
		for i := range rows {
			for j := range cols {
				require.Equal(t, src[i*cols+j], dst[j*rows+i], "%dx%d at (%d, %d)", rows, cols, i, j)
			}
		}
	}
}
