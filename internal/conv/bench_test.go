package conv

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkForward and BenchmarkWeights time one sample's forward pass and
// a chunk of 8 samples' weight gradient of the MNIST CNN's and Keras's
// convnet's layers on each path; GFLOP/s counts 2 flops per multiply-add.
func BenchmarkForward(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	// The three layers' forward passes, then the second and third's dx.
	for _, tc := range append(fwdCases[:3:3], fwdCase{32, 18, 18, 5, 5, 16}, fwdCase{64, 15, 15, 3, 3, 32}) {
		g := Geom{C: tc.c, Hp: tc.hp, Wp: tc.wp, KH: tc.kh, KW: tc.kw, O: tc.o}
		p, _ := NewPlan(g)
		x, w := randSlice(r, g.InLen()), randSlice(r, g.PackedLen())
		y := make([]float32, g.O*g.OH()*g.OW())
		flops := 2 * float64(len(y)*g.C*g.KH*g.KW)
		scratch := make([]float32, g.ScratchLen())
		for _, path := range append(Paths(), "avx512-8x3", "avx512-16x1") {
			restore, ok := ForcePath(strings.Split(path, "-")[0])
			if !ok {
				continue
			}
			chanT = !strings.Contains(path, "-")
			r8x3 = !strings.HasSuffix(path, "-16x1")
			b.Run(tc.String()+"/"+path, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(4 * (len(x) + len(w) + len(y))))
				for b.Loop() {
					p.Forward(y, x, w, scratch)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			r8x3, chanT = true, true
			restore()
		}
	}
}

func BenchmarkWeights(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 8
	for _, tc := range fwdCases[:3] {
		g := Geom{C: tc.c, Hp: tc.hp, Wp: tc.wp, KH: tc.kh, KW: tc.kw, O: tc.o}
		p, _ := NewPlan(g)
		x := randSlice(r, n*g.InLen())
		dyT := randSlice(r, n*g.OH()*g.OW()*g.O)
		dw := make([]float32, g.GradLen())
		flops := 2 * float64(n*len(dw)*g.OH()*g.OW())
		for _, path := range Paths() {
			restore, _ := ForcePath(path)
			b.Run(tc.String()+"/"+path, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(4 * (len(x) + len(dyT) + len(dw))))
				for b.Loop() {
					_ = p.Weights(dw, x, g.InLen(), dyT, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			restore()
		}
	}
}
