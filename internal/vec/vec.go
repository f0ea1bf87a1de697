package vec

import "unsafe"

// Float is the element type of the kernels. The assembly is float32's; a
// float64 call always runs the Go loop.
type Float interface{ ~float32 | ~float64 }

// avx512 is whether the AVX-512F kernels run; tests switch it off to
// compare them with the Go loops.
var avx512 = hasAVX512()

// Accelerated reports whether the AVX-512F kernels are in use (for float32).
func Accelerated() bool { return avx512 }

// asm returns how many leading elements of n the assembly handles for T (a
// multiple of 16; 0 when it does not run); the Go loop does the rest.
func asm[T Float](n int) int {
	var zero T
	if !avx512 || unsafe.Sizeof(zero) != 4 {
		return 0
	}
	return n &^ 15
}

// f32 reinterprets the first element of a []T, T float32, for the assembly.
func f32[T Float](s []T) *float32 { return (*float32)(unsafe.Pointer(&s[0])) }

// The Go loops convert every product explicitly: the language defines that
// to stop the compiler from fusing it into a multiply-add (which it may do
// with GOAMD64=v3), so they round exactly as the assembly does.

// SumTo adds x into acc elementwise, in float64: acc[i] += float64(x[i]).
// acc must be at least as long as x.
func SumTo[T Float](acc []float64, x []T) {
	acc = acc[:len(x)]
	i := asm[T](len(x))
	if i > 0 {
		sumTo512(&acc[0], f32(x), i)
	}
	for ; i < len(x); i++ {
		acc[i] += float64(x[i])
	}
}

// SqDevTo adds the squared deviations from mean into acc elementwise:
// acc[i] += (float64(x[i]) − mean[i])². acc and mean must be at least as
// long as x.
func SqDevTo[T Float](acc []float64, x []T, mean []float64) {
	acc, mean = acc[:len(x)], mean[:len(x)]
	i := asm[T](len(x))
	if i > 0 {
		sqDevTo512(&acc[0], f32(x), &mean[0], i)
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - mean[i]
		acc[i] += float64(d * d)
	}
}

// GradSumsTo adds g into sg and g·(x − mean) into sgx elementwise, in
// float64. x, g, sgx and mean must be at least as long as sg.
func GradSumsTo[T Float](sg, sgx []float64, x, g []T, mean []float64) {
	n := len(sg)
	sgx, x, g, mean = sgx[:n], x[:n], g[:n], mean[:n]
	i := asm[T](n)
	if i > 0 {
		gradSumsTo512(&sg[0], &sgx[0], f32(x), f32(g), &mean[0], i)
	}
	for ; i < n; i++ {
		gv := float64(g[i])
		sg[i] += gv
		sgx[i] += float64(gv * (float64(x[i]) - mean[i]))
	}
}

// Affine writes out[i] = a[i]·g[i] + b[i]·(x[i] − m[i]) + k[i] in T,
// rounded after each operation in that order. Every slice must be at least
// as long as out.
func Affine[T Float](out, g, x, a, b, m, k []T) {
	n := len(out)
	g, x, a, b, m, k = g[:n], x[:n], a[:n], b[:n], m[:n], k[:n]
	i := asm[T](n)
	if i > 0 {
		affine512(f32(out), f32(g), f32(x), f32(a), f32(b), f32(m), f32(k), i)
	}
	for ; i < n; i++ {
		out[i] = T(a[i]*g[i]) + T(b[i]*(x[i]-m[i])) + k[i]
	}
}

// AffineConst is Affine with constant a, b, m, k. g and x must be at least
// as long as out.
func AffineConst[T Float](out, g, x []T, a, b, m, k T) {
	n := len(out)
	g, x = g[:n], x[:n]
	i := asm[T](n)
	if i > 0 {
		c := [4]float32{float32(a), float32(b), float32(m), float32(k)}
		affineConst512(f32(out), f32(g), f32(x), i, &c)
	}
	for ; i < n; i++ {
		out[i] = T(a*g[i]) + T(b*(x[i]-m)) + k
	}
}

// The reductions over one run of values (a channel of a convolution's
// output, say) keep 16 partial sums, lane l taking the elements i ≡ l
// (mod 16) of the leading multiple of 16, then add the lanes in order and
// the remaining elements one by one: the same order in the Go loop and in
// the assembly, so both give the same bits, and 16 independent chains
// instead of one.

// Sum returns Σ float64(x[i]).
func Sum[T Float](x []T) float64 {
	var l [16]float64
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		sumLanes512(f32(x), n, &l)
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				l[j] += float64(v)
			}
		}
	}
	s := addLanes(&l)
	for _, v := range x[n:] {
		s += float64(v)
	}
	return s
}

// SqDev returns Σ (float64(x[i]) − mu)².
func SqDev[T Float](x []T, mu float64) float64 {
	var l [16]float64
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		sqDevLanes512(f32(x), n, mu, &l)
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				d := float64(v) - mu
				l[j] += float64(d * d)
			}
		}
	}
	s := addLanes(&l)
	for _, v := range x[n:] {
		d := float64(v) - mu
		s += float64(d * d)
	}
	return s
}

// GradSums returns Σ g[i] and Σ g[i]·(x[i] − mu), in float64. g must be at
// least as long as x.
func GradSums[T Float](x, g []T, mu float64) (sg, sgx float64) {
	g = g[:len(x)]
	var lg, lgx [16]float64
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		gradSumsLanes512(f32(x), f32(g), n, mu, &lg, &lgx)
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				gv := float64(g[i+j])
				lg[j] += gv
				lgx[j] += float64(gv * (float64(v) - mu))
			}
		}
	}
	sg, sgx = addLanes(&lg), addLanes(&lgx)
	for i := n; i < len(x); i++ {
		gv := float64(g[i])
		sg += gv
		sgx += float64(gv * (float64(x[i]) - mu))
	}
	return sg, sgx
}

// addLanes returns l[0] + l[1] + … + l[15], in that order.
func addLanes(l *[16]float64) float64 {
	var s float64
	for _, v := range l {
		s += v
	}
	return s
}
