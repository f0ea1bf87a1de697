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
