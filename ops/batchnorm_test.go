package ops_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// param returns the builder's parameter called name.
func param(t *testing.T, b *graph.Builder, name string) *gorgonia.Node {
	t.Helper()
	for _, n := range b.Params() {
		if n.Name() == name {
			return n
		}
	}
	t.Fatalf("no parameter %q", name)
	return nil
}

// state returns the program's state tensor called name.
func state(t *testing.T, p *graph.Program, name string) *tensor.Dense {
	t.Helper()
	for _, s := range p.States() {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("no state %q", name)
	return nil
}

func f64s(v gorgonia.Value) []float64 { return v.Data().([]float64) }

func gradOf(t *testing.T, n *gorgonia.Node) []float64 {
	t.Helper()
	g, err := n.Grad()
	require.NoError(t, err)
	return f64s(g)
}

// maxRelErr returns max |got − want| / max(|want|, floor) over the elements.
func maxRelErr(t *testing.T, want, got []float64, floor float64) float64 {
	t.Helper()
	require.Len(t, got, len(want))
	var m float64
	for i := range want {
		m = max(m, math.Abs(got[i]-want[i])/max(math.Abs(want[i]), floor))
	}
	return m
}

func TestBatchNormGradients(t *testing.T) {
	shapes := [][]int{{2, 3}, {8, 5}, {16, 1}, {3, 2, 2, 3}}
	for _, shape := range shapes {
		t.Run(fmt.Sprintf("train/float64/shape=%v", shape), func(t *testing.T) {
			b := graph.NewBuilder(11)
			x, err := b.Param("x", tensor.Float64, randn(2, 0), shape...)
			require.NoError(t, err)
			y, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{Momentum: 0.2, Eps: 1e-3})
			require.NoError(t, err)
			// γ and β away from their initial 1 and 0, so every term of the gradient matters.
			copy(f64s(param(t, b, "bn/gamma").Value()), f64s(randTensor(3, shape[1])))
			copy(f64s(param(t, b, "bn/beta").Value()), f64s(randTensor(4, shape[1])))
			loss, err := weightedSum(b, y)
			require.NoError(t, err)
			p, err := b.Compile(loss)
			require.NoError(t, err)
			defer p.Close()
			res, err := gradcheck.Check(p, graph.Feeds{"r": randTensor(7, shape...)}, gradcheck.Options{})
			require.NoError(t, err)
			require.Len(t, res, 3)
			for _, r := range res {
				assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
				t.Logf("%v", r)
			}
		})
	}
}

type bnGolden struct {
	Torch string `json:"torch"`
	Cases []struct {
		Name     string    `json:"name"`
		Shape    []int     `json:"shape"`
		Momentum float64   `json:"momentum"`
		Eps      float64   `json:"eps"`
		Gamma    []float64 `json:"gamma"`
		Beta     []float64 `json:"beta"`
		Steps    []struct {
			X, R, Y, Dx, Dgamma, Dbeta []float64
			RunningMean                []float64 `json:"running_mean"`
			RunningVar                 []float64 `json:"running_var"`
		} `json:"steps"`
		Eval struct{ X, Y []float64 } `json:"eval"`
	} `json:"cases"`
}

// TestBatchNormPyTorch replays the Train steps and the Eval batch of
// testdata/batchnorm.json (made by testdata/gen_batchnorm.py with PyTorch's
// BatchNorm1d/BatchNorm2d) and compares outputs, gradients and running
// statistics.
func TestBatchNormPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/batchnorm.json")
	require.NoError(t, err)
	var golden bnGolden
	require.NoError(t, json.Unmarshal(raw, &golden))
	require.NotEmpty(t, golden.Cases)
	const tol = 1e-9
	var worst float64
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			b := graph.NewBuilder(1)
			x, err := b.Param("x", tensor.Float64, constantInit(0), c.Shape...)
			require.NoError(t, err)
			y, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{Momentum: c.Momentum, Eps: c.Eps})
			require.NoError(t, err)
			gamma, beta := param(t, b, "bn/gamma"), param(t, b, "bn/beta")
			copy(f64s(gamma.Value()), c.Gamma)
			copy(f64s(beta.Value()), c.Beta)
			loss, err := weightedSum(b, y)
			require.NoError(t, err)
			p, err := b.Compile(loss, y)
			require.NoError(t, err)
			defer p.Close()
			check := func(what string, want, got []float64) {
				e := maxRelErr(t, want, got, 1e-3)
				worst = max(worst, e)
				assert.LessOrEqual(t, e, tol, "%s: max rel err %.3g", what, e)
			}
			for i, s := range c.Steps {
				copy(f64s(x.Value()), s.X)
				require.NoError(t, p.ZeroGrads())
				require.NoError(t, p.Run(graph.Feeds{"r": tensor.New(tensor.WithShape(c.Shape...), tensor.WithBacking(s.R))}))
				check(fmt.Sprintf("step %d y", i), s.Y, f64s(p.Output(0)))
				check(fmt.Sprintf("step %d dx", i), s.Dx, gradOf(t, x))
				check(fmt.Sprintf("step %d dgamma", i), s.Dgamma, gradOf(t, gamma))
				check(fmt.Sprintf("step %d dbeta", i), s.Dbeta, gradOf(t, beta))
				check(fmt.Sprintf("step %d running_mean", i), s.RunningMean, f64s(state(t, p, "bn/running_mean")))
				check(fmt.Sprintf("step %d running_var", i), s.RunningVar, f64s(state(t, p, "bn/running_var")))
			}
			// Eval on the same program: nothing changes, no gradient accumulates.
			require.NoError(t, p.ZeroGrads())
			mean := append([]float64(nil), f64s(state(t, p, "bn/running_mean"))...)
			vr := append([]float64(nil), f64s(state(t, p, "bn/running_var"))...)
			p.SetMode(graph.Eval)
			copy(f64s(x.Value()), c.Eval.X)
			require.NoError(t, p.Run(graph.Feeds{"r": randTensor(1, c.Shape...)}))
			assert.Equal(t, mean, f64s(state(t, p, "bn/running_mean")), "eval changed the running mean")
			assert.Equal(t, vr, f64s(state(t, p, "bn/running_var")), "eval changed the running variance")
			assert.Equal(t, make([]float64, len(c.Gamma)), gradOf(t, gamma), "eval accumulated a gradient")
			// A second, forward-only program on the same builder: compiling it
			// resets nothing, and its output (not consumed by an in-place op,
			// see the report on Gorgonia's register reuse) is PyTorch's.
			ev, err := b.Compile(nil, y)
			require.NoError(t, err)
			defer ev.Close()
			assert.Equal(t, mean, f64s(state(t, ev, "bn/running_mean")), "compiling reset the running mean")
			ev.SetMode(graph.Eval)
			require.NoError(t, ev.Run(graph.Feeds{}))
			check("eval y", c.Eval.Y, f64s(ev.Output(0)))
		})
	}
	t.Logf("PyTorch %s: max relative error %.3g", golden.Torch, worst)
}

// constantInit fills a parameter with v.
func constantInit(v float64) graph.Initializer {
	return graph.InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
		vals := make([]float64, tensor.Shape(shape).TotalSize())
		for i := range vals {
			vals[i] = v
		}
		return dense(dt, vals, shape...), nil
	})
}

func TestBatchNormErrors(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		dt    tensor.Dtype
		opt   ops.BatchNormOptions
		err   error
		says  string
	}{
		{"momentum/negative", []int{4, 3}, tensor.Float64, ops.BatchNormOptions{Momentum: -0.1}, ops.ErrConfig, "Momentum = -0.1"},
		{"momentum/above-1", []int{4, 3}, tensor.Float64, ops.BatchNormOptions{Momentum: 1.5}, ops.ErrConfig, "Momentum = 1.5"},
		{"momentum/nan", []int{4, 3}, tensor.Float64, ops.BatchNormOptions{Momentum: math.NaN()}, ops.ErrConfig, "Momentum = NaN"},
		{"eps/negative", []int{4, 3}, tensor.Float64, ops.BatchNormOptions{Eps: -1e-5}, ops.ErrConfig, "Eps = -1e-05"},
		{"eps/inf", []int{4, 3}, tensor.Float64, ops.BatchNormOptions{Eps: math.Inf(1)}, ops.ErrConfig, "Eps = +Inf"},
		{"shape/rank-3", []int{4, 3, 2}, tensor.Float64, ops.BatchNormOptions{}, ops.ErrShape, "(4, 3, 2)"},
		{"shape/rank-1", []int{4}, tensor.Float64, ops.BatchNormOptions{}, ops.ErrShape, "(4)"},
		{"dtype/int", []int{4, 3}, tensor.Int, ops.BatchNormOptions{}, ops.ErrDtype, "int"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := graph.NewBuilder(1)
			x, err := b.Input("x", c.dt, c.shape...)
			require.NoError(t, err)
			y, err := ops.BatchNorm(b, "bn", x, c.opt)
			assert.Nil(t, y)
			require.ErrorIs(t, err, c.err)
			assert.Contains(t, err.Error(), `BatchNorm "bn"`)
			assert.Contains(t, err.Error(), c.says)
			_, err = b.Compile(nil, x)
			assert.ErrorIs(t, err, c.err, "the builder keeps the error")
		})
	}
	t.Run("duplicate-name", func(t *testing.T) {
		b := graph.NewBuilder(1)
		x, _ := b.Input("x", tensor.Float64, 4, 3)
		_, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{})
		require.NoError(t, err)
		_, err = ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{})
		require.ErrorIs(t, err, graph.ErrName)
		assert.Contains(t, err.Error(), "bn/gamma")
	})
	t.Run("one-value-per-feature", func(t *testing.T) {
		// A single example: fine in Eval mode (running statistics), an error
		// in Train mode (no batch statistics), as in PyTorch.
		b := graph.NewBuilder(1)
		x, _ := b.Input("x", tensor.Float64, 1, 3)
		y, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{})
		require.NoError(t, err)
		p, err := b.Compile(nil, y)
		require.NoError(t, err)
		defer p.Close()
		feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 2, 3}))}
		err = p.Run(feeds)
		require.ErrorIs(t, err, graph.ErrRun) // Gorgonia's tape does not keep the chain
		assert.Contains(t, err.Error(), ops.ErrShape.Error())
		assert.Contains(t, err.Error(), "at least 2")
		p.SetMode(graph.Eval)
		require.NoError(t, p.Run(feeds))
		eps := ops.DefaultBatchNormEps
		want := []float64{1 / math.Sqrt(1+eps), 2 / math.Sqrt(1+eps), 3 / math.Sqrt(1+eps)}
		assert.InDeltaSlice(t, want, p.Output(0).Data(), 1e-15, "y = (x − 0)/√(1 + ε) with the initial running statistics")
	})
	t.Run("nil-builder", func(t *testing.T) {
		_, err := ops.BatchNorm(nil, "bn", nil, ops.BatchNormOptions{})
		require.ErrorIs(t, err, ops.ErrBuild)
	})
}

// TestBatchNormFloat32 runs the float32 path against the float64 one: same
// outputs, gradients and running statistics to float32 precision.
func TestBatchNormFloat32(t *testing.T) {
	shape := []int{8, 3, 2, 2}
	out := map[tensor.Dtype][][]float64{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		b := graph.NewBuilder(5)
		x, _ := b.Param("x", dt, randn(2, 0), shape...)
		y, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{})
		require.NoError(t, err)
		loss, err := weightedSum(b, y)
		require.NoError(t, err)
		p, err := b.Compile(loss, y)
		require.NoError(t, err)
		r := dense(dt, f64s(randTensor(6, shape...)), shape...)
		require.NoError(t, p.Run(graph.Feeds{"r": r}))
		var vals [][]float64
		vals = append(vals, append([]float64(nil), toF64(p.Output(0))...))
		for _, n := range p.Params() {
			g, err := n.Grad()
			require.NoError(t, err)
			vals = append(vals, toF64(g))
		}
		for _, s := range p.States() {
			vals = append(vals, toF64(s.Value))
		}
		out[dt] = vals
		require.NoError(t, p.Close())
	}
	for i := range out[tensor.Float64] {
		assert.InDeltaSlice(t, out[tensor.Float64][i], out[tensor.Float32][i], 2e-5, "value %d", i)
	}
}

// TestBatchNormDistinctNodes: the op's string (and so its hash) names the
// layer, momentum and eps, so Gorgonia never merges two batch-norm nodes.
func TestBatchNormDistinctNodes(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 4, 3)
	y1, err := ops.BatchNorm(b, "bn1", x, ops.BatchNormOptions{})
	require.NoError(t, err)
	y2, err := ops.BatchNorm(b, "bn2", x, ops.BatchNormOptions{Momentum: 0.3, Eps: 1e-3})
	require.NoError(t, err)
	assert.NotSame(t, y1, y2)
	assert.NotEqual(t, y1.Op().Hashcode(), y2.Op().Hashcode())
	assert.Equal(t, `BatchNorm("bn1", momentum=0.1, eps=1e-05)`, y1.Op().String())
	assert.Equal(t, `BatchNorm("bn2", momentum=0.3, eps=0.001)`, y2.Op().String())
}
