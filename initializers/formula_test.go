package initializers_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/initializers"
)

// TestScaleFormulas pins each fan-scaled initializer's scale exactly, which
// statistics cannot do (five standard errors of a std over 2.5e5 samples is
// 0.7%, so an off-by-one fan would pass): every initializer draws from the
// same generator stream, so for one seed a scaled normal is exactly
// std·Normal(0, 1) and a scaled uniform exactly bound·Uniform(-1, 1), up to
// rounding.
func TestScaleFormulas(t *testing.T) {
	must := initializers.Must
	std := must(initializers.Normal(0, 1))
	unit := must(initializers.Uniform(-1, 1))
	xavier := func(gain float64, fi, fo int) float64 { return gain * math.Sqrt(2/float64(fi+fo)) }
	fanIn := func(gain float64, fi int) float64 { return gain / math.Sqrt(float64(fi)) }
	cases := []struct {
		name  string
		in    initializers.Init
		base  initializers.Init
		shape []int
		scale float64 // std for normals, bound √3·std for uniforms
	}{
		{"xavier-normal/gain=1", must(initializers.XavierNormal(1)), std, []int{30, 20}, xavier(1, 30, 20)},
		{"xavier-normal/gain=2/conv", must(initializers.XavierNormal(2)).Conv(), std, []int{3, 4, 5, 6}, xavier(2, 4*30, 3*30)},
		{"xavier-uniform/gain=1", must(initializers.XavierUniform(1)), unit, []int{30, 20}, math.Sqrt(3) * xavier(1, 30, 20)},
		{"lecun-normal", initializers.LeCunNormal(), std, []int{30, 20}, fanIn(1, 30)},
		{"lecun-uniform", initializers.LeCunUniform(), unit, []int{30, 20}, math.Sqrt(3) * fanIn(1, 30)},
		{"lecun-uniform/conv", initializers.LeCunUniform().Conv(), unit, []int{30, 20, 2}, math.Sqrt(3) * fanIn(1, 40)},
		{"he-normal/gain=sqrt2", must(initializers.HeNormal(math.Sqrt2)), std, []int{30, 20}, 1 / math.Sqrt(30.0/2)},
		{"he-normal/gain=sqrt2/conv", must(initializers.HeNormal(math.Sqrt2)).Conv(), std, []int{3, 4, 5, 6}, fanIn(math.Sqrt2, 4*30)},
		{"he-uniform/gain=sqrt2", must(initializers.HeUniform(math.Sqrt2)), unit, []int{30, 20}, math.Sqrt(6.0 / 30)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/float64/shape=%s", c.name, shapeName(c.shape)), func(t *testing.T) {
			x, err := c.in.Initialize(5, tensor.Float64, c.shape...)
			require.NoError(t, err)
			b, err := c.base.Initialize(5, tensor.Float64, c.shape...)
			require.NoError(t, err)
			xs, bs := x.Data().([]float64), b.Data().([]float64)
			for i := range xs {
				if !assert.InDelta(t, c.scale*bs[i], xs[i], 1e-14*c.scale, "element %d", i) {
					return
				}
			}
		})
	}
}
