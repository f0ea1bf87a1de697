package ops

import (
	"math"
	"unsafe"

	"github.com/gradlab/gradlab/internal/vec"
)

// The transcendental functions of the sequence kernels. float64 uses the
// math package; float32 uses vec.Expf, a float32 exponential accurate to
// 1e−7 relative, and the AVX-512F kernels built on it (vec.ExpShift,
// vec.Sigmoid, vec.Tanh) where the CPU has them — the recurrences and
// attention apply an exponential to every gate and score, so it sets their
// speed.

// sigmoid is 1/(1 + e^−v), without overflow for large |v| (the binary
// cross-entropy's gradient uses it).
func sigmoid[T float](v T) T {
	if unsafe.Sizeof(v) == 4 {
		return T(1 / (1 + vec.Expf(-float32(v))))
	}
	if v >= 0 {
		return T(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return T(e / (1 + e))
}

// addTo adds b into a elementwise.
func addTo[T float](a, b []T) {
	b = b[:len(a)]
	for j := range a {
		a[j] += b[j]
	}
}
