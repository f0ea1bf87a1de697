package tabular_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/models/tabular"
	"github.com/gradlab/gradlab/nn"
)

func TestFitAndNew(t *testing.T) {
	x := []float32{1, 10, 2, 20, 3, 30, 4, 40}
	d, err := datasets.FromValues(x, []int{2}, []float32{100, 200, 300, 400}, nil)
	require.NoError(t, err)
	c, err := tabular.Fit(tabular.Default(), d)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Inputs)
	assert.Zero(t, c.Classes, "float targets: a regressor")
	assert.Equal(t, []float64{2.5, 25}, c.Mean)
	assert.InDelta(t, math.Sqrt(1.25), c.Std[0], 1e-12)
	assert.InDelta(t, 10*math.Sqrt(1.25), c.Std[1], 1e-12)
	assert.Equal(t, 250.0, c.TargetMean)
	m, err := tabular.New(c)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, nn.Values, m.Loss().Kind())
	y, err := m.Infer(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{2.5, 25})))
	require.NoError(t, err)
	assert.Equal(t, tensor.Shape{1}, y.Shape(), "one value per row")
	assert.InDelta(t, 250, y.Float32s()[0], 3*c.TargetStd, "the output is in the target's units: around its mean at the mean input")

	labels, err := datasets.FromSlices(x, []int{2}, []int{0, 1, 2, 1}, 3)
	require.NoError(t, err)
	c, err = tabular.Fit(tabular.Default(), labels)
	require.NoError(t, err)
	assert.Equal(t, 3, c.Classes)
	assert.Zero(t, c.TargetStd)
	m, err = tabular.New(c)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, nn.Classes, m.Loss().Kind())

	bad := tabular.Default()
	_, err = tabular.New(bad)
	assert.ErrorIs(t, err, tabular.ErrConfig, "not fitted")
	bad.Dropout = 1
	assert.ErrorIs(t, bad.ValidateChoices(), tabular.ErrConfig)
}

func ExampleConfig_Name() {
	c := tabular.Default()
	c.Inputs, c.Classes = 13, 3
	fmt.Println(c.Name())
	c.Classes = 0
	fmt.Println(c.Name())
	// Output:
	// tabular 13-[64 64]-3
	// tabular 13-[64 64]-regression
}
