package vec

// The row kernels of layer normalization (ops.LayerNorm), generic over
// float32 and float64, each with one Go loop and, for float32, an AVX-512F
// version performing the same operations in the same order.

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

// GammaGradSums returns Σ g[j]·gamma[j] and Σ g[j]·gamma[j]·(x[j] − mu) in
// float64, each product g·gamma rounded to T first, in Sum's order (16
// lanes, then the rest). g and gamma must be at least as long as x.
func GammaGradSums[T Float](x, g, gamma []T, mu float64) (s1, s2 float64) {
	g, gamma = g[:len(x)], gamma[:len(x)]
	var l1, l2 [16]float64
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		gammaGradSumsLanes512(f32(x), f32(g), f32(gamma), n, mu, &l1, &l2)
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				gg := float64(T(g[i+j] * gamma[i+j]))
				l1[j] += gg
				l2[j] += float64(gg * (float64(v) - mu))
			}
		}
	}
	s1, s2 = addLanes(&l1), addLanes(&l2)
	for i := n; i < len(x); i++ {
		gg := float64(T(g[i] * gamma[i]))
		s1 += gg
		s2 += float64(gg * (float64(x[i]) - mu))
	}
	return s1, s2
}

// LayerNormGradRow writes one row of layer normalization's input gradient
// and adds its terms of the parameters' gradients: with
// xh = (x[j] − m)·inv,
//
//	dx[j] = inv·((g[j]·gamma[j] − s1) − xh·s2)
//	pg[j] += float64(g[j]·xh),  pb[j] += float64(g[j])
//
// rounded to T after each operation in that order. Every slice must be at
// least as long as x.
func LayerNormGradRow[T Float](dx, x, g, gamma []T, pg, pb []float64, m, inv, s1, s2 T) {
	n := len(x)
	dx, g, gamma, pg, pb = dx[:n], g[:n], gamma[:n], pg[:n], pb[:n]
	i := asm[T](n)
	if i > 0 {
		c := [4]float32{float32(m), float32(inv), float32(s1), float32(s2)}
		lnGradRow512(f32(dx), f32(x), f32(g), f32(gamma), &pg[0], &pb[0], i, &c)
	}
	for ; i < n; i++ {
		xh := T((x[i] - m) * inv)
		d := T(g[i]*gamma[i]) - s1 - T(xh*s2)
		dx[i] = T(inv * d)
		pg[i] += float64(T(g[i] * xh))
		pb[i] += float64(g[i])
	}
}

// Moments returns Σ (x[i] − s) and Σ (x[i] − s)² with s = float64(x[0]),
// in float64, in one pass, in Sum's order (16 lanes, then the rest): the
// mean is s + S1/n and the variance S2/n − (S1/n)², accurate in float64
// since s is an element of x. x must not be empty.
func Moments[T Float](x []T) (s, s1, s2 float64) {
	s = float64(x[0])
	var l1, l2 [16]float64
	n := len(x) &^ 15
	if asm[T](n) > 0 {
		momentsLanes512(f32(x), n, s, &l1, &l2)
	} else {
		for i := 0; i < n; i += 16 {
			for j, v := range x[i : i+16] {
				d := float64(v) - s
				l1[j] += d
				l2[j] += float64(d * d)
			}
		}
	}
	s1, s2 = addLanes(&l1), addLanes(&l2)
	for _, v := range x[n:] {
		d := float64(v) - s
		s1 += d
		s2 += float64(d * d)
	}
	return s, s1, s2
}
