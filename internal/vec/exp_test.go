package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpf checks Expf, and the sigmoid and tanh built on it, against
// float64's math on a dense grid of [−88, 88]: relative error ≤ 2e−7 for
// Expf, absolute ≤ 2e−7 for the others; and its clamping and NaN.
func TestExpf(t *testing.T) {
	var worstExp, worstSig, worstTanh float64
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 4.4e-4
		want := math.Exp(float64(x))
		if want > 1e-37 && want < 3e38 {
			worstExp = max(worstExp, math.Abs(float64(Expf(x))-want)/want)
		}
		worstSig = max(worstSig, math.Abs(float64(sigmoidf(x))-1/(1+math.Exp(-float64(x)))))
		worstTanh = max(worstTanh, math.Abs(float64(tanhf(x))-math.Tanh(float64(x))))
	}
	t.Logf("max relative error of Expf %.3g; absolute of sigmoid %.3g, tanh %.3g", worstExp, worstSig, worstTanh)
	if worstExp > 2e-7 || worstSig > 2e-7 || worstTanh > 2e-7 {
		t.Fatalf("Expf %.3g, sigmoid %.3g, tanh %.3g", worstExp, worstSig, worstTanh)
	}
	if v := Expf(float32(math.NaN())); v == v {
		t.Fatalf("Expf(NaN) = %v", v)
	}
	if v := Expf(-1000); v < 0 || v > 1e-37 {
		t.Fatalf("Expf(−1000) = %v", v)
	}
	if v := sigmoidf(1000); v != 1 {
		t.Fatalf("sigmoid(1000) = %v", v)
	}
	if v := tanhf(-1000); v != -1 {
		t.Fatalf("tanh(−1000) = %v", v)
	}
}

// TestExpKernels checks ExpShift, Sigmoid and Tanh on every path the CPU
// has against the scalar functions, bit for bit (NaN for NaN), at lengths
// around the 16-element blocks, in place and not, with special values.
func TestExpKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	same := func(want, got []float32, what string, asm bool, n int) {
		t.Helper()
		for i := range want {
			if math.Float32bits(want[i]) != math.Float32bits(got[i]) && !(want[i] != want[i] && got[i] != got[i]) {
				t.Fatalf("%s asm=%v n=%d: element %d is %v (%08x), want %v (%08x)", what, asm, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	for _, asm := range paths() {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 100, 512, 1000} {
			x := vec32(r, n+2)
			for i := range x {
				x[i] *= 10
			}
			if n > 6 {
				x[1], x[3], x[5], x[6] = float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 200
			}
			for _, k := range []struct {
				name string
				run  func(dst, x []float32)
				f    func(float32) float32
			}{
				{"ExpShift", func(d, x []float32) { ExpShift(d, x, 1.25) }, func(v float32) float32 { return Expf(v - 1.25) }},
				{"Sigmoid", Sigmoid[float32], sigmoidf},
				{"Tanh", Tanh[float32], tanhf},
			} {
				want := append([]float32(nil), x...)
				for i := range n {
					want[i] = k.f(x[i])
				}
				got := append([]float32(nil), x...)
				run(asm, func() { k.run(got[:n], got[:n]) }) // in place
				same(want, got, k.name, asm, n)
				out := make([]float32, n+2)
				copy(out[n:], x[n:])
				run(asm, func() { k.run(out, x[:n]) })
				same(want, out, k.name+"/out", asm, n)
			}
		}
	}
}

// TestMax checks Max on every path against its documented lane order, bit
// for bit, with NaN and −0.
func TestMax(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, asm := range paths() {
		for _, n := range []int{1, 15, 16, 17, 33, 128, 1000} {
			x := vec32(r, n)
			if n > 20 {
				x[3], x[18] = float32(math.NaN()), float32(math.Copysign(0, -1))
			}
			var lanes [16]float32
			m := x[0]
			k := n &^ 15
			if k > 0 {
				copy(lanes[:], x[:16])
				for i := 16; i < k; i++ {
					if !(lanes[i%16] > x[i]) {
						lanes[i%16] = x[i]
					}
				}
				m = lanes[0]
				for _, v := range lanes[1:] {
					if !(m > v) {
						m = v
					}
				}
			}
			for _, v := range x[k:] {
				if !(m > v) {
					m = v
				}
			}
			var got float32
			run(asm, func() { got = Max(x) })
			if math.Float32bits(got) != math.Float32bits(m) && !(got != got && m != m) {
				t.Fatalf("Max asm=%v n=%d = %v, want %v", asm, n, got, m)
			}
		}
	}
}
