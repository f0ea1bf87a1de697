package vec

// The AVX-512F exponential kernels handle n elements, a multiple of 16.

//go:noescape
func expShift512(dst, x *float32, n int, shift float32)

//go:noescape
func sigmoid512(dst, x *float32, n int)

//go:noescape
func tanh512(dst, x *float32, n int)

// The layer-norm row kernels handle n elements, a multiple of 16.

//go:noescape
func lnRow512(y, x, gamma, beta *float32, n int, c *[2]float32)

//go:noescape
func gammaGradSumsLanes512(x, gr, gamma *float32, n int, mu float32, l1, l2 *[16]float32)

//go:noescape
func lnGradRow512(dx, x, gr, gamma, pg, pb *float32, n int, c *[4]float32)

//go:noescape
func maxLanes512(x *float32, n int, lanes *[16]float32)

//go:noescape
func momentsLanes512(x *float32, n int, s float32, l1, l2 *[16]float32)
