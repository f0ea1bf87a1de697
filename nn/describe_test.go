package nn_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/ops"
)

func TestDescribe(t *testing.T) {
	block := nn.NewSequential(nn.Dense(8), nn.BatchNormWith(ops.BatchNormOptions{Eps: 1e-3}), nn.Tanh())
	m, err := nn.NewClassifier(1, tensor.Float32, []int{1, 8, 8}, nn.NewSequential(
		nn.Named("conv", nn.Conv2D(2, [2]int{3, 3}, ops.ConvOptions{Padding: [2]int{1, 1}, Stride: [2]int{0, 2}})),
		nn.MaxPool2D(ops.PoolOptions{Kernel: [2]int{2, 2}}),
		nn.AvgPool2D(ops.PoolOptions{Kernel: [2]int{2, 1}, Stride: [2]int{1, 0}}),
		nn.Reshape(12), nn.Named("block", block), nn.Dropout(0.5), nn.Dense(3),
	))
	require.NoError(t, err)
	defer m.Close()
	d, err := m.Describe()
	require.NoError(t, err)
	require.Equal(t, []int{1, 8, 8}, d.Input)
	require.Equal(t, tensor.Float32, d.Dtype)
	type row struct {
		Name, Kind string
		In, Out    []int
		Params     []string
		States     []string
		Attrs      any
	}
	var got []row
	for _, l := range d.Layers {
		got = append(got, row{l.Name, l.Kind, l.In, l.Out, l.Params, l.States, l.Attrs})
	}
	require.Equal(t, []row{
		{"conv", "conv2d", []int{1, 8, 8}, []int{2, 8, 4}, []string{"conv/w", "conv/b"}, nil,
			ops.ConvOptions{Stride: [2]int{1, 2}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 1}}},
		{"maxpool2d1", "maxpool2d", []int{2, 8, 4}, []int{2, 4, 2}, nil, nil, ops.PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}},
		{"avgpool2d1", "avgpool2d", []int{2, 4, 2}, []int{2, 3, 2}, nil, nil, ops.PoolOptions{Kernel: [2]int{2, 1}, Stride: [2]int{1, 1}}},
		{"reshape1", "reshape", []int{2, 3, 2}, []int{12}, nil, nil, []int{12}},
		{"block/dense1", "dense", []int{12}, []int{8}, []string{"block/dense1/w", "block/dense1/b"}, nil, nil},
		{"block/batchnorm1", "batchnorm", []int{8}, []int{8}, []string{"block/batchnorm1/gamma", "block/batchnorm1/beta"},
			[]string{"block/batchnorm1/running_mean", "block/batchnorm1/running_var"}, ops.BatchNormOptions{Momentum: 0.1, Eps: 1e-3}},
		{"block/tanh1", "tanh", []int{8}, []int{8}, nil, nil, nil},
		{"dropout1", "dropout", []int{8}, []int{8}, nil, []string{"dropout#0/step"}, nil},
		{"dense1", "dense", []int{8}, []int{3}, []string{"dense1/w", "dense1/b"}, nil, nil},
	}, got)

	// The names are the model's: Tensor finds each one once a program exists.
	_, ok := m.Tensor("conv/w")
	require.False(t, ok, "no program yet")
	_, err = m.Program(2)
	require.NoError(t, err)
	for _, l := range d.Layers {
		for _, name := range append(l.Params, l.States...) {
			v, ok := m.Tensor(name)
			require.True(t, ok, name)
			require.NotNil(t, v, name)
		}
	}
	_, ok = m.Tensor("nope")
	require.False(t, ok)

	plain, err := nn.NewModel(1, nil)
	require.Error(t, err)
	require.Nil(t, plain)
}
