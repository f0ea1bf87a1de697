package datasets_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
)

func TestFromSlicesErrors(t *testing.T) {
	cases := []struct {
		name    string
		x       []float64
		shape   []int
		labels  []int
		classes int
		says    string
	}{
		{"length", make([]float64, 5), []int{2}, []int{0, 1}, 2, "5 features for 2 labels of shape [2]: want 2·2 = 4"},
		{"label-high", make([]float64, 4), []int{2}, []int{0, 2}, 2, "label of example 1 is 2, outside [0, 2)"},
		{"label-negative", make([]float64, 4), []int{2}, []int{-1, 0}, 2, "label of example 0 is -1"},
		{"nan", []float64{0, 1, math.NaN(), 0}, []int{2}, []int{0, 1}, 2, "feature 0 of example 1 is NaN"},
		{"inf", []float64{0, math.Inf(-1), 0, 0}, []int{2}, []int{0, 1}, 2, "feature 1 of example 0 is -Inf"},
		{"shape", make([]float64, 4), []int{2, 0}, []int{0, 1}, 2, "dimension ≤ 0"},
		{"no-shape", make([]float64, 4), nil, []int{0, 1}, 2, "empty"},
		{"classes", make([]float64, 4), []int{2}, []int{0, 0}, 1, "classes = 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := datasets.FromSlices(c.x, c.shape, c.labels, c.classes)
			require.ErrorIs(t, err, datasets.ErrArgument)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestGatherSubsetSplit(t *testing.T) {
	x := []float32{0, 1, 10, 11, 20, 21, 30, 31, 40, 41}
	d, err := datasets.FromSlices(x, []int{1, 2}, []int{0, 1, 2, 0, 1}, 3)
	require.NoError(t, err)
	assert.Equal(t, 5, d.Len())
	assert.Equal(t, []int{1, 2}, d.Shape())
	assert.Equal(t, 3, d.Classes())

	b := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 2))
	yt := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2))
	y := yt.Ints()
	require.NoError(t, d.Gather([]int{3, 1}, b, yt))
	assert.Equal(t, []float64{30, 31, 10, 11}, b.Data(), "converted to the batch's dtype")
	assert.Equal(t, []int{0, 1}, y)
	assert.ErrorIs(t, d.Gather([]int{5, 0}, b, yt), datasets.ErrArgument)
	assert.ErrorIs(t, d.Gather([]int{1}, b, yt), datasets.ErrArgument, "batch of 2 for 1 index")
	assert.ErrorIs(t, d.Gather([]int{1, 2}, tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2, 2)), yt), datasets.ErrArgument)

	v, err := datasets.Subset(d, []int{4, 4, 0})
	require.NoError(t, err)
	require.NoError(t, v.Gather([]int{2, 1}, b, yt))
	assert.Equal(t, []float64{0, 1, 40, 41}, b.Data())
	assert.Equal(t, []int{0, 1}, y)
	assert.ErrorIs(t, v.Gather([]int{3, 0}, b, yt), datasets.ErrArgument)
	_, err = datasets.Subset(d, []int{7})
	assert.ErrorIs(t, err, datasets.ErrArgument)

	h, err := datasets.Head(d, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, h.Len())
	all, err := datasets.Head(d, 9)
	require.NoError(t, err)
	assert.Same(t, d, all.(*datasets.Memory[float32, int]))

	tr, val, err := datasets.Split(d, 2, 1)
	require.NoError(t, err)
	assert.Equal(t, 3, tr.Len())
	assert.Equal(t, 2, val.Len())
	tr2, val2, err := datasets.Split(d, 2, 1)
	require.NoError(t, err)
	assert.Equal(t, tr, tr2, "the split depends on the seed alone")
	assert.Equal(t, val, val2)
	seen := map[float64]bool{}
	for _, part := range []*datasets.View{tr, val} {
		bb := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(part.Len(), 2))
		idx := make([]int, part.Len())
		for i := range idx {
			idx[i] = i
		}
		require.NoError(t, part.Gather(idx, bb, tensor.New(tensor.Of(tensor.Int), tensor.WithShape(part.Len()))))
		for i, v := range bb.Data().([]float64) {
			if i%2 == 0 {
				assert.False(t, seen[v], "example %v in both parts", v)
				seen[v] = true
			}
		}
	}
	assert.Len(t, seen, 5)
	_, _, err = datasets.Split(d, 6, 1)
	assert.ErrorIs(t, err, datasets.ErrArgument)
}

func TestValuesAndTokens(t *testing.T) {
	d, err := datasets.FromValues([]float64{1, 2, 3, 4, 5, 6}, []int{2}, []float32{0.5, -1, 2, 7, 8, 9}, []int{2})
	require.NoError(t, err)
	assert.Equal(t, 3, d.Len())
	assert.Equal(t, tensor.Float32, d.Target().Dtype)
	assert.Zero(t, d.Classes(), "float targets have no classes")
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1, 2))
	y := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(1, 2))
	require.NoError(t, d.Gather([]int{1}, x, y))
	assert.Equal(t, []float32{3, 4}, x.Data())
	assert.Equal(t, []float64{2, 7}, y.Data())
	assert.ErrorIs(t, d.Gather([]int{1}, x, tensor.New(tensor.Of(tensor.Int), tensor.WithShape(1, 2))), datasets.ErrArgument, "int buffer for float targets")

	_, err = datasets.FromValues([]float64{1, 2}, []int{1}, []float64{0, math.Inf(1)}, nil)
	require.ErrorIs(t, err, datasets.ErrArgument)
	assert.Contains(t, err.Error(), "target of example 1 is +Inf")
	_, err = datasets.FromValues([]float64{1, 2}, []int{1}, []float64{0}, nil)
	require.ErrorIs(t, err, datasets.ErrArgument)
	assert.Contains(t, err.Error(), "1 target values for 2 examples")

	s, err := datasets.FromTokens([]int{1, 2, 3, 0, 4, 1}, []int{3}, 5, []int{2, 3, 0, 4, 1, 1}, []int{3}, 5)
	require.NoError(t, err)
	ix := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(1, 3))
	iy := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(1, 3))
	require.NoError(t, s.Gather([]int{1}, ix, iy))
	assert.Equal(t, []int{0, 4, 1}, ix.Data())
	assert.Equal(t, []int{4, 1, 1}, iy.Data())
	assert.ErrorIs(t, s.Gather([]int{1}, x, iy), datasets.ErrArgument, "float buffer for token ids")
	_, err = datasets.FromTokens([]int{1, 7}, []int{2}, 5, []int{0, 1}, []int{2}, 5)
	require.ErrorIs(t, err, datasets.ErrArgument)
	assert.Contains(t, err.Error(), "token 1 of example 0 is 7, outside [0, 5)")
}
