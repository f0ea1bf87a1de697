package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// laneSum32 is the documented order of the float32 row sums: 16 float32
// lanes over the leading multiple of 16 (lane i mod 16), the lanes added in
// order in float64, then the rest in float64.
func laneSum32(n int, term func(i int) float32) float64 {
	var lanes [16]float32
	m := n &^ 15
	for i := range m {
		lanes[i%16] += term(i)
	}
	var s float64
	for _, v := range lanes {
		s += float64(v)
	}
	for i := m; i < n; i++ {
		s += float64(term(i))
	}
	return s
}

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
			const mu = float32(0.25)
			run(asm, func() { got1, got2 = GammaGradSums(x[:n], g, gamma, mu) })
			w1 := laneSum32(n, func(i int) float32 { return float32(g[i] * gamma[i]) })
			w2 := laneSum32(n, func(i int) float32 { return float32(float32(g[i]*gamma[i]) * (x[i] - mu)) })
			if math.Float64bits(got1) != math.Float64bits(w1) || math.Float64bits(got2) != math.Float64bits(w2) {
				t.Fatalf("GammaGradSums asm=%v n=%d: %v %v, want %v %v", asm, n, got1, got2, w1, w2)
			}

			dx, wdx := vec32(r, n+2), make([]float32, n+2)
			copy(wdx, dx)
			pg, pb := vec32(r, n+2), vec32(r, n+2)
			wpg, wpb := append([]float32(nil), pg...), append([]float32(nil), pb...)
			run(asm, func() { LayerNormGradRow(dx, x[:n], g, gamma, pg, pb, m, inv, s1, s2) })
			for i := range n {
				xh := float32((x[i] - m) * inv)
				d := float32(g[i]*gamma[i]) - s1 - float32(xh*s2)
				wdx[i] = float32(inv * d)
				wpg[i] += float32(g[i] * xh)
				wpb[i] += g[i]
			}
			sameBits32(t, wdx, dx, "LayerNormGradRow dx asm=%v n=%d", asm, n)
			sameBits32(t, wpg, pg, "LayerNormGradRow pg asm=%v n=%d", asm, n)
			sameBits32(t, wpb, pb, "LayerNormGradRow pb asm=%v n=%d", asm, n)
		}
	}
}

// TestMoments checks Moments on every path against its documented order.
func TestMoments(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, asm := range paths() {
		for _, n := range []int{1, 15, 16, 17, 33, 512, 1000} {
			x := vec32(r, n)
			x0 := x[0]
			w1 := laneSum32(n, func(i int) float32 { return x[i] - x0 })
			w2 := laneSum32(n, func(i int) float32 { d := x[i] - x0; return float32(d * d) })
			var g0, g1, g2 float64
			run(asm, func() { g0, g1, g2 = Moments(x) })
			if g0 != float64(x0) || math.Float64bits(g1) != math.Float64bits(w1) || math.Float64bits(g2) != math.Float64bits(w2) {
				t.Fatalf("Moments asm=%v n=%d: %v %v %v, want %v %v %v", asm, n, g0, g1, g2, x0, w1, w2)
			}
		}
	}
}
