package ops_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// randn is a seeded N(0, std²) initializer for tests; away, when positive,
// pushes values out of (−away, away) so kinks (ReLU at 0) stay out of reach
// of the finite-difference step.
func randn(std, away float64) graph.Initializer {
	return graph.InitializerFunc(func(seed uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
		r := rand.New(rand.NewPCG(seed, 1))
		n := tensor.Shape(shape).TotalSize()
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64() * std
			if math.Abs(v[i]) < away {
				v[i] = math.Copysign(away, v[i]) + v[i]
			}
		}
		return dense(dt, v, shape...), nil
	})
}

// dense returns vals as a tensor of dtype dt (float32 or float64).
func dense(dt tensor.Dtype, vals []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	}
	f := make([]float32, len(vals))
	for i, v := range vals {
		f[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

func randTensor(seed uint64, shape ...int) *tensor.Dense {
	t, err := randn(1, 0).Initialize(seed, tensor.Float64, shape...)
	if err != nil {
		panic(err)
	}
	return t.(*tensor.Dense)
}

// weightedSum returns sum(y ⊙ r) with r a fed input, a scalar loss whose
// gradient with respect to y is r.
func weightedSum(b *graph.Builder, y *gorgonia.Node) (*gorgonia.Node, error) {
	r, err := b.Input("r", y.Dtype(), y.Shape()...)
	if err != nil {
		return nil, err
	}
	p, err := gorgonia.HadamardProd(y, r)
	if err != nil {
		return nil, err
	}
	return gorgonia.Sum(p)
}

func TestGradients(t *testing.T) {
	type build func(b *graph.Builder, rows, cols int) (loss *gorgonia.Node, feeds graph.Feeds, err error)
	unary := func(op func(*gorgonia.Node) (*gorgonia.Node, error), away float64) build {
		return func(b *graph.Builder, rows, cols int) (*gorgonia.Node, graph.Feeds, error) {
			x, err := b.Param("x", tensor.Float64, randn(1, away), rows, cols)
			if err != nil {
				return nil, nil, err
			}
			y, err := op(x)
			if err != nil {
				return nil, nil, err
			}
			loss, err := weightedSum(b, y)
			return loss, graph.Feeds{"r": randTensor(7, rows, cols)}, err
		}
	}
	cases := map[string]build{
		"Tanh":    unary(ops.Tanh, 0),
		"Sigmoid": unary(ops.Sigmoid, 0),
		"ReLU":    unary(ops.ReLU, 1e-3),
		"MatMul": func(b *graph.Builder, rows, cols int) (*gorgonia.Node, graph.Feeds, error) {
			a, _ := b.Param("a", tensor.Float64, randn(1, 0), rows, cols)
			w, _ := b.Param("w", tensor.Float64, randn(1, 0), cols, 3)
			y, err := ops.MatMul(a, w)
			if err != nil {
				return nil, nil, err
			}
			loss, err := weightedSum(b, y)
			return loss, graph.Feeds{"r": randTensor(7, rows, 3)}, err
		},
		"BiasAdd": func(b *graph.Builder, rows, cols int) (*gorgonia.Node, graph.Feeds, error) {
			x, _ := b.Param("x", tensor.Float64, randn(1, 0), rows, cols)
			bias, _ := b.Param("bias", tensor.Float64, randn(1, 0), cols)
			y, err := ops.BiasAdd(x, bias)
			if err != nil {
				return nil, nil, err
			}
			loss, err := weightedSum(b, y)
			return loss, graph.Feeds{"r": randTensor(7, rows, cols)}, err
		},
		"SoftmaxCrossEntropy": func(b *graph.Builder, rows, cols int) (*gorgonia.Node, graph.Feeds, error) {
			z, _ := b.Param("z", tensor.Float64, randn(3, 0), rows, cols)
			y, err := b.Input("y", tensor.Int, rows)
			if err != nil {
				return nil, nil, err
			}
			loss, err := ops.SoftmaxCrossEntropy(z, y)
			labels := make([]int, rows)
			for i := range labels {
				labels[i] = (i * 7) % cols
			}
			return loss, graph.Feeds{"y": tensor.New(tensor.WithShape(rows), tensor.WithBacking(labels))}, err
		},
	}
	shapes := [][2]int{{3, 4}, {8, 5}, {1, 10}}
	for name, mk := range cases {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%s/shape=%dx%d", name, s[0], s[1]), func(t *testing.T) {
				b := graph.NewBuilder(42)
				loss, feeds, err := mk(b, s[0], s[1])
				require.NoError(t, err)
				p, err := b.Compile(loss)
				require.NoError(t, err)
				defer p.Close()
				res, err := gradcheck.Check(p, feeds, gradcheck.Options{})
				require.NoError(t, err)
				for _, r := range res {
					assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
				}
			})
		}
	}
}

func TestSoftmaxCrossEntropyStable(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			b := graph.NewBuilder(1)
			logits := []float64{1000, -1000, 0, -1000, 1000, 999, 0, 0, 0}
			z, err := b.Param("z", dt, graph.InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
				return dense(dt, append([]float64(nil), logits...), shape...), nil
			}), 3, 3)
			require.NoError(t, err)
			y, _ := b.Input("y", tensor.Int, 3)
			loss, err := ops.SoftmaxCrossEntropy(z, y)
			require.NoError(t, err)
			p, err := b.Compile(loss)
			require.NoError(t, err)
			labels := []int{1, 2, 0}
			require.NoError(t, p.Run(graph.Feeds{"y": tensor.New(tensor.WithShape(3), tensor.WithBacking(labels))}))
			// Row losses by hand: 2000; 1000 − 999 + log(1 + e⁻¹); log 3.
			want := (2000 + (1 + math.Log1p(math.Exp(-1))) + math.Log(3)) / 3
			assert.InDelta(t, want, p.Loss(), 1e-4*want)
			g, err := z.Grad()
			require.NoError(t, err)
			var gs []float64
			switch d := g.Data().(type) {
			case []float64:
				gs = d
			case []float32:
				for _, v := range d {
					gs = append(gs, float64(v))
				}
			}
			for i, v := range gs {
				assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "gradient %d is %v", i, v)
			}
			// Row 0: softmax ≈ (1, 0, 0), label 1 → gradient (1, −1, 0)/3.
			assert.InDelta(t, 1.0/3, gs[0], 1e-6)
			assert.InDelta(t, -1.0/3, gs[1], 1e-6)
		})
	}
}

func TestSoftmaxCrossEntropyLabelOutOfRange(t *testing.T) {
	b := graph.NewBuilder(1)
	z, _ := b.Param("z", tensor.Float64, randn(1, 0), 2, 3)
	y, _ := b.Input("y", tensor.Int, 2)
	loss, err := ops.SoftmaxCrossEntropy(z, y)
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	err = p.Run(graph.Feeds{"y": tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 3}))})
	require.Error(t, err)
	assert.ErrorIs(t, err, graph.ErrRun)
	assert.Contains(t, err.Error(), "label 3 at row 1")
}

func TestShapeErrors(t *testing.T) {
	b := graph.NewBuilder(1)
	a, _ := b.Param("a", tensor.Float64, randn(1, 0), 2, 3)
	w, _ := b.Param("w", tensor.Float64, randn(1, 0), 4, 5)
	v, _ := b.Param("v", tensor.Float64, randn(1, 0), 4)
	f32, _ := b.Param("f32", tensor.Float32, randn(1, 0), 3, 5)
	yf, _ := b.Input("yf", tensor.Float64, 2)
	yi, _ := b.Input("yi", tensor.Int, 5)
	cases := []struct {
		name  string
		build func() (*gorgonia.Node, error)
		err   error
		says  []string
	}{
		{"MatMul/inner", func() (*gorgonia.Node, error) { return ops.MatMul(a, w) }, ops.ErrShape, []string{"MatMul", "(2, 3)", "(4, 5)"}},
		{"MatMul/dtype", func() (*gorgonia.Node, error) { return ops.MatMul(a, f32) }, ops.ErrDtype, []string{"MatMul", "float64", "float32"}},
		{"BiasAdd/width", func() (*gorgonia.Node, error) { return ops.BiasAdd(a, v) }, ops.ErrShape, []string{"BiasAdd", "(2, 3)", "(4)"}},
		{"BiasAdd/rank", func() (*gorgonia.Node, error) { return ops.BiasAdd(v, v) }, ops.ErrShape, []string{"BiasAdd"}},
		{"Tanh/int", func() (*gorgonia.Node, error) { return ops.Tanh(yi) }, ops.ErrDtype, []string{"Tanh", "int"}},
		{"ReLU/nil", func() (*gorgonia.Node, error) { return ops.ReLU(nil) }, ops.ErrBuild, []string{"ReLU"}},
		{"Xent/labels-dtype", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(a, yf) }, ops.ErrDtype, []string{"SoftmaxCrossEntropy", "float64"}},
		{"Xent/batch", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(a, yi) }, ops.ErrShape, []string{"SoftmaxCrossEntropy", "(2, 3)", "(5)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.build()
			assert.Nil(t, n)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.err), "%v is not %v", err, c.err)
			for _, s := range c.says {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	out := map[tensor.Dtype][]float64{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		b := graph.NewBuilder(3)
		x, _ := b.Param("x", dt, randn(1, 0), 4, 6)
		w, _ := b.Param("w", dt, randn(0.5, 0), 6, 3)
		bias, _ := b.Param("bias", dt, randn(1, 0), 3)
		y, _ := b.Input("y", tensor.Int, 4)
		h, err := ops.MatMul(x, w)
		require.NoError(t, err)
		h, err = ops.BiasAdd(h, bias)
		require.NoError(t, err)
		h, err = ops.Tanh(h)
		require.NoError(t, err)
		loss, err := ops.SoftmaxCrossEntropy(h, y)
		require.NoError(t, err)
		p, err := b.Compile(loss)
		require.NoError(t, err)
		require.NoError(t, p.Run(graph.Feeds{"y": tensor.New(tensor.WithShape(4), tensor.WithBacking([]int{0, 1, 2, 1}))}))
		g, err := w.Grad()
		require.NoError(t, err)
		vals := []float64{p.Loss()}
		switch d := g.Data().(type) {
		case []float64:
			vals = append(vals, d...)
		case []float32:
			for _, v := range d {
				vals = append(vals, float64(v))
			}
		}
		out[dt] = vals
	}
	assert.InDeltaSlice(t, out[tensor.Float64], out[tensor.Float32], 1e-5)
}
