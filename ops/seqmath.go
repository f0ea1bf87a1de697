package ops

import (
	"math"
	"unsafe"
)

// The transcendental functions of the sequence kernels. float64 uses the
// math package; float32 uses expf, a float32 exponential (Cephes' expf
// polynomial after a branch-free range reduction), which is several times
// faster than math.Exp on float64 and accurate to about 2 ulp — the
// recurrences and attention apply an exponential to every gate and score,
// so it sets their speed. sigmoid and tanh are written with it.

// expf returns e^x for float32 x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a
// degree-6 polynomial, 2^n by the exponent bits. x is clamped to
// [−87.3, 88.3] (e^x underflows to about 1e−38 and stays below the float32
// maximum), and a NaN stays NaN.
func expf(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, -87.3), 88.3)
	const magic = 12582912 // 1.5·2²³: adding it rounds to an integer
	k := x*1.442695041 + magic
	n := int32(math.Float32bits(k)) - 0x4B400000
	kf := k - magic
	r := x - kf*0.693359375 - kf*-2.12194440e-4
	z := r * r
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	e := p*z + r + 1
	return e * math.Float32frombits(uint32(n+127)<<23)
}

// expT is e^x in T's precision.
func expT[T float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(expf(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

// sigmoid is 1/(1 + e^−v), without overflow for large |v|.
func sigmoid[T float](v T) T {
	if unsafe.Sizeof(v) == 4 {
		return T(1 / (1 + expf(-float32(v))))
	}
	if v >= 0 {
		return T(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return T(e / (1 + e))
}

// tanhT is tanh(v): for float32 2·σ(2v) − 1, one expf and no branch
// (absolute error about 1e−7).
func tanhT[T float](v T) T {
	if unsafe.Sizeof(v) == 4 {
		return T(2/(1+expf(-2*float32(v))) - 1)
	}
	return T(math.Tanh(float64(v)))
}

// sigmoidInto sets x[j] = σ(x[j] + bias[j]) (bias may be nil).
func sigmoidInto[T float](x, bias []T) {
	if bias != nil {
		bias = bias[:len(x)]
		for j, v := range x {
			x[j] = sigmoid(v + bias[j])
		}
		return
	}
	for j, v := range x {
		x[j] = sigmoid(v)
	}
}

// tanhInto sets x[j] = tanh(x[j] + bias[j]) (bias may be nil).
func tanhInto[T float](x, bias []T) {
	if bias != nil {
		bias = bias[:len(x)]
		for j, v := range x {
			x[j] = tanhT(v + bias[j])
		}
		return
	}
	for j, v := range x {
		x[j] = tanhT(v)
	}
}
