package ops_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

func TestAffine(t *testing.T) {
	for _, s := range [][]int{{3, 4}, {1, 1}, {2, 3, 5}} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			d := s[len(s)-1]
			scale, shift := make([]float64, d), make([]float64, d)
			for j := range scale {
				scale[j], shift[j] = 0.5+float64(j), float64(j)-1.5
			}
			b := graph.NewBuilder(3)
			x, err := b.Param("x", tensor.Float64, randn(1, 0), s...)
			require.NoError(t, err)
			y, err := ops.Affine(x, scale, shift)
			require.NoError(t, err)
			loss, err := weightedSum(b, y)
			require.NoError(t, err)
			p, err := b.Compile(loss, y)
			require.NoError(t, err)
			defer p.Close()
			feeds := graph.Feeds{"r": randTensor(7, s...)}
			res, err := gradcheck.Check(p, feeds, gradcheck.Options{})
			require.NoError(t, err)
			for _, r := range res {
				assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
			}
			require.NoError(t, p.Forward(feeds))
			xv, yv := x.Value().Data().([]float64), p.Output(0).Data().([]float64)
			for i := range xv {
				assert.Equal(t, xv[i]*scale[i%d]+shift[i%d], yv[i])
			}
		})
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3))
	_, err := ops.Affine(x, []float64{1, 2}, []float64{0, 0})
	assert.ErrorIs(t, err, ops.ErrShape)
	_, err = ops.Affine(x, []float64{1, 2, 3}, []float64{0, 0})
	assert.ErrorIs(t, err, ops.ErrShape)
	_, err = ops.Affine(x, []float64{1, 2, 3}, []float64{0, 0, 1 / zero()})
	assert.ErrorIs(t, err, ops.ErrConfig)
	a, err := ops.Affine(x, []float64{1, 2, 3}, []float64{0, 0, 1})
	require.NoError(t, err)
	c, err := ops.Affine(x, []float64{1, 2, 3}, []float64{0, 0, 2})
	require.NoError(t, err)
	assert.NotEqual(t, a.Op().String(), c.Op().String(), "the values are in the op's name (its hash)")
}

func zero() float64 { return 0 }
