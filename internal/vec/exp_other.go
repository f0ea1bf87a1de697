//go:build !amd64

package vec

func expShift512(dst, x *float32, n int, shift float32) {
	panic("vec: no AVX-512 on this architecture")
}

func sigmoid512(dst, x *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func tanh512(dst, x *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func lnRow512(y, x, gamma, beta *float32, n int, c *[2]float32) {
	panic("vec: no AVX-512 on this architecture")
}

func gammaGradSumsLanes512(x, gr, gamma *float32, n int, mu float32, l1, l2 *[16]float32) {
	panic("vec: no AVX-512 on this architecture")
}

func lnGradRow512(dx, x, gr, gamma, pg, pb *float32, n int, c *[4]float32) {
	panic("vec: no AVX-512 on this architecture")
}

func maxLanes512(x *float32, n int, lanes *[16]float32) {
	panic("vec: no AVX-512 on this architecture")
}

func momentsLanes512(x *float32, n int, s float32, l1, l2 *[16]float32) {
	panic("vec: no AVX-512 on this architecture")
}
