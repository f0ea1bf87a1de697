package vec

// avx512 is whether the AVX-512F kernels run; tests switch it off to
// compare them with the Go loops.
var avx512 = hasAVX512()

// Accelerated reports whether the AVX-512F kernels are in use.
func Accelerated() bool { return avx512 }

// lanes is the number of leading elements the assembly handles per call
// (a multiple of 16); the Go loop does the rest.
func lanes(n int) int { return n &^ 15 }

// SumTo adds x into acc elementwise, in float64: acc[i] += float64(x[i]).
// acc must be at least as long as x.
func SumTo(acc []float64, x []float32) {
	acc = acc[:len(x)]
	i := 0
	if avx512 {
		if i = lanes(len(x)); i > 0 {
			sumTo512(&acc[0], &x[0], i)
		}
	}
	for ; i < len(x); i++ {
		acc[i] += float64(x[i])
	}
}

// SqDevTo adds the squared deviations from mean into acc elementwise:
// acc[i] += (float64(x[i]) − mean[i])². acc and mean must be at least as
// long as x.
func SqDevTo(acc []float64, x []float32, mean []float64) {
	acc, mean = acc[:len(x)], mean[:len(x)]
	i := 0
	if avx512 {
		if i = lanes(len(x)); i > 0 {
			sqDevTo512(&acc[0], &x[0], &mean[0], i)
		}
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - mean[i]
		acc[i] += d * d
	}
}

// GradSumsTo adds g into sg and g·(x − mean) into sgx elementwise, in
// float64. x, g, sgx and mean must be at least as long as sg.
func GradSumsTo(sg, sgx []float64, x, g []float32, mean []float64) {
	n := len(sg)
	sgx, x, g, mean = sgx[:n], x[:n], g[:n], mean[:n]
	i := 0
	if avx512 {
		if i = lanes(n); i > 0 {
			gradSumsTo512(&sg[0], &sgx[0], &x[0], &g[0], &mean[0], i)
		}
	}
	for ; i < n; i++ {
		gv := float64(g[i])
		sg[i] += gv
		sgx[i] += gv * (float64(x[i]) - mean[i])
	}
}

// Affine writes out[i] = a[i]·g[i] + b[i]·(x[i] − m[i]) + k[i], in float32,
// rounded after each operation in that order. Every slice must be at least
// as long as out.
func Affine(out, g, x, a, b, m, k []float32) {
	n := len(out)
	g, x, a, b, m, k = g[:n], x[:n], a[:n], b[:n], m[:n], k[:n]
	i := 0
	if avx512 {
		if i = lanes(n); i > 0 {
			affine512(&out[0], &g[0], &x[0], &a[0], &b[0], &m[0], &k[0], i)
		}
	}
	for ; i < n; i++ {
		out[i] = a[i]*g[i] + b[i]*(x[i]-m[i]) + k[i]
	}
}
