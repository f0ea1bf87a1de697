package ops_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// bnModel is x(16,6) → MatMul → BatchNorm → ReLU → Dropout(0.3) → MatMul →
// SoftmaxCrossEntropy, float64.
type bnModel struct {
	b      *graph.Builder
	prog   *graph.Program
	logits *gorgonia.Node
	feeds  graph.Feeds
}

func newBNModel(t *testing.T) *bnModel {
	t.Helper()
	b := graph.NewBuilder(2026)
	x, _ := b.Input("x", tensor.Float64, 16, 6)
	labels, _ := b.Input("y", tensor.Int, 16)
	w1, _ := b.Param("w1", tensor.Float64, randn(0.5, 0), 6, 8)
	w2, _ := b.Param("w2", tensor.Float64, randn(0.5, 0), 8, 3)
	h, err := ops.MatMul(x, w1)
	require.NoError(t, err)
	h, err = ops.BatchNorm(b, "bn1", h, ops.BatchNormOptions{})
	require.NoError(t, err)
	h, err = ops.ReLU(h)
	require.NoError(t, err)
	h, err = ops.Dropout(b, h, 0.3)
	require.NoError(t, err)
	logits, err := ops.MatMul(h, w2)
	require.NoError(t, err)
	loss, err := ops.SoftmaxCrossEntropy(logits, labels)
	require.NoError(t, err)
	prog, err := b.Compile(loss, logits)
	require.NoError(t, err)
	t.Cleanup(func() { prog.Close() })
	ys := make([]int, 16)
	for i := range ys {
		ys[i] = i % 3
	}
	return &bnModel{b: b, prog: prog, logits: logits, feeds: graph.Feeds{
		"x": randTensor(30, 16, 6), "y": tensor.New(tensor.WithShape(16), tensor.WithBacking(ys)),
	}}
}

// sgd runs one training step and a hand-written SGD update, returning the loss.
func (m *bnModel) sgd(t *testing.T) float64 {
	t.Helper()
	require.Equal(t, graph.Train, m.prog.Mode())
	require.NoError(t, m.prog.Run(m.feeds))
	for _, n := range m.prog.Params() {
		w, g := f64s(n.Value()), gradOf(t, n)
		for i := range w {
			w[i] -= 0.1 * g[i]
		}
	}
	require.NoError(t, m.prog.ZeroGrads())
	return m.prog.Loss()
}

// snapshot copies every parameter and state.
func (m *bnModel) snapshot() map[string][]float64 {
	s := map[string][]float64{}
	for _, n := range m.prog.Params() {
		s[n.Name()] = append([]float64(nil), f64s(n.Value())...)
	}
	for _, st := range m.prog.States() {
		s[st.Name] = append([]float64(nil), f64s(st.Value)...)
	}
	return s
}

// TestBNDropoutModelEvalInterleaved trains a model with BN and dropout,
// interrupts training with Eval runs (on the same program, and on a second
// program compiled on the same builder), and checks that training continues
// bit for bit as in an uninterrupted run.
func TestBNDropoutModelEvalInterleaved(t *testing.T) {
	const steps = 6
	ref := newBNModel(t)
	var refLoss []float64
	for range steps {
		refLoss = append(refLoss, ref.sgd(t))
	}
	want := ref.snapshot()

	t.Run("eval-on-same-program", func(t *testing.T) {
		m := newBNModel(t)
		var loss []float64
		for i := range steps {
			if i == steps/2 {
				before := m.snapshot()
				m.prog.SetMode(graph.Eval)
				var outs [][]float64
				for range 2 {
					require.NoError(t, m.prog.Run(m.feeds))
					outs = append(outs, append([]float64(nil), f64s(m.prog.Output(0))...))
				}
				assert.Equal(t, outs[0], outs[1], "eval is deterministic (no dropout, running statistics)")
				assert.Equal(t, before, m.snapshot(), "eval changed a parameter or a state")
				for _, n := range m.prog.Params() {
					assert.Equal(t, make([]float64, n.Shape().TotalSize()), gradOf(t, n), "eval accumulated a gradient in %s", n.Name())
				}
				m.prog.SetMode(graph.Train)
			}
			loss = append(loss, m.sgd(t))
		}
		assert.Equal(t, refLoss, loss)
		assert.Equal(t, want, m.snapshot())
	})

	t.Run("second-program-on-same-builder", func(t *testing.T) {
		m := newBNModel(t)
		var loss []float64
		for i := range steps {
			if i == steps/2 {
				ev, err := m.b.Compile(nil, m.logits)
				require.NoError(t, err)
				ev.SetMode(graph.Eval)
				require.NoError(t, ev.Run(graph.Feeds{"x": m.feeds["x"]}))
				require.NoError(t, ev.Close())
			}
			loss = append(loss, m.sgd(t))
		}
		assert.Equal(t, refLoss, loss)
		assert.Equal(t, want, m.snapshot())
	})

	t.Run("states-are-settable", func(t *testing.T) {
		m := newBNModel(t)
		m.sgd(t)
		m.prog.SetMode(graph.Eval)
		require.NoError(t, m.prog.Run(m.feeds))
		l1 := m.prog.Loss()
		// Running variance ×4 halves the normalized pre-activations: another loss.
		for i, v := range f64s(state(t, m.prog, "bn1/running_var")) {
			f64s(state(t, m.prog, "bn1/running_var"))[i] = 4 * v
		}
		require.NoError(t, m.prog.Run(m.feeds))
		assert.NotEqual(t, l1, m.prog.Loss())
	})
}
