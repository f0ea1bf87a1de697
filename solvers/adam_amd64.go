//go:build !purego

package solvers

import "unsafe"

// adamF32SSE is adamKernel for float32, four lanes at a time with SSE
// (baseline amd64, no CPU detection needed): same operations in the same
// order, no fused multiply-add, so results are bit-identical to the Go loop.
//
//go:noescape
func adamF32SSE(w, g, m, v []float32, c *[8]float32)

// adamFast runs the vector kernel on float32 and returns how many leading
// elements it did (a multiple of 4); the caller's Go loop does the rest.
func adamFast[T Float](w, g, m, v []T, h *hyper[T]) int {
	if unsafe.Sizeof(T(0)) != 4 || len(w) < 4 {
		return 0
	}
	n := len(w) &^ 3
	_, _, _ = g[n-1], m[n-1], v[n-1]
	c := [8]float32{f32(h.lr), f32(h.b1), f32(h.b2), f32(h.omb1), f32(h.omb2), f32(h.eps), f32(h.s2), f32(h.decay)}
	adamF32SSE(f32s(w[:n]), f32s(g[:n]), f32s(m[:n]), f32s(v[:n]), &c)
	return n
}

func f32[T Float](x T) float32 { return *(*float32)(unsafe.Pointer(&x)) }

func f32s[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
