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
		acc[i] += float64(d * d)
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
		sgx[i] += float64(gv * (float64(x[i]) - mean[i]))
	}
}

// Affine writes out[i] = a[i]·g[i] + b[i]·(x[i] − m[i]) + k[i], in float32,
// rounded after each operation in that order (the Go loops convert every
// product explicitly, which the language defines to stop the compiler from
// fusing it into a multiply-add, as it may with GOAMD64=v3). Every slice must be at least
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
		out[i] = float32(a[i]*g[i]) + float32(b[i]*(x[i]-m[i])) + k[i]
	}
}

// The reductions over one run of values (a channel of a convolution's
// output, say) keep 16 partial sums, lane l taking the elements i ≡ l
// (mod 16) of the leading multiple of 16, then add the lanes in order and
// the remaining elements one by one: the same order in the Go loop and in
// the assembly, so both give the same bits, and 16 independent chains
// instead of one.

// Sum returns Σ float64(x[i]).
func Sum(x []float32) float64 {
	var lanes [16]float64
	n := lanes16(x, &lanes, func(l *[16]float64, i int) {
		for j := range 16 {
			l[j] += float64(x[i+j])
		}
	}, func(n int) { sumLanes512(&x[0], n, &lanes) })
	s := addLanes(&lanes)
	for _, v := range x[n:] {
		s += float64(v)
	}
	return s
}

// SqDev returns Σ (float64(x[i]) − mu)².
func SqDev(x []float32, mu float64) float64 {
	var lanes [16]float64
	n := lanes16(x, &lanes, func(l *[16]float64, i int) {
		for j := range 16 {
			d := float64(x[i+j]) - mu
			l[j] += float64(d * d)
		}
	}, func(n int) { sqDevLanes512(&x[0], n, mu, &lanes) })
	s := addLanes(&lanes)
	for _, v := range x[n:] {
		d := float64(v) - mu
		s += float64(d * d)
	}
	return s
}

// GradSums returns Σ g[i] and Σ g[i]·(x[i] − mu), in float64. g must be at
// least as long as x.
func GradSums(x, g []float32, mu float64) (sg, sgx float64) {
	g = g[:len(x)]
	var lg, lgx [16]float64
	n := lanes16(x, &lg, func(l *[16]float64, i int) {
		for j := range 16 {
			gv := float64(g[i+j])
			l[j] += gv
			lgx[j] += float64(gv * (float64(x[i+j]) - mu))
		}
	}, func(n int) { gradSumsLanes512(&x[0], &g[0], n, mu, &lg, &lgx) })
	sg, sgx = addLanes(&lg), addLanes(&lgx)
	for i := n; i < len(x); i++ {
		gv := float64(g[i])
		sg += gv
		sgx += float64(gv * (float64(x[i]) - mu))
	}
	return sg, sgx
}

// AffineConst writes out[i] = a·g[i] + b·(x[i] − m) + k for constants a, b,
// m, k, in float32, rounded after each operation in that order. g and x
// must be at least as long as out.
func AffineConst(out, g, x []float32, a, b, m, k float32) {
	n := len(out)
	g, x = g[:n], x[:n]
	i := 0
	if avx512 {
		if i = lanes(n); i > 0 {
			affineConst512(&out[0], &g[0], &x[0], i, &[4]float32{a, b, m, k})
		}
	}
	for ; i < n; i++ {
		out[i] = float32(a*g[i]) + float32(b*(x[i]-m)) + k
	}
}

// lanes16 runs the lane accumulation over the leading multiple of 16 of x,
// with the assembly when it runs, else 16 elements at a time in Go, and
// returns how many elements it took.
func lanes16(x []float32, l *[16]float64, goBlock func(l *[16]float64, i int), asm func(n int)) int {
	n := lanes(len(x))
	if n == 0 {
		return 0
	}
	if avx512 {
		asm(n)
		return n
	}
	for i := 0; i < n; i += 16 {
		goBlock(l, i)
	}
	return n
}

// addLanes returns l[0] + l[1] + … + l[15], in that order.
func addLanes(l *[16]float64) float64 {
	var s float64
	for _, v := range l {
		s += v
	}
	return s
}
