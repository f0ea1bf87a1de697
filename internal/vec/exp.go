package vec

import (
	"math"
	"unsafe"
)

// The exponential kernels of the sequence ops (attention's softmax, the
// gates of LSTM and GRU). For float32 they use Expf, whose Go loop and
// AVX-512F assembly perform the same float32 operations in the same order
// (no fused multiply-adds), so both give the same bits; float64 uses the
// math package.

// Expf returns e^x for float32 x (Cephes' expf): x is clamped to
// [−87.3, 88.3] (a NaN stays NaN), split as x = n·ln2 + r with
// n = round(x·log2 e) (by adding 1.5·2²³) and |r| ≤ ln2/2, e^r is
// 1 + r + r²·p(r) with p of degree 5, and 2^n comes from the exponent bits.
// Its relative error is below 1e−7 (TestExpf).
func Expf(x float32) float32 {
	x = min(max(x, -87.3), 88.3)
	const magic = 12582912 // 1.5·2²³
	k := float32(x*1.442695041) + magic
	n := int32(math.Float32bits(k)) - 0x4B400000
	kf := k - magic
	r := x - float32(kf*0.693359375) - float32(kf*-2.12194440e-4)
	z := float32(r * r)
	p := float32(1.9875691500e-4*r) + 1.3981999507e-3
	p = float32(p*r) + 8.3334519073e-3
	p = float32(p*r) + 4.1665795894e-2
	p = float32(p*r) + 1.6666665459e-1
	p = float32(p*r) + 5.0000001201e-1
	e := float32(p*z) + r + 1
	return float32(e * math.Float32frombits(uint32(n+127)<<23))
}

// sigmoidf is 1/(1 + Expf(−x)).
func sigmoidf(x float32) float32 { return 1 / (1 + Expf(-x)) }

// tanhf is 2/(1 + Expf(−2x)) − 1 (absolute error about 1e−7).
func tanhf(x float32) float32 { return 2/(1+Expf(float32(-2*x))) - 1 }

// ExpShift writes dst[i] = e^(x[i] − shift). dst must be at least as long
// as x (it may be x).
func ExpShift[T Float](dst, x []T, shift T) {
	dst = dst[:len(x)]
	if unsafe.Sizeof(shift) == 8 {
		for i, v := range x {
			dst[i] = T(math.Exp(float64(v - shift)))
		}
		return
	}
	i := asm[T](len(x))
	if i > 0 {
		expShift512(f32(dst), f32(x), i, float32(shift))
	}
	for ; i < len(x); i++ {
		dst[i] = T(Expf(float32(x[i] - shift)))
	}
}

// Sigmoid writes dst[i] = 1/(1 + e^−x[i]). dst must be at least as long as
// x (it may be x).
func Sigmoid[T Float](dst, x []T) {
	dst = dst[:len(x)]
	var zero T
	if unsafe.Sizeof(zero) == 8 {
		for i, v := range x {
			f := float64(v)
			if f >= 0 {
				dst[i] = T(1 / (1 + math.Exp(-f)))
			} else {
				e := math.Exp(f)
				dst[i] = T(e / (1 + e))
			}
		}
		return
	}
	i := asm[T](len(x))
	if i > 0 {
		sigmoid512(f32(dst), f32(x), i)
	}
	for ; i < len(x); i++ {
		dst[i] = T(sigmoidf(float32(x[i])))
	}
}

// Tanh writes dst[i] = tanh(x[i]). dst must be at least as long as x (it
// may be x).
func Tanh[T Float](dst, x []T) {
	dst = dst[:len(x)]
	var zero T
	if unsafe.Sizeof(zero) == 8 {
		for i, v := range x {
			dst[i] = T(math.Tanh(float64(v)))
		}
		return
	}
	i := asm[T](len(x))
	if i > 0 {
		tanh512(f32(dst), f32(x), i)
	}
	for ; i < len(x); i++ {
		dst[i] = T(tanhf(float32(x[i])))
	}
}

// Max returns the largest element of x (which must not be empty), taken
// lane by lane as the assembly does: 16 running maxima m over the leading
// multiple of 16 (lane i mod 16), each step m = v unless m > v (so a NaN
// element makes its lane NaN until a later element replaces it), the lanes
// then reduced in order the same way, then the rest.
func Max[T Float](x []T) T {
	n := len(x) &^ 15
	m := x[0]
	if n > 0 {
		var l [16]T
		if asm[T](n) > 0 {
			maxLanes512(f32(x), n, (*[16]float32)(unsafe.Pointer(&l)))
		} else {
			copy(l[:], x[:16])
			for i := 16; i < n; i += 16 {
				for j, v := range x[i : i+16] {
					if !(l[j] > v) {
						l[j] = v
					}
				}
			}
		}
		m = l[0]
		for _, v := range l[1:] {
			if !(m > v) {
				m = v
			}
		}
	}
	for _, v := range x[n:] {
		if !(m > v) {
			m = v
		}
	}
	return m
}
