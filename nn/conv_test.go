package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/ops"
)

func convNet() *nn.Sequential {
	return nn.NewSequential(
		nn.Conv2D(4, [2]int{3, 3}, ops.ConvOptions{Padding: [2]int{1, 1}}), nn.BatchNorm(), nn.ReLU(),
		nn.MaxPool2D(ops.PoolOptions{Kernel: [2]int{2, 2}}),
		nn.Conv2D(5, [2]int{3, 2}, ops.ConvOptions{Stride: [2]int{1, 2}}, nn.NoBias()),
		nn.AvgPool2D(ops.PoolOptions{Kernel: [2]int{2, 1}}),
		nn.Flatten(), nn.Dense(3))
}

// TestConvLayersShapesAndNames: a small CNN on (2, 8, 6) images infers every
// shape, names its parameters by layer, and its summary counts them.
func TestConvLayersShapesAndNames(t *testing.T) {
	m, err := nn.NewClassifier(1, tensor.Float64, []int{2, 8, 6}, convNet())
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Program(3)
	require.NoError(t, err)
	shapes := map[string]tensor.Shape{}
	for _, p := range m.Params() {
		shapes[p.Name()] = p.Shape()
	}
	assert.Equal(t, map[string]tensor.Shape{
		"conv2d1/w": {4, 2, 3, 3}, "conv2d1/b": {4}, "batchnorm1/gamma": {4}, "batchnorm1/beta": {4},
		"conv2d2/w": {5, 4, 3, 2}, "dense1/w": {5 * 1 * 1, 3}, "dense1/b": {3},
	}, shapes)
	s, err := m.Summary()
	require.NoError(t, err)
	for _, want := range []string{"conv2d1     conv2d     (N, 4, 8, 6)", "maxpool2d1  maxpool2d  (N, 4, 4, 3)",
		"conv2d2     conv2d     (N, 5, 2, 1)", "avgpool2d1  avgpool2d  (N, 5, 1, 1)", "flatten1    flatten    (N, 5)"} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 72+4+8+120+15+3, m.ParamCount())
}

// TestConvClassifierGradients: finite differences agree with the tape's
// gradients through every conv layer of the network.
func TestConvClassifierGradients(t *testing.T) {
	m, err := nn.NewClassifier(2, tensor.Float64, []int{2, 8, 6}, convNet())
	require.NoError(t, err)
	defer m.Close()
	p, err := m.Program(3)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 3*2*8*6)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	feeds := graph.Feeds{
		"x": tensor.New(tensor.WithShape(3, 2, 8, 6), tensor.WithBacking(x)),
		"y": tensor.New(tensor.WithShape(3), tensor.WithBacking([]int{0, 2, 1})),
	}
	res, err := gradcheck.Check(p, feeds, gradcheck.Options{})
	require.NoError(t, err)
	assert.Less(t, gradcheck.MaxRelErr(res), 1e-6, "%v", res)
}

func TestConvLayerErrors(t *testing.T) {
	cases := []struct {
		name   string
		layers []nn.Layer
		says   string
	}{
		{"conv-on-vectors", []nn.Layer{nn.Flatten(), nn.Conv2D(2, [2]int{3, 3}, ops.ConvOptions{})}, "layer conv2d1 (conv2d): input shape (4, 96), want (batch, channels, height, width)"},
		{"kernel-too-large", []nn.Layer{nn.Conv2D(2, [2]int{9, 3}, ops.ConvOptions{})}, "layer conv2d1 (conv2d): ops: shape mismatch: Conv2D"},
		{"zero-filters", []nn.Layer{nn.Conv2D(0, [2]int{3, 3}, ops.ConvOptions{})}, "0 filters"},
		{"pool-on-vectors", []nn.Layer{nn.Flatten(), nn.MaxPool2D(ops.PoolOptions{Kernel: [2]int{2, 2}})}, "layer maxpool2d1 (maxpool2d): input shape (4, 96)"},
		{"pool-kernel-zero", []nn.Layer{nn.AvgPool2D(ops.PoolOptions{})}, "layer avgpool2d1 (avgpool2d)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := nn.NewClassifier(1, tensor.Float64, []int{2, 8, 6}, nn.NewSequential(append(c.layers, nn.Flatten(), nn.Dense(2))...))
			require.NoError(t, err)
			defer m.Close()
			_, err = m.Program(4)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}
