package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLayerNormKernels checks the layer-norm row kernels on every path the
// CPU has against their documented loops, bit for bit, at lengths around
// the 16-element blocks.
func TestLayerNormKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, asm := range paths() {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 100, 512, 1000} {
			x, g, gamma, beta := vec32(r, n+2), vec32(r, n+2), vec32(r, n+2), vec32(r, n+2)
			m, inv, s1, s2 := float32(0.3), float32(1.7), float32(-0.4), float32(0.9)

			y, want := vec32(r, n+2), make([]float32, n+2)
			copy(want, y)
			run(asm, func() { LayerNormRow(y, x[:n], gamma, beta, m, inv) })
			for i := range n {
				want[i] = float32(float32((x[i]-m)*inv)*gamma[i]) + beta[i]
			}
			sameBits32(t, want, y, "LayerNormRow asm=%v n=%d", asm, n)

			var got1, got2 float64
			run(asm, func() { got1, got2 = GammaGradSums(x[:n], g, gamma, 0.25) })
			w1 := laneSum(n, func(i int) float64 { return float64(float32(g[i] * gamma[i])) })
			w2 := laneSum(n, func(i int) float64 {
				gg := float64(float32(g[i] * gamma[i]))
				return float64(gg * (float64(x[i]) - 0.25))
			})
			if math.Float64bits(got1) != math.Float64bits(w1) || math.Float64bits(got2) != math.Float64bits(w2) {
				t.Fatalf("GammaGradSums asm=%v n=%d: %v %v, want %v %v", asm, n, got1, got2, w1, w2)
			}

			dx, wdx := vec32(r, n+2), make([]float32, n+2)
			copy(wdx, dx)
			pg, pb := vec64(r, n+2), vec64(r, n+2)
			wpg, wpb := clone(pg), clone(pb)
			run(asm, func() { LayerNormGradRow(dx, x[:n], g, gamma, pg, pb, m, inv, s1, s2) })
			for i := range n {
				xh := float32((x[i] - m) * inv)
				d := float32(g[i]*gamma[i]) - s1 - float32(xh*s2)
				wdx[i] = float32(inv * d)
				wpg[i] += float64(float32(g[i] * xh))
				wpb[i] += float64(g[i])
			}
			sameBits32(t, wdx, dx, "LayerNormGradRow dx asm=%v n=%d", asm, n)
			sameBits(t, wpg, pg, "LayerNormGradRow pg asm=%v n=%d", asm, n)
			sameBits(t, wpb, pb, "LayerNormGradRow pb asm=%v n=%d", asm, n)
		}
	}
}

// TestMoments checks Moments on every path against its documented order.
func TestMoments(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, asm := range paths() {
		for _, n := range []int{1, 15, 16, 17, 33, 512, 1000} {
			x := vec32(r, n)
			s := float64(x[0])
			w1 := laneSum(n, func(i int) float64 { return float64(x[i]) - s })
			w2 := laneSum(n, func(i int) float64 { d := float64(x[i]) - s; return float64(d * d) })
			var g0, g1, g2 float64
			run(asm, func() { g0, g1, g2 = Moments(x) })
			if g0 != s || math.Float64bits(g1) != math.Float64bits(w1) || math.Float64bits(g2) != math.Float64bits(w2) {
				t.Fatalf("Moments asm=%v n=%d: %v %v %v, want %v %v %v", asm, n, g0, g1, g2, s, w1, w2)
			}
		}
	}
}
