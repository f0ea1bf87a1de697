package initializers_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/initializers"
)

// TestConvInitTorch checks the conv layout against PyTorch's numbers
// (testdata/conv_fans.json, written by gen_conv_fans.py): ConvFans equals
// torch's fans; HeNormal(√2).Conv() has exactly kaiming_normal_'s std and
// XavierNormal(1).Conv() xavier_normal_'s (the draw is std·N(0, 1) from the
// same stream, so the scale is pinned to rounding); and torch's standard
// deviations are the closed forms over the fans.
func TestConvInitTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/conv_fans.json")
	require.NoError(t, err)
	var gold struct {
		Cases []struct {
			Shape      []int
			FanIn      int     `json:"fan_in"`
			FanOut     int     `json:"fan_out"`
			KaimingStd float64 `json:"kaiming_normal_std"`
			XavierStd  float64 `json:"xavier_normal_std"`
		}
	}
	require.NoError(t, json.Unmarshal(raw, &gold))
	require.NotEmpty(t, gold.Cases)
	must := initializers.Must
	unit := must(initializers.Normal(0, 1))
	for _, c := range gold.Cases {
		t.Run(shapeName(c.Shape), func(t *testing.T) {
			in, out, err := initializers.ConvFans(c.Shape...)
			require.NoError(t, err)
			assert.Equal(t, c.FanIn, in, "fan_in")
			assert.Equal(t, c.FanOut, out, "fan_out")
			// torch's standard deviations are the closed forms over our fans:
			// He (gain √2) √2/√fan_in, Xavier √(2/(fan_in + fan_out)).
			assert.InDelta(t, math.Sqrt2/math.Sqrt(float64(in)), c.KaimingStd, 1e-12, "kaiming_normal_ std")
			assert.InDelta(t, math.Sqrt(2/float64(in+out)), c.XavierStd, 1e-12, "xavier_normal_ std")
			base, err := unit.Initialize(9, tensor.Float64, c.Shape...)
			require.NoError(t, err)
			for _, s := range []struct {
				in  initializers.Init
				std float64
			}{{must(initializers.HeNormal(math.Sqrt2)).Conv(), c.KaimingStd}, {must(initializers.XavierNormal(1)).Conv(), c.XavierStd}} {
				w, err := s.in.Initialize(9, tensor.Float64, c.Shape...)
				require.NoError(t, err)
				ws, bs := w.Data().([]float64), base.Data().([]float64)
				for i := range ws {
					if !assert.InDelta(t, s.std*bs[i], ws[i], 1e-14, "%v element %d", s.in, i) {
						break
					}
				}
			}
		})
	}
}
