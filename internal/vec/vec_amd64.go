package vec

import "golang.org/x/sys/cpu"

// hasAVX512 reports AVX-512F; x/sys/cpu reports it only when the operating
// system saves the ZMM registers too.
func hasAVX512() bool { return cpu.X86.HasAVX512F }

// The AVX-512F kernels handle n elements, a multiple of 16, from the given
// first elements.

//go:noescape
func sumTo512(acc *float64, x *float32, n int)

//go:noescape
func sqDevTo512(acc *float64, x *float32, mean *float64, n int)

//go:noescape
func gradSumsTo512(sg, sgx *float64, x, gr *float32, mean *float64, n int)

//go:noescape
func affine512(out, gr, x, a, b, m, k *float32, n int)

//go:noescape
func sumLanes512(x *float32, n int, lanes *[16]float64)

//go:noescape
func sqDevLanes512(x *float32, n int, mu float64, lanes *[16]float64)

//go:noescape
func gradSumsLanes512(x, gr *float32, n int, mu float64, lg, lgx *[16]float64)

//go:noescape
func affineConst512(out, gr, x *float32, n int, c *[4]float32)
