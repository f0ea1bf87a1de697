package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

func toF64(v gorgonia.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	panic(fmt.Sprintf("not a float slice: %T", v.Data()))
}

// dropoutProgram returns a forward-only program computing Dropout(x, p) of
// a (rows, cols) parameter x filled with 1.
func dropoutProgram(t *testing.T, seed uint64, dt tensor.Dtype, p float64, rows, cols int) (*graph.Program, *gorgonia.Node) {
	t.Helper()
	b := graph.NewBuilder(seed)
	x, err := b.Param("x", dt, constantInit(1), rows, cols)
	require.NoError(t, err)
	y, err := ops.Dropout(b, x, p)
	require.NoError(t, err)
	prog, err := b.Compile(nil, y)
	require.NoError(t, err)
	t.Cleanup(func() { prog.Close() })
	return prog, y
}

func TestDropoutStatistics(t *testing.T) {
	const rows, cols = 500, 400 // 2·10⁵ units
	n := float64(rows * cols)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, p := range []float64{0.1, 0.3, 0.5, 0.9} {
			t.Run(fmt.Sprintf("%v/p=%v", dt, p), func(t *testing.T) {
				prog, _ := dropoutProgram(t, 9, dt, p, rows, cols)
				require.NoError(t, prog.Run(graph.Feeds{}))
				y := toF64(prog.Output(0))
				var dropped, sum float64
				scale := 1 / (1 - p)
				for _, v := range y {
					switch {
					case v == 0:
						dropped++
					default:
						assert.InDelta(t, scale, v, 1e-6*scale)
					}
					sum += v
				}
				frac, mean := dropped/n, sum/n
				seFrac := math.Sqrt(p * (1 - p) / n)
				seMean := math.Sqrt(p / (1 - p) / n) // Var(y) = p/(1−p) for x = 1
				assert.InDelta(t, p, frac, 5*seFrac, "fraction dropped")
				assert.InDelta(t, 1, mean, 5*seMean, "mean (inverted scaling)")
				t.Logf("dropped %.5f (p %v, se %.2g), mean %.5f (se %.2g)", frac, p, seFrac, mean, seMean)
			})
		}
	}
}

// TestDropoutBackward checks that y = x·mask/(1−p) and dx = g·mask/(1−p)
// exactly, with the mask of the same run, for several runs.
func TestDropoutBackward(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			const p = 0.4
			b := graph.NewBuilder(3)
			x, err := b.Param("x", dt, randn(1, 0), 6, 7)
			require.NoError(t, err)
			y, err := ops.Dropout(b, x, p)
			require.NoError(t, err)
			loss, err := weightedSum(b, y)
			require.NoError(t, err)
			prog, err := b.Compile(loss, y)
			require.NoError(t, err)
			defer prog.Close()
			r := dense(dt, f64s(randTensor(5, 6, 7)), 6, 7)
			var masks [][]bool
			for run := 0; run < 3; run++ {
				require.NoError(t, prog.ZeroGrads())
				require.NoError(t, prog.Run(graph.Feeds{"r": r}))
				mask := ops.DropoutMask(y)
				require.Len(t, mask, 42)
				masks = append(masks, mask)
				g, err := x.Grad()
				require.NoError(t, err)
				switch dt {
				case tensor.Float64:
					scale := 1 / (1 - p)
					checkMasked(t, mask, x.Value().Data().([]float64), y.Value().Data().([]float64), scale)
					checkMasked(t, mask, r.Data().([]float64), g.Data().([]float64), scale)
				case tensor.Float32:
					scale := float32(1 / (1 - p))
					checkMasked(t, mask, x.Value().Data().([]float32), y.Value().Data().([]float32), scale)
					checkMasked(t, mask, r.Data().([]float32), g.Data().([]float32), scale)
				}
			}
			assert.NotEqual(t, masks[0], masks[1], "each training run draws a new mask")
		})
	}
}

func checkMasked[T float32 | float64](t *testing.T, mask []bool, in, out []T, scale T) {
	t.Helper()
	for i, keep := range mask {
		want := T(0)
		if keep {
			want = in[i] * scale
		}
		require.Equal(t, want, out[i], "element %d (keep %v)", i, keep)
	}
}

func TestDropoutGradcheckFixedMask(t *testing.T) {
	for _, p := range []float64{0.2, 0.5} {
		t.Run(fmt.Sprintf("p=%v", p), func(t *testing.T) {
			b := graph.NewBuilder(4)
			x, err := b.Param("x", tensor.Float64, randn(1, 0), 5, 4)
			require.NoError(t, err)
			h, err := ops.Tanh(x)
			require.NoError(t, err)
			y, err := ops.Dropout(b, h, p)
			require.NoError(t, err)
			require.True(t, ops.FreezeDropout(y, true))
			loss, err := weightedSum(b, y)
			require.NoError(t, err)
			prog, err := b.Compile(loss)
			require.NoError(t, err)
			defer prog.Close()
			res, err := gradcheck.Check(prog, graph.Feeds{"r": randTensor(7, 5, 4)}, gradcheck.Options{})
			require.NoError(t, err)
			for _, r := range res {
				assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
				t.Logf("%v", r)
			}
			mask := ops.DropoutMask(y)
			assert.Contains(t, mask, false)
			assert.Contains(t, mask, true)
		})
	}
}

func TestDropoutEvalIsIdentity(t *testing.T) {
	prog, y := dropoutProgram(t, 1, tensor.Float64, 0.5, 30, 20)
	x := prog.Params()[0]
	copy(f64s(x.Value()), f64s(randTensor(2, 30, 20)))
	step := state(t, prog, "dropout#0/step")
	prog.SetMode(graph.Eval)
	for range 2 {
		require.NoError(t, prog.Run(graph.Feeds{}))
		assert.Equal(t, f64s(x.Value()), f64s(y.Value()))
		assert.Nil(t, ops.DropoutMask(y))
	}
	assert.Equal(t, []float64{0}, f64s(step), "eval advanced the mask counter")
	prog.SetMode(graph.Train)
	require.NoError(t, prog.Run(graph.Feeds{}))
	assert.NotEqual(t, f64s(x.Value()), f64s(y.Value()))
	assert.Equal(t, []float64{1}, f64s(step))
}

// TestDropoutSeeds: the same seed gives the same sequence of masks, another
// seed another one; two dropout nodes of one builder draw different masks;
// restoring the step counter replays a mask (checkpoint and resume).
func TestDropoutSeeds(t *testing.T) {
	masks := func(seed uint64, runs int) [][]bool {
		prog, y := dropoutProgram(t, seed, tensor.Float64, 0.5, 8, 8)
		var out [][]bool
		for range runs {
			require.NoError(t, prog.Run(graph.Feeds{}))
			out = append(out, ops.DropoutMask(y))
		}
		return out
	}
	a, again, other := masks(7, 3), masks(7, 3), masks(8, 3)
	assert.Equal(t, a, again)
	assert.NotEqual(t, a[0], other[0])
	assert.NotEqual(t, a[0], a[1])

	// Two nodes on one input with the same p: two nodes, two streams, two states.
	b := graph.NewBuilder(7)
	x, _ := b.Param("x", tensor.Float64, constantInit(1), 8, 8)
	y1, err := ops.Dropout(b, x, 0.5)
	require.NoError(t, err)
	y2, err := ops.Dropout(b, x, 0.5)
	require.NoError(t, err)
	require.NotSame(t, y1, y2)
	prog, err := b.Compile(nil, y1, y2)
	require.NoError(t, err)
	defer prog.Close()
	require.NoError(t, prog.Run(graph.Feeds{}))
	m1, m2 := ops.DropoutMask(y1), ops.DropoutMask(y2)
	assert.NotEqual(t, m1, m2)
	assert.Equal(t, a[0], m1, "the first dropout node of a builder does not depend on later ones")
	names := []string{}
	for _, s := range prog.States() {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"dropout#0/step", "dropout#1/step"}, names)

	// Resume: setting the counter back replays the mask.
	require.NoError(t, prog.Run(graph.Feeds{}))
	assert.Equal(t, a[1], ops.DropoutMask(y1))
	f64s(state(t, prog, "dropout#0/step"))[0] = 0
	require.NoError(t, prog.Run(graph.Feeds{}))
	assert.Equal(t, a[0], ops.DropoutMask(y1))
}

// TestDropoutDistinctP: two dropouts with different p on one input stay two
// nodes (Gorgonia's hash ignores p and merges them; see TestGorgoniaDefects).
func TestDropoutDistinctP(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Param("x", tensor.Float64, constantInit(1), 4, 4)
	y1, err := ops.Dropout(b, x, 0.3)
	require.NoError(t, err)
	y2, err := ops.Dropout(b, x, 0.6)
	require.NoError(t, err)
	assert.NotSame(t, y1, y2)
	assert.NotEqual(t, y1.Op().Hashcode(), y2.Op().Hashcode())
	assert.Contains(t, y1.Op().String(), "p=0.3")
	assert.Contains(t, y2.Op().String(), "p=0.6")
}

func TestDropoutErrors(t *testing.T) {
	for _, p := range []float64{-0.1, 1, 1.5, math.NaN(), math.Inf(1)} {
		t.Run(fmt.Sprintf("p=%v", p), func(t *testing.T) {
			b := graph.NewBuilder(1)
			x, _ := b.Param("x", tensor.Float64, constantInit(1), 2, 2)
			y, err := ops.Dropout(b, x, p)
			assert.Nil(t, y)
			require.ErrorIs(t, err, ops.ErrConfig)
			assert.Contains(t, err.Error(), fmt.Sprintf("p = %v", p))
			_, err = b.Compile(nil, x)
			assert.ErrorIs(t, err, ops.ErrConfig, "the builder keeps the error")
		})
	}
	b := graph.NewBuilder(1)
	labels, _ := b.Input("labels", tensor.Int, 3)
	_, err := ops.Dropout(b, labels, 0.5)
	assert.ErrorIs(t, err, ops.ErrDtype)
	_, err = ops.Dropout(nil, labels, 0.5)
	assert.ErrorIs(t, err, ops.ErrBuild)

	// p = 0 is the identity: x itself.
	b = graph.NewBuilder(1)
	x, _ := b.Param("x", tensor.Float64, constantInit(1), 2, 2)
	y, err := ops.Dropout(b, x, 0)
	require.NoError(t, err)
	assert.Same(t, x, y)
}
