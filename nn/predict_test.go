package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
)

// TestPredictMemoryIsBounded: requests of every size from 1 to 300 compile
// at most log2(PredictBatch)+2 programs, and each example's prediction is
// the one it gets alone (up to the last bits of a batched product), padding
// or not.
func TestPredictMemoryIsBounded(t *testing.T) {
	m, err := nn.NewClassifier(1, tensor.Float64, []int{3}, nn.NewSequential(nn.Dense(8), nn.BatchNorm(), nn.ReLU(), nn.Dense(4)))
	require.NoError(t, err)
	defer m.Close()
	m.PredictBatch = 64
	rng := rand.New(rand.NewPCG(1, 1))
	all := make([]float64, 3*300)
	for i := range all {
		all[i] = rng.NormFloat64()
	}
	alone := make([][]float64, 300)
	for i := range alone {
		y, err := m.Predict(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking(append([]float64(nil), all[3*i:3*i+3]...))))
		require.NoError(t, err)
		alone[i] = y.Float64s()
	}
	for n := 1; n <= 300; n++ {
		y, err := m.Predict(tensor.New(tensor.WithShape(n, 3), tensor.WithBacking(append([]float64(nil), all[:3*n]...))))
		require.NoError(t, err)
		require.Equal(t, tensor.Shape{n, 4}, y.Shape())
		for i := range n {
			assert.InDeltaSlice(t, alone[i], y.Float64s()[4*i:4*i+4], 1e-12, "n=%d example %d", n, i)
		}
	}
	assert.LessOrEqual(t, m.Predictors(), 8, "sizes 1, 2, 4, …, 64: seven programs")
	p, err := m.Infer(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(all[:6])))
	require.NoError(t, err)
	for i := range 2 {
		sum := 0.0
		for _, v := range p.Float64s()[4*i : 4*i+4] {
			assert.Greater(t, v, 0.0)
			sum += v
		}
		assert.InDelta(t, 1, sum, 1e-12, "Infer gives a classifier's probabilities")
	}
	_, err = m.Predict(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4})))
	assert.ErrorIs(t, err, nn.ErrInput)
}

// TestLayerFuncScope: a LayerFunc gets its scope name, so the same block
// used twice makes two sets of parameters instead of colliding.
func TestLayerFuncScope(t *testing.T) {
	block := nn.LayerFunc(func(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		return nn.Dense(x.Shape()[1]).Apply(b, name+"/fc", x)
	})
	m, err := nn.NewClassifier(1, tensor.Float64, []int{3}, nn.NewSequential(block, nn.ReLU(), block, nn.Dense(2)))
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Program(2)
	require.NoError(t, err)
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name())
	}
	assert.Equal(t, []string{"func1/fc/w", "func1/fc/b", "func2/fc/w", "func2/fc/b", "dense1/w", "dense1/b"}, names)
}
