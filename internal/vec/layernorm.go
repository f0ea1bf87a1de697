package vec

import "unsafe"

// The row kernels of layer normalization (ops.LayerNorm), generic over
// float32 and float64, each with one Go loop and, for float32, an AVX-512F
// version performing the same operations in the same order. Sums run in 16
// lanes of T (lane i mod 16 over the leading multiple of 16), the lanes then
// added in order in float64, then the rest in float64: float32 rows are
// summed in float32 lanes, as PyTorch does, and the lanes combined in
// float64.

// lanes32 reinterprets lanes of float32 for the assembly.
func lanes32[T Float](l *[16]T) *[16]float32 { return (*[16]float32)(unsafe.Pointer(l)) }

// addLanesT adds lanes in order in float64.
func addLanesT[T Float](l *[16]T) float64 {
	var s float64
	for _, v := range l {
		s += float64(v)
	}
	return s
}

// Moments returns s = x[0] and the sums Σ (x[i] − s) and Σ (x[i] − s)², in
// one pass: the mean is s + S1/n and the variance S2/n − (S1/n)² (accurate
// because s is an element of x). x must not be empty.
func Moments[T Float](x []T) (s, s1, s2 float64) {
	x0 := x[0]
	var l1, l2 [16]T
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		momentsLanes512(f32(x), n, float32(x0), lanes32(&l1), lanes32(&l2))
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				d := v - x0
				l1[j] += d
				l2[j] += T(d * d)
			}
		}
	}
	s1, s2 = addLanesT(&l1), addLanesT(&l2)
	for _, v := range x[n:] {
		d := v - x0
		s1 += float64(d)
		s2 += float64(T(d * d))
	}
	return float64(x0), s1, s2
}

// LayerNormRow writes y[j] = ((x[j] − m)·inv)·gamma[j] + beta[j], rounded
// after each operation in that order. y, gamma and beta must be at least
// as long as x.
func LayerNormRow[T Float](y, x, gamma, beta []T, m, inv T) {
	n := len(x)
	y, gamma, beta = y[:n], gamma[:n], beta[:n]
	i := asm[T](n)
	if i > 0 {
		c := [2]float32{float32(m), float32(inv)}
		lnRow512(f32(y), f32(x), f32(gamma), f32(beta), i, &c)
	}
	for ; i < n; i++ {
		y[i] = T(T((x[i]-m)*inv)*gamma[i]) + beta[i]
	}
}

// GammaGradSums returns Σ g[j]·gamma[j] and Σ g[j]·gamma[j]·(x[j] − mu), in
// lanes of T as Moments. g and gamma must be at least as long as x.
func GammaGradSums[T Float](x, g, gamma []T, mu T) (s1, s2 float64) {
	g, gamma = g[:len(x)], gamma[:len(x)]
	var l1, l2 [16]T
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		gammaGradSumsLanes512(f32(x), f32(g), f32(gamma), n, float32(mu), lanes32(&l1), lanes32(&l2))
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				gg := T(g[i+j] * gamma[i+j])
				l1[j] += gg
				l2[j] += T(gg * (v - mu))
			}
		}
	}
	s1, s2 = addLanesT(&l1), addLanesT(&l2)
	for i := n; i < len(x); i++ {
		gg := T(g[i] * gamma[i])
		s1 += float64(gg)
		s2 += float64(T(gg * (x[i] - mu)))
	}
	return s1, s2
}

// LayerNormGradRow writes one row of layer normalization's input gradient
// and adds its terms of the parameters' gradients: with
// xh = (x[j] − m)·inv,
//
//	dx[j] = inv·((g[j]·gamma[j] − s1) − xh·s2)
//	pg[j] += g[j]·xh,  pb[j] += g[j]
//
// rounded to T after each operation in that order. Every slice must be at
// least as long as x.
func LayerNormGradRow[T Float](dx, x, g, gamma, pg, pb []T, m, inv, s1, s2 T) {
	n := len(x)
	dx, g, gamma, pg, pb = dx[:n], g[:n], gamma[:n], pg[:n], pb[:n]
	i := asm[T](n)
	if i > 0 {
		c := [4]float32{float32(m), float32(inv), float32(s1), float32(s2)}
		lnGradRow512(f32(dx), f32(x), f32(g), f32(gamma), f32(pg), f32(pb), i, &c)
	}
	for ; i < n; i++ {
		xh := T((x[i] - m) * inv)
		d := T(g[i]*gamma[i]) - s1 - T(xh*s2)
		dx[i] = T(inv * d)
		pg[i] += T(g[i] * xh)
		pb[i] += g[i]
	}
}
