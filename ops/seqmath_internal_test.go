package ops

import (
	"math"
	"testing"
)

// expf, and the sigmoid and tanh built on it, against float64's math on a
// dense grid: relative error ≤ 3e−7 for expf, absolute ≤ 2e−7 for the others.
func TestFloat32Transcendentals(t *testing.T) {
	var worstExp, worstSig, worstTanh float64
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 4.4e-4 // [−88, 88]
		want := math.Exp(float64(x))
		if want > 1e-37 && want < 3e38 {
			worstExp = max(worstExp, math.Abs(float64(expf(x))-want)/want)
		}
		worstSig = max(worstSig, math.Abs(float64(sigmoid(x))-1/(1+math.Exp(-float64(x)))))
		worstTanh = max(worstTanh, math.Abs(float64(tanhT(x))-math.Tanh(float64(x))))
	}
	t.Logf("max relative error of expf %.3g; absolute of sigmoid %.3g, tanh %.3g", worstExp, worstSig, worstTanh)
	if worstExp > 3e-7 || worstSig > 2e-7 || worstTanh > 2e-7 {
		t.Fatalf("expf %.3g, sigmoid %.3g, tanh %.3g", worstExp, worstSig, worstTanh)
	}
	if v := expf(float32(math.NaN())); v == v {
		t.Fatalf("expf(NaN) = %v", v)
	}
	if v := expf(-1000); v < 0 || v > 1e-37 {
		t.Fatalf("expf(−1000) = %v", v)
	}
	if v := sigmoid(float32(1000)); v != 1 {
		t.Fatalf("sigmoid(1000) = %v", v)
	}
}
