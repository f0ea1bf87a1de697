package nn_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
)

// seqLayersGolden is nn/testdata/seq_layers.json (gen_seq_layers.py).
type seqLayersGolden struct {
	Torch string
	Cases []struct {
		Name, Kind             string
		N, T, E, Heads, Hidden int
		Causal                 bool
		X, R, Y, DX            []float64
		Params                 map[string]struct {
			Shape       []int
			Value, Grad []float64
		}
	}
}

// TestSeqLayersMatchTorch checks MultiHeadAttention against
// torch.nn.MultiheadAttention and TransformerBlock against
// torch.nn.TransformerEncoderLayer(norm_first=True, activation="gelu") given
// the same weights: outputs, dx and every parameter's gradient.
func TestSeqLayersMatchTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/seq_layers.json")
	require.NoError(t, err)
	var gold seqLayersGolden
	require.NoError(t, json.Unmarshal(raw, &gold))
	seen := map[string]bool{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := map[tensor.Dtype]float64{tensor.Float64: 1e-10, tensor.Float32: 2e-4}[dt]
		for _, c := range gold.Cases {
			t.Run(dt.String()+"/"+c.Name, func(t *testing.T) {
				seen[c.Kind] = true
				b := graph.NewBuilder(1)
				x, err := b.Param("x", dt, values(c.X), c.N, c.T, c.E)
				require.NoError(t, err)
				var opts []nn.Option
				if c.Causal {
					opts = append(opts, nn.Causal())
				}
				var l nn.Layer = nn.MultiHeadAttention(c.Heads, opts...)
				name := "attention1"
				if c.Kind == "transformer" {
					l, name = nn.TransformerBlock(c.Heads, c.Hidden, 0, opts...), "transformer1"
				}
				y, err := l.Apply(b, name, x)
				require.NoError(t, err)
				params := map[string]*gorgonia.Node{}
				for _, p := range b.Params()[1:] {
					params[p.Name()] = p
				}
				require.Len(t, params, len(c.Params))
				for n, want := range c.Params {
					p, ok := params[n]
					require.True(t, ok, "no parameter %s", n)
					require.Equal(t, want.Shape, []int(p.Shape()), n)
					setValues(t, p, want.Value)
				}
				r, err := b.Input("r", dt, y.Shape()...)
				require.NoError(t, err)
				prod, err := gorgonia.HadamardProd(y, r)
				require.NoError(t, err)
				loss, err := gorgonia.Sum(prod)
				require.NoError(t, err)
				prog, err := b.Compile(loss, y)
				require.NoError(t, err)
				defer prog.Close()
				require.NoError(t, prog.Run(graph.Feeds{"r": denseOf(dt, c.R, y.Shape()...)}))
				assert.InDeltaSlice(t, c.Y, f64(prog.Output(0).Data()), tol, "y")
				assert.InDeltaSlice(t, c.DX, grad(t, x), tol, "dx")
				for n, want := range c.Params {
					assert.InDeltaSlice(t, want.Grad, grad(t, params[n]), tol, "d %s", n)
				}
			})
		}
	}
	assert.True(t, seen["attention"] && seen["transformer"], "golden cases for both layers")
}

func values(v []float64) graph.Initializer {
	return graph.InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
		return denseOf(dt, v, shape...), nil
	})
}

func denseOf(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

func setValues(t *testing.T, p *gorgonia.Node, v []float64) {
	t.Helper()
	switch d := p.Value().Data().(type) {
	case []float64:
		require.Len(t, d, len(v))
		copy(d, v)
	case []float32:
		require.Len(t, d, len(v))
		for i, x := range v {
			d[i] = float32(x)
		}
	}
}

func f64(d any) []float64 {
	switch v := d.(type) {
	case []float64:
		return v
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

func grad(t *testing.T, n *gorgonia.Node) []float64 {
	t.Helper()
	g, err := n.Grad()
	require.NoError(t, err)
	return f64(g.Data())
}
