//go:build !amd64

package vec

func hasAVX512() bool { return false }

func sumTo512(acc *float64, x *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func sqDevTo512(acc *float64, x *float32, mean *float64, n int) {
	panic("vec: no AVX-512 on this architecture")
}

func gradSumsTo512(sg, sgx *float64, x, g *float32, mean *float64, n int) {
	panic("vec: no AVX-512 on this architecture")
}

func affine512(out, g, x, a, b, m, k *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func sumLanes512(x *float32, n int, lanes *[16]float64) {
	panic("vec: no AVX-512 on this architecture")
}

func sqDevLanes512(x *float32, n int, mu float64, lanes *[16]float64) {
	panic("vec: no AVX-512 on this architecture")
}

func gradSumsLanes512(x, gr *float32, n int, mu float64, lg, lgx *[16]float64) {
	panic("vec: no AVX-512 on this architecture")
}

func affineConst512(out, gr, x *float32, n int, c *[4]float32) {
	panic("vec: no AVX-512 on this architecture")
}
