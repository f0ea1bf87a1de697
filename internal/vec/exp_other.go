//go:build !amd64

package vec

func expShift512(dst, x *float32, n int, shift float32) {
	panic("vec: no AVX-512 on this architecture")
}

func sigmoid512(dst, x *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func tanh512(dst, x *float32, n int) { panic("vec: no AVX-512 on this architecture") }
