package vec

// The AVX-512F exponential kernels handle n elements, a multiple of 16.

//go:noescape
func expShift512(dst, x *float32, n int, shift float32)

//go:noescape
func sigmoid512(dst, x *float32, n int)

//go:noescape
func tanh512(dst, x *float32, n int)
