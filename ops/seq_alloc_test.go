package ops_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/ops"
)

// The recurrences allocate nothing per step: a forward and backward run of
// LSTM and GRU allocates as much at T = 64 as at T = 2 (Gorgonia's tape
// allocates a little per node, the same for both).
func TestRecurrenceAllocsIndependentOfSteps(t *testing.T) {
	allocs := func(cell string, steps int) float64 {
		g := gorgonia.NewGraph()
		node := func(name string, shape ...int) *gorgonia.Node {
			v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(randTensor(uint64(len(name)), shape...).Float64s()))
			return gorgonia.NewTensor(g, tensor.Float64, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
		}
		const n, in, h = 3, 4, 5
		gates := map[string]int{"lstm": 4, "gru": 3}[cell]
		x, h0 := node("x", n, steps, in), node("h0", n, h)
		wih, whh, bih, bhh := node("wih", gates*h, in), node("whh", gates*h, h), node("bih", gates*h), node("bhh", gates*h)
		var y *gorgonia.Node
		var err error
		if cell == "lstm" {
			y, _, _, err = ops.LSTM(x, h0, node("c0", n, h), wih, whh, bih, bhh)
		} else {
			y, _, err = ops.GRU(x, h0, wih, whh, bih, bhh)
		}
		require.NoError(t, err)
		_, err = gorgonia.Backpropagate(gorgonia.Nodes{y}, gorgonia.Nodes{node("dy", n, steps, h)}, gorgonia.Nodes{x, wih, whh, bih, bhh})
		require.NoError(t, err)
		vm := gorgonia.NewTapeMachine(g)
		defer vm.Close()
		run := func() {
			vm.Reset()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
		}
		run()
		return testing.AllocsPerRun(5, run)
	}
	for _, cell := range []string{"lstm", "gru"} {
		t.Run(cell, func(t *testing.T) {
			short, long := allocs(cell, 2), allocs(cell, 64)
			t.Log(fmt.Sprintf("%s: %.0f allocations per run at T = 2, %.0f at T = 64", cell, short, long))
			require.Equal(t, short, long)
		})
	}
}

// The sequence ops give the same bits on one core as on several (float32,
// the path that splits work: rows of a step, attention items, layer-norm
// blocks, internal/sgemm's products).
func TestSeqOpsIndependentOfCores(t *testing.T) {
	run := func(workers int) [][]float32 {
		defer parallel.SetParallelism(parallel.SetParallelism(workers))
		g := gorgonia.NewGraph()
		node := func(name string, shape ...int) *gorgonia.Node {
			v := dense(tensor.Float32, randTensor(uint64(len(name)*7), shape...).Float64s(), shape...)
			return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
		}
		const n, steps, in, h = 9, 5, 6, 64
		x := node("x", n, steps, in)
		y, _, _, err := ops.LSTM(x, node("h0", n, h), node("c0", n, h), node("wih", 4*h, in), node("whh", 4*h, h), node("bih", 4*h), node("bhh", 4*h))
		require.NoError(t, err)
		ln, err := ops.LayerNorm(y, node("gamma", h), node("beta", h), ops.LayerNormOptions{})
		require.NoError(t, err)
		q, err := ops.Reshape(ln, n, 4, steps, 16)
		require.NoError(t, err)
		a, err := ops.Attention(q, q, q, ops.AttentionOptions{Causal: true})
		require.NoError(t, err)
		grads, err := gorgonia.Backpropagate(gorgonia.Nodes{a}, gorgonia.Nodes{node("dy", a.Shape()...)}, gorgonia.Nodes{x})
		require.NoError(t, err)
		vm := gorgonia.NewTapeMachine(g)
		defer vm.Close()
		require.NoError(t, vm.RunAll())
		return [][]float32{append([]float32(nil), a.Value().Data().([]float32)...), append([]float32(nil), grads[0].Value().Data().([]float32)...)}
	}
	one, two := run(1), run(2)
	for i := range one {
		require.Equal(t, one[i], two[i], "output %d", i)
	}
}
