package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// sgd is a hand-written SGD step: w −= lr·g, then g = 0.
func sgd[T float32 | float64](p *graph.Program, lr T) error {
	for _, n := range p.Params() {
		g, err := n.Grad()
		if err != nil {
			return err
		}
		w, gs := n.Value().Data().([]T), g.Data().([]T)
		for i := range w {
			w[i] -= lr * gs[i]
			gs[i] = 0
		}
	}
	return nil
}

// xorFeeds returns the four XOR cases, every case repeated rep times.
func xorFeeds(dt tensor.Dtype, rep int) graph.Feeds {
	var x []float64
	var y []int
	for range rep {
		x = append(x, 0, 0, 0, 1, 1, 0, 1, 1)
		y = append(y, 0, 1, 1, 0)
	}
	var xt *tensor.Dense
	if dt == tensor.Float32 {
		f := make([]float32, len(x))
		for i, v := range x {
			f[i] = float32(v)
		}
		xt = tensor.New(tensor.WithShape(len(y), 2), tensor.WithBacking(f))
	} else {
		xt = tensor.New(tensor.WithShape(len(y), 2), tensor.WithBacking(x))
	}
	return graph.Feeds{"x": xt, "y": tensor.New(tensor.WithShape(len(y)), tensor.WithBacking(y))}
}

func TestXOR(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			const batch, hidden = 8, 8
			b := graph.NewBuilder(5)
			x, _ := b.Input("x", dt, batch, 2)
			y, _ := b.Input("y", tensor.Int, batch)
			w1, _ := b.Param("w1", dt, normal, 2, hidden)
			b1, _ := b.Param("b1", dt, graph.FromInitWFn(gorgonia.Zeroes()), hidden)
			w2, _ := b.Param("w2", dt, normal, hidden, 2)
			b2, _ := b.Param("b2", dt, graph.FromInitWFn(gorgonia.Zeroes()), 2)
			h, err := ops.MatMul(x, w1)
			require.NoError(t, err)
			h, err = ops.BiasAdd(h, b1)
			require.NoError(t, err)
			h, err = ops.Tanh(h)
			require.NoError(t, err)
			logits, err := ops.MatMul(h, w2)
			require.NoError(t, err)
			logits, err = ops.BiasAdd(logits, b2)
			require.NoError(t, err)
			loss, err := ops.SoftmaxCrossEntropy(logits, y)
			require.NoError(t, err)
			p, err := b.Compile(loss, logits)
			require.NoError(t, err)
			defer p.Close()

			feeds := xorFeeds(dt, batch/4)
			first := 0.0
			for step := range 500 {
				require.NoError(t, p.Run(feeds))
				if step == 0 {
					first = p.Loss()
				}
				if dt == tensor.Float32 {
					require.NoError(t, sgd(p, float32(0.5)))
				} else {
					require.NoError(t, sgd(p, 0.5))
				}
			}
			p.SetMode(graph.Eval)
			require.NoError(t, p.Run(feeds))
			assert.Less(t, p.Loss(), 0.05*first, "loss %v → %v", first, p.Loss())
			correct := 0
			labels := feeds["y"].Data().([]int)
			out := p.Output(0)
			for i, want := range labels {
				a, _ := out.(tensor.Tensor).At(i, 0)
				c, _ := out.(tensor.Tensor).At(i, 1)
				pred := 0
				if toF64(c) > toF64(a) {
					pred = 1
				}
				if pred == want {
					correct++
				}
			}
			assert.GreaterOrEqual(t, float64(correct)/float64(len(labels)), 0.99)
		})
	}
}

func toF64(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	panic(v)
}
