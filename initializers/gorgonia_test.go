package initializers_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/initializers"
)

// TestAgainstGorgonia compares our XavierNormal and HeNormal with Gorgonia's
// GlorotN and HeN (float64) by their moments; Gorgonia's are seeded from the
// clock, so values cannot be compared.
//
// Gorgonia v0.9.18, weights.go, for a rank-2 shape (n1, n2):
//   - GlorotEtAlN64: std = gain·√(2/(n1+n2)), the same formula and the same
//     gain as XavierNormal(gain): GlorotN(g) ≙ XavierNormal(g).
//   - HeEtAlN64: std = gain·√(1/n1) = gain/√fan_in, the same as
//     HeNormal(gain): HeN(√2) ≙ HeNormal(√2), the lecture's He. (For rank > 2
//     Gorgonia takes fan_in = shape[1]·shape[2]·…, PyTorch's convolution
//     layout; ours is (in, out, k…), so the two differ there.)
//
// Both samples must match the formula and each other: the two sample stds
// differ by less than five standard errors of the difference, σ/√n.
func TestAgainstGorgonia(t *testing.T) {
	cases := []struct {
		name   string
		ours   initializers.Init
		theirs gorgonia.InitWFn
		shape  []int
		std    float64
	}{
		{"xavier-normal/gain=1", initializers.Must(initializers.XavierNormal(1)), gorgonia.GlorotN(1),
			[]int{400, 250}, math.Sqrt(2.0 / 650)},
		{"xavier-normal/gain=5|3", initializers.Must(initializers.XavierNormal(5.0 / 3)), gorgonia.GlorotN(5.0 / 3),
			[]int{500, 500}, 5.0 / 3 * math.Sqrt(2.0/1000)},
		{"he-normal/gain=sqrt2", initializers.Must(initializers.HeNormal(math.Sqrt2)), gorgonia.HeN(math.Sqrt2),
			[]int{500, 200}, math.Sqrt(2.0 / 500)},
		{"he-normal/gain=1", initializers.Must(initializers.HeNormal(1)), gorgonia.HeN(1),
			[]int{1000, 100}, math.Sqrt(1.0 / 1000)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/float64/shape=%s", c.name, shapeName(c.shape)), func(t *testing.T) {
			x, err := c.ours.Initialize(2024, tensor.Float64, c.shape...)
			require.NoError(t, err)
			ours := x.Data().([]float64)
			theirs := c.theirs(tensor.Float64, c.shape...).([]float64)
			require.Len(t, theirs, len(ours))
			n := float64(len(ours))

			om, os, ok := moments(ours)
			gm, gs, gk := moments(theirs)
			for _, s := range []struct {
				who             string
				mean, std, kurt float64
			}{{"gradlab", om, os, ok}, {"gorgonia", gm, gs, gk}} {
				assert.InDelta(t, 0, s.mean, 5*c.std/math.Sqrt(n), "%s mean", s.who)
				assert.InDelta(t, c.std, s.std, 5*c.std/math.Sqrt(2*n), "%s std", s.who)
				assert.InDelta(t, 3, s.kurt, 0.1, "%s kurtosis", s.who)
			}
			assert.InDelta(t, gs, os, 5*c.std/math.Sqrt(n), "std: gradlab vs gorgonia")
		})
	}
}

// TestGorgoniaFloat32Failures shows the float32 cases where Gorgonia v0.9.18
// fails and gradlab works: HeN and HeU panic on float32 (they only handle
// float64), and float32 GlorotU calls GlorotEtAlN64, so it samples a normal
// distribution: about 8% of its values exceed the uniform bound √3·std and
// its kurtosis is 3, not the uniform's 1.8.
func TestGorgoniaFloat32Failures(t *testing.T) {
	shape := []int{500, 200}
	t.Run("he/float32/gorgonia-panics", func(t *testing.T) {
		for name, fn := range map[string]gorgonia.InitWFn{"HeN": gorgonia.HeN(math.Sqrt2), "HeU": gorgonia.HeU(math.Sqrt2)} {
			assert.Panics(t, func() { fn(tensor.Float32, shape...) }, "gorgonia.%s on float32", name)
		}
		for _, in := range []initializers.Init{
			initializers.Must(initializers.HeNormal(math.Sqrt2)),
			initializers.Must(initializers.HeUniform(math.Sqrt2)),
		} {
			x, err := in.Initialize(1, tensor.Float32, shape...)
			require.NoError(t, err, "%v", in)
			_, std, _ := moments(x.Data().([]float32))
			want := math.Sqrt(2.0 / 500)
			assert.InDelta(t, want, std, 5*want/math.Sqrt(2*1e5), "%v std", in)
			// The InitWFn works with float32 too.
			assert.NotPanics(t, func() { in.InitWFn(1)(tensor.Float32, shape...) }, "%v", in)
		}
	})
	t.Run("glorot-uniform/float32/shape=500x200", func(t *testing.T) {
		std := math.Sqrt(2.0 / 700)
		bound := math.Sqrt(3) * std

		theirs := gorgonia.GlorotU(1)(tensor.Float32, shape...).([]float32)
		outside := 0
		for _, v := range theirs {
			if math.Abs(float64(v)) > bound {
				outside++
			}
		}
		// P(|Z| > √3) = 0.083 for a normal: ~8300 of 1e5; a uniform has none.
		assert.Greater(t, outside, 5000, "gorgonia float32 GlorotU values beyond ±√3·std")
		_, _, kurt := moments(theirs)
		assert.InDelta(t, 3, kurt, 0.1, "gorgonia float32 GlorotU kurtosis (a normal's)")

		// Gorgonia's float64 GlorotU is uniform: the bug is float32 only.
		_, _, kurt64 := moments(gorgonia.GlorotU(1)(tensor.Float64, shape...).([]float64))
		assert.InDelta(t, 1.8, kurt64, 0.05, "gorgonia float64 GlorotU kurtosis")

		x, err := initializers.Must(initializers.XavierUniform(1)).Initialize(1, tensor.Float32, shape...)
		require.NoError(t, err)
		ours := x.Data().([]float32)
		b32 := float32(bound)
		for i, v := range ours {
			if v < -b32 || v > b32 {
				t.Fatalf("XavierUniform float32 element %d = %v beyond ±%v", i, v, b32)
			}
		}
		_, s, k := moments(ours)
		assert.InDelta(t, 1.8, k, 0.05, "gradlab float32 XavierUniform kurtosis")
		assert.InDelta(t, std, s, 5*std/math.Sqrt(2*1e5), "gradlab float32 XavierUniform std")
	})
}
