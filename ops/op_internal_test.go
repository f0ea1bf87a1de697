package ops

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/vec"
)

// TestElementwiseSplit runs element-wise kernels large enough to be split
// over the cores on 1, 2 and 3 goroutines: the results are bit-identical to
// one serial call, a kernel's error comes back, and a steady-state run
// allocates nothing.
func TestElementwiseSplit(t *testing.T) {
	defer parallel.SetParallelism(parallel.SetParallelism(0))
	const n = 3*ewSerial + 17
	r := rand.New(rand.NewPCG(3, 4))
	x, g := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	kernels := map[string]func(out []float32, in [][]float32) error{
		"tanh":     func(y []float32, in [][]float32) error { tanhFwd(y, in[0]); return nil },
		"reluGrad": func(dx []float32, in [][]float32) error { vec.ReLUGrad(dx, in[0], in[1]); return nil },
	}
	for name, k := range kernels {
		want := make([]float32, n)
		require.NoError(t, k(want, [][]float32{x, g}))
		d := &def{label: name, elementwise: true}
		var j ewJob[float32]
		for _, p := range []int{1, 2, 3} {
			parallel.SetParallelism(p)
			got := make([]float32, n)
			require.NoError(t, j.do(d, k, got, [][]float32{x, g}))
			require.Equal(t, want, got, "%s on %d goroutines", name, p)
		}
		parallel.SetParallelism(2)
		out, in := make([]float32, n), [][]float32{x, g}
		allocs := testing.AllocsPerRun(20, func() { _ = j.do(d, k, out, in) })
		require.Zero(t, allocs, name)
	}
	boom := errors.New("boom")
	d := &def{label: "failing", elementwise: true}
	var j ewJob[float32]
	err := j.do(d, func([]float32, [][]float32) error { return boom }, make([]float32, n), [][]float32{x})
	require.ErrorIs(t, err, boom)
	err = j.do(d, func([]float32, [][]float32) error { return nil }, make([]float32, n), [][]float32{x[:n-1]})
	require.ErrorIs(t, err, ErrShape)
}

// TestDropoutDroppedIsZero checks that a dropped unit is exactly +0 even
// where x is Inf, NaN or negative, in both dtypes and both passes' kernel.
func TestDropoutDroppedIsZero(t *testing.T) {
	x := []float64{math.Inf(1), math.NaN(), -3, math.Inf(-1), 2}
	keep := []uint8{0, 0, 0, 1, 1}
	out := make([]float64, len(x))
	dropoutApply(out, x, keep, 2, true)
	for i := range 3 {
		require.Equal(t, uint64(0), math.Float64bits(out[i]), "unit %d", i)
	}
	require.Equal(t, math.Inf(-1), out[3])
	require.Equal(t, 4.0, out[4])
	x32 := []float32{float32(math.Inf(1)), float32(math.NaN()), -3, 1, 2}
	out32 := make([]float32, len(x32))
	dropoutApply(out32, x32, keep, 2, true)
	for i := range 3 {
		require.Equal(t, uint32(0), math.Float32bits(out32[i]), "unit %d", i)
	}
	require.Equal(t, []float32{2, 4}, out32[3:])
}

// TestBatchNormNamesTheBadTensor checks that a tensor of another dtype
// than the output's is named in BatchNorm's error (the op helper's
// checks), and that the node's op is a TrainModeOp and a graph.SyncOp.
func TestBatchNormNamesTheBadTensor(t *testing.T) {
	b := graph.NewBuilder(1)
	xn, err := b.Input("x", tensor.Float64, 4, 3)
	require.NoError(t, err)
	y, err := BatchNorm(b, "bn", xn, BatchNormOptions{})
	require.NoError(t, err)
	o, ok := y.Op().(gorgonia.UsePreallocDoer)
	require.True(t, ok)
	_, ok = y.Op().(gorgonia.TrainModeOp)
	require.True(t, ok, "BatchNorm's op has a mode")
	_, ok = y.Op().(graph.SyncOp)
	require.True(t, ok, "BatchNorm's op can be synchronized")
	st, ok := stateOf[*bnOp](y)
	require.True(t, ok)
	require.Equal(t, `BatchNorm "bn"`, st.label)

	x := tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(make([]float64, 12)))
	gamma, beta := filled(tensor.Float64, 3, 1), filled(tensor.Float64, 3, 0)
	out32 := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(4, 3))
	_, err = o.UsePreallocDo(out32, x, gamma, beta)
	require.ErrorIs(t, err, ErrDtype)
	require.ErrorContains(t, err, "input 0 is float64, want float32")
	out := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 3))
	_, err = o.UsePreallocDo(out, x, gamma, filled(tensor.Float32, 3, 0))
	require.ErrorContains(t, err, "input 2 is float32, want float64")
	_, err = o.UsePreallocDo(out, x, gamma, beta)
	require.NoError(t, err)
	require.Equal(t, uint64(1), st.runs)
	_, err = o.UsePreallocDo(out, tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(make([]float64, 12))), filled(tensor.Float64, 4, 1), beta)
	require.ErrorIs(t, err, ErrShape, "γ of 4 values for 3 features")

	// One value per feature cannot give batch statistics (as in PyTorch).
	x1, err := b.Input("x1", tensor.Float64, 1, 3)
	require.NoError(t, err)
	y1, err := BatchNorm(b, "bn1", x1, BatchNormOptions{})
	require.NoError(t, err)
	o1 := y1.Op().(gorgonia.UsePreallocDoer)
	_, err = o1.UsePreallocDo(tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(1, 3)), tensor.New(tensor.WithShape(1, 3), tensor.WithBacking(make([]float64, 3))), gamma, beta)
	require.ErrorIs(t, err, ErrShape)
	require.ErrorContains(t, err, "at least 2")
	require.NoError(t, y1.Op().(gorgonia.TrainModeOp).SetTraining(false))
	_, err = o1.UsePreallocDo(tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(1, 3)), tensor.New(tensor.WithShape(1, 3), tensor.WithBacking(make([]float64, 3))), gamma, beta)
	require.NoError(t, err, "Eval mode takes a single example")
}

// TestDefScalarModeState checks the helper's scalar output (a Gorgonia
// scalar kept between runs, written as one element by the kernel), its
// scalar inputs (a loss's upstream gradient), the mode hook (only a def
// with one is a TrainModeOp) and stateOf.
func TestDefScalarModeState(t *testing.T) {
	b := graph.NewBuilder(1)
	x, err := b.Input("x", tensor.Float64, 3)
	require.NoError(t, err)
	training := false
	type st struct{ runs int }
	s := &st{}
	sum := func(out []float64, in [][]float64) error {
		s.runs++
		out[0] = 0
		for _, v := range in[0] {
			out[0] += v
		}
		if training {
			out[0] *= in[1][0]
		}
		return nil
	}
	g := gorgonia.NewScalar(b.Graph(), tensor.Float64, gorgonia.WithName("g"))
	n, err := applyDef(&def{name: "Sum()", typ: sig(1, 0, 0), shape: tensor.ScalarShape(), run64: sum,
		train: func(on bool) { training = on }, state: s}, x, g)
	require.NoError(t, err)
	plain, err := applyDef(&def{name: "Plain()", typ: sig(1, 0, 0), shape: tensor.ScalarShape(), run64: sum}, x, g)
	require.NoError(t, err)
	_, isMode := plain.Op().(gorgonia.TrainModeOp)
	require.False(t, isMode, "a def without a mode hook")
	mo, ok := n.Op().(gorgonia.TrainModeOp)
	require.True(t, ok)
	got, ok := stateOf[*st](n)
	require.True(t, ok)
	require.Same(t, s, got)
	_, ok = stateOf[*random](n)
	require.False(t, ok, "a state of another type")

	xv := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 2, 4}))
	gv := gorgonia.NewF64(0.5)
	o := n.Op()
	v, err := o.Do(xv, gv)
	require.NoError(t, err)
	require.IsType(t, (*gorgonia.F64)(nil), v)
	require.Equal(t, 7.0, float64(*v.(*gorgonia.F64)))
	require.NoError(t, mo.SetTraining(true))
	pd := o.(gorgonia.UsePreallocDoer)
	v2, err := pd.UsePreallocDo(tensor.New(tensor.WithShape(5), tensor.Of(tensor.Float64)), xv, gv)
	require.NoError(t, err, "a scalar def ignores another node's register")
	require.Same(t, v, v2, "one scalar kept between runs")
	require.Equal(t, 3.5, float64(*v2.(*gorgonia.F64)))
	in := []gorgonia.Value{xv, gv}
	require.Zero(t, testing.AllocsPerRun(20, func() { _, _ = o.Do(in...) }))
	runs := s.runs
	_, err = o.Do(xv, gorgonia.NewF32(1))
	require.ErrorIs(t, err, ErrDtype, "a float32 scalar into a float64 op")
	require.Equal(t, runs, s.runs, "the refused run never reached the kernel")
}
