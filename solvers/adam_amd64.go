//go:build !purego

package solvers

import (
	"math"
	"unsafe"
)

// adamF32SSE is adamKernel for float32, four lanes at a time with SSE
// (baseline amd64, no CPU detection needed; adamF64SSE is the float64 twin):
// same operations in the same order, no fused multiply-add, so results are
// bit-identical to the Go loop.
//
//go:noescape
func adamF32SSE(w, g, m, v []float32, c *[16]float32)

//go:noescape
func adamF64SSE(w, g, m, v []float64, c *[12]float64)

// adamFast runs the vector kernel (four float32 or two float64 lanes) and
// returns how many leading elements it did; the caller's Go loop does the rest.
func adamFast[T Float](w, g, m, v []T, h *hyper[T]) int {
	if unsafe.Sizeof(T(0)) == 4 {
		n := len(w) &^ 3
		if n == 0 {
			return 0
		}
		_, _, _ = g[n-1], m[n-1], v[n-1]
		abs, tiny := math.Float32frombits(0x7fffffff), f32(h.tiny)
		c := [16]float32{f32(h.lr), f32(h.b1), f32(h.b2), f32(h.omb1), f32(h.omb2), f32(h.eps), f32(h.s2), f32(h.decay),
			abs, abs, abs, abs, tiny, tiny, tiny, tiny}
		adamF32SSE(f32s(w[:n]), f32s(g[:n]), f32s(m[:n]), f32s(v[:n]), &c)
		return n
	}
	n := len(w) &^ 1
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	abs, tiny := math.Float64frombits(0x7fffffffffffffff), f64(h.tiny)
	c := [12]float64{f64(h.lr), f64(h.b1), f64(h.b2), f64(h.omb1), f64(h.omb2), f64(h.eps), f64(h.s2), f64(h.decay),
		abs, abs, tiny, tiny}
	adamF64SSE(f64s(w[:n]), f64s(g[:n]), f64s(m[:n]), f64s(v[:n]), &c)
	return n
}

func f32[T Float](x T) float32 { return *(*float32)(unsafe.Pointer(&x)) }

func f32s[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

//go:noescape
func adagradF32SSE(w, g, s []float32, c *[3]float32)

//go:noescape
func adagradF64SSE(w, g, s []float64, c *[3]float64)

//go:noescape
func rmspropF32SSE(w, g, sq []float32, c *[5]float32)

//go:noescape
func rmspropF64SSE(w, g, sq []float64, c *[5]float64)

func f64[T Float](x T) float64 { return *(*float64)(unsafe.Pointer(&x)) }

func f64s[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// adagradFast runs the vector AdaGrad kernel on the leading elements and
// returns how many it did.
func adagradFast[T Float](w, g, s []T, h *hyper[T]) int {
	if unsafe.Sizeof(T(0)) == 4 {
		n := len(w) &^ 3
		if n == 0 {
			return 0
		}
		_, _ = g[n-1], s[n-1]
		c := [3]float32{f32(h.lr), f32(h.eps), f32(h.epsIn)}
		adagradF32SSE(f32s(w[:n]), f32s(g[:n]), f32s(s[:n]), &c)
		return n
	}
	n := len(w) &^ 1
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], s[n-1]
	c := [3]float64{f64(h.lr), f64(h.eps), f64(h.epsIn)}
	adagradF64SSE(f64s(w[:n]), f64s(g[:n]), f64s(s[:n]), &c)
	return n
}

// rmspropFast runs the vector kernel of plain RMSProp (not centered, no
// momentum) on the leading elements and returns how many it did.
func rmspropFast[T Float](w, g, sq []T, h *hyper[T]) int {
	if unsafe.Sizeof(T(0)) == 4 {
		n := len(w) &^ 3
		if n == 0 {
			return 0
		}
		_, _ = g[n-1], sq[n-1]
		c := [5]float32{f32(h.lr), f32(h.b2), f32(h.omb2), f32(h.eps), f32(h.epsIn)}
		rmspropF32SSE(f32s(w[:n]), f32s(g[:n]), f32s(sq[:n]), &c)
		return n
	}
	n := len(w) &^ 1
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], sq[n-1]
	c := [5]float64{f64(h.lr), f64(h.b2), f64(h.omb2), f64(h.eps), f64(h.epsIn)}
	rmspropF64SSE(f64s(w[:n]), f64s(g[:n]), f64s(sq[:n]), &c)
	return n
}

//go:noescape
func momentumF32SSE(w, g, b []float32, c *[4]float32, nesterov bool)

//go:noescape
func momentumF64SSE(w, g, b []float64, c *[4]float64, nesterov bool)

// momentumFast runs the vector Momentum/Nesterov kernel on the leading
// elements and returns how many it did.
func momentumFast[T Float](w, g, b []T, h *hyper[T]) int {
	if unsafe.Sizeof(T(0)) == 4 {
		n := len(w) &^ 3
		if n == 0 {
			return 0
		}
		_, _ = g[n-1], b[n-1]
		c := [4]float32{f32(h.lr), f32(h.mom), math.Float32frombits(0x7fffffff), f32(h.tiny)}
		momentumF32SSE(f32s(w[:n]), f32s(g[:n]), f32s(b[:n]), &c, h.nesterov)
		return n
	}
	n := len(w) &^ 1
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], b[n-1]
	c := [4]float64{f64(h.lr), f64(h.mom), math.Float64frombits(0x7fffffffffffffff), f64(h.tiny)}
	momentumF64SSE(f64s(w[:n]), f64s(g[:n]), f64s(b[:n]), &c, h.nesterov)
	return n
}

//go:noescape
func sgdF32SSE(w, g []float32, lr float32)

//go:noescape
func sgdF64SSE(w, g []float64, lr float64)

// sgdFast runs the vector SGD kernel on the leading elements (a multiple of
// 8 float32 or 4 float64) and returns how many it did.
func sgdFast[T Float](w, g []T, h *hyper[T]) int {
	if unsafe.Sizeof(T(0)) == 4 {
		n := len(w) &^ 7
		if n == 0 {
			return 0
		}
		_ = g[n-1]
		sgdF32SSE(f32s(w[:n]), f32s(g[:n]), f32(h.lr))
		return n
	}
	n := len(w) &^ 3
	if n == 0 {
		return 0
	}
	_ = g[n-1]
	sgdF64SSE(f64s(w[:n]), f64s(g[:n]), f64(h.lr))
	return n
}
