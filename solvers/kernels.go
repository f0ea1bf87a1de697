package solvers

import (
	"math"
	"unsafe"
)

// kernels is an algorithm's fused kernel in both dtypes: each runs the
// update of one job over the element range [lo, hi). An algorithm's file
// supplies them (in its meta), so adding an algorithm touches no other file.
type kernels struct {
	f32 func(j *job[float32], lo, hi int)
	f64 func(j *job[float64], lo, hi int)
}

// prep is the gradient preprocessing of Options, converted to T.
type prep[T Float] struct {
	l1, wd, scale, clip, ns T
	on                      bool // any of the above is not the identity
}

// apply returns the preprocessed gradient element g of weight w:
// L1, coupled L2, 1/batch scaling, clip by value, global-norm scale, in that order.
func (p *prep[T]) apply(g, w T) T {
	if p.l1 != 0 {
		if w > 0 {
			g += p.l1
		} else if w < 0 {
			g -= p.l1
		}
	}
	g += p.wd * w
	g *= p.scale
	if c := p.clip; c > 0 {
		if g > c {
			g = c
		} else if g < -c {
			g = -c
		}
	}
	return g * p.ns
}

// hyper holds the per-parameter, per-step constants of a kernel, converted to T.
type hyper[T Float] struct {
	lr, lr2       T // step sizes (bias corrections folded in where the rule has them)
	b1, b2        T // β1, β2 (ρ of RMSProp/Adadelta is b2)
	omb1, omb2    T // 1−β1, 1−β2
	eps, epsIn    T // ε outside / inside the square root (one of them is 0)
	mom           T // momentum μ
	decay         T // decoupled weight decay factor 1 − lr·λ (1 when off)
	s2            T // 1/√(1−β2^t)
	tiny          T // smallest normal number of T: decaying state below it is flushed to 0
	ams, nesterov bool
	centered      bool
	useMom        bool
}

// smallestNormal returns the smallest positive normal number of T.
//
// Moving averages of a gradient that stays 0 (a ReLU unit off for every
// example) decay geometrically — Adam's m by β1 each step — and after a few
// hundred steps reach subnormal numbers, on which every arithmetic operation
// takes a slow microcode path: measured here, Adam's step then costs 2–3×
// more and a whole training step about 2× more. The kernels of Adam, AMSGrad
// and Momentum flush such values to 0 (what a CPU's flush-to-zero mode does
// in hardware); the update they would have made is below 1e-30 of the
// weights in any case.
func smallestNormal[T Float]() T {
	var x T
	if unsafe.Sizeof(x) == 4 {
		return T(float32(0x1p-126))
	}
	return T(0x1p-1022)
}

func castHyper[T Float](h *hyper[float64]) hyper[T] {
	return hyper[T]{
		lr: T(h.lr), lr2: T(h.lr2), b1: T(h.b1), b2: T(h.b2), omb1: T(h.omb1), omb2: T(h.omb2),
		eps: T(h.eps), epsIn: T(h.epsIn), mom: T(h.mom), decay: T(h.decay), s2: T(h.s2), tiny: smallestNormal[T](),
		ams: h.ams, nesterov: h.nesterov, centered: h.centered, useMom: h.useMom,
	}
}

func castPrep[T Float](p *prep[float64]) prep[T] {
	return prep[T]{l1: T(p.l1), wd: T(p.wd), scale: T(p.scale), clip: T(p.clip), ns: T(p.ns), on: p.on}
}

// sqrt is a square root in T; for float32 the compiler turns the
// float64 round trip into a single-precision SQRTSS, which is correctly rounded.
func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }

// job is one parameter's kernel invocation; the pool runs it over index ranges.
type job[T Float] struct {
	kern       func(j *job[T], lo, hi int) // nil for the global norm
	norm       bool
	w, g       []T
	s0, s1, s2 []T // state slots, by the algorithm's slot order; nil when unused
	h          hyper[T]
	p          prep[T]
	partials   []float64 // norm: one sum of squares per normChunk
}

func sub[T Float](s []T, lo, hi int) []T {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

func (j *job[T]) Run(_, lo, hi int) {
	if j.norm {
		// lo, hi are chunk indices here.
		for c := lo; c < hi; c++ {
			a := c * normChunk
			b := min(a+normChunk, len(j.w))
			j.partials[c] = sumSquares(j.w[a:b], j.g[a:b], &j.p)
		}
		return
	}
	if !j.p.on {
		j.kern(j, lo, hi)
		return
	}
	// Preprocess the gradient in place one L1-sized block at a time, then run
	// the kernel on the block: still one pass over memory, and the kernels'
	// inner loops stay free of option branches.
	for a := lo; a < hi; a += block {
		b := min(a+block, hi)
		prepBlock(j.w[a:b], j.g[a:b], &j.p)
		j.kern(j, a, b)
	}
}

// block is the number of elements preprocessed ahead of a kernel (L1-resident).
const block = 512

func prepBlock[T Float](w, g []T, pp *prep[T]) {
	p := *pp
	g = g[:len(w)]
	for i, wi := range w {
		g[i] = p.apply(g[i], wi)
	}
}

// b2i is 1 for true, 0 for false (compiled to SETcc, without a branch).
func b2i(b bool) int8 {
	var x int8
	if b {
		x = 1
	}
	return x
}

// sumSquares returns Σ prep(g)² in float64 (without the norm scale), reading only.
func sumSquares[T Float](w, g []T, pp *prep[T]) float64 {
	p := *pp
	p.ns = 1
	var s float64
	g = g[:len(w)]
	for i, gi := range g {
		gi = p.apply(gi, w[i])
		s += float64(gi) * float64(gi)
	}
	return s
}

// sgdKernel: w −= lr·g.
func sgdKernel[T Float](w, g []T, h *hyper[T]) {
	if k := sgdFast(w, g, h); k > 0 {
		w, g = w[k:], g[k:]
	}
	lr := h.lr
	g = g[:len(w)]
	for i, wi := range w {
		gi := g[i]
		w[i] = wi - T(lr*gi)
		g[i] = 0
	}
}

// momentumKernel: b = μ·b + g; w −= lr·b, or w −= lr·(g + μ·b) with Nesterov.
//
// The flush tests |b| < tiny, one branch that is almost never taken. It was
// written b < tiny && b > −tiny, which the compiler turns into a first branch
// on the sign of b: random for a gradient, so mispredicted on half the
// elements, and the loop ran at ~4–9 ns per element instead of ~1.
func momentumKernel[T Float](w, g, b []T, h *hyper[T]) {
	if k := momentumFast(w, g, b, h); k > 0 {
		w, g, b = w[k:], g[k:], b[k:]
	}
	lr, mu, nest, tiny := h.lr, h.mom, h.nesterov, h.tiny
	g, b = g[:len(w)], b[:len(w)]
	for i, wi := range w {
		gi := g[i]
		bi := T(mu*b[i]) + gi
		if abs(bi) < tiny {
			bi = 0
		}
		b[i] = bi
		if nest {
			bi = gi + T(mu*bi)
		}
		w[i] = wi - T(lr*bi)
		g[i] = 0
	}
}

// abs is |x| by clearing the sign bit (no branch on the sign; NaN stays NaN).
func abs[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(math.Float32frombits(math.Float32bits(float32(x)) &^ (1 << 31)))
	}
	return T(math.Abs(float64(x)))
}

// adagradKernel: s += g²; w −= lr·g/(√(s+εin) + ε).
func adagradKernel[T Float](w, g, s []T, h *hyper[T]) {
	if k := adagradFast(w, g, s, h); k > 0 {
		w, g, s = w[k:], g[k:], s[k:]
	}
	lr, eps, epsIn := h.lr, h.eps, h.epsIn
	g, s = g[:len(w)], s[:len(w)]
	for i, wi := range w {
		gi := g[i]
		si := s[i] + T(gi*gi)
		s[i] = si
		w[i] = wi - lr*gi/(sqrt(si+epsIn)+eps)
		g[i] = 0
	}
}

// rmspropKernel: sq = ρ·sq + (1−ρ)·g²; centered: a = ρ·a + (1−ρ)·g, d = √(sq − a² + εin) + ε,
// else d = √(sq + εin) + ε; with momentum b = μ·b + g/d, w −= lr·b, else w −= lr·g/d.
func rmspropKernel[T Float](w, g, sq, buf, ga []T, h *hyper[T]) {
	lr, rho, omr, eps, epsIn, mu := h.lr, h.b2, h.omb2, h.eps, h.epsIn, h.mom
	centered, useMom := h.centered, h.useMom
	if !centered && !useMom {
		if k := rmspropFast(w, g, sq, h); k > 0 {
			w, g, sq = w[k:], g[k:], sq[k:]
		}
	}
	g, sq = g[:len(w)], sq[:len(w)]
	for i, wi := range w {
		gi := g[i]
		si := T(rho*sq[i]) + T(omr*(gi*gi))
		sq[i] = si
		if centered {
			ai := T(rho*ga[i]) + T(omr*gi)
			ga[i] = ai
			si -= T(ai * ai)
		}
		u := gi / (sqrt(si+epsIn) + eps)
		if useMom {
			u += T(mu * buf[i])
			buf[i] = u
		}
		w[i] = wi - T(lr*u)
		g[i] = 0
	}
}

// adadeltaKernel: sq = ρ·sq + (1−ρ)·g²; δ = √(acc+ε)/√(sq+ε)·g; acc = ρ·acc + (1−ρ)·δ²; w −= lr·δ.
func adadeltaKernel[T Float](w, g, sq, acc []T, h *hyper[T]) {
	lr, rho, omr, eps := h.lr, h.b2, h.omb2, h.eps
	g, sq, acc = g[:len(w)], sq[:len(w)], acc[:len(w)]
	for i, wi := range w {
		gi := g[i]
		si := rho*sq[i] + omr*(gi*gi)
		sq[i] = si
		ai := acc[i]
		d := sqrt(ai+eps) / sqrt(si+eps) * gi
		acc[i] = rho*ai + omr*(d*d)
		w[i] = wi - lr*d
		g[i] = 0
	}
}

// adamKernel: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// w = decay·w − lr·m/(√v·s2 + ε), with lr = η/(1−β1^t) and s2 = 1/√(1−β2^t).
func adamKernel[T Float](w, g, m, v []T, h *hyper[T]) {
	if k := adamFast(w, g, m, v, h); k > 0 {
		w, g, m, v = w[k:], g[k:], m[k:], v[k:]
	}
	a, b1, b2, omb1, omb2, eps, s2, decay, tiny := h.lr, h.b1, h.b2, h.omb1, h.omb2, h.eps, h.s2, h.decay, h.tiny
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, wi := range w {
		gi := g[i]
		mi := T(b1*m[i]) + T(omb1*gi)
		vi := T(b2*v[i]) + T(omb2*(gi*gi))
		if abs(mi) < tiny {
			mi = 0
		}
		if vi < tiny {
			vi = 0
		}
		m[i], v[i] = mi, vi
		w[i] = T(wi*decay) - a*mi/(T(sqrt(vi)*s2)+eps)
		g[i] = 0
	}
}

// amsgradKernel is adamKernel with vmax = max(vmax, v) used in place of v.
func amsgradKernel[T Float](w, g, m, v, vmax []T, h *hyper[T]) {
	a, b1, b2, omb1, omb2, eps, s2, decay, tiny := h.lr, h.b1, h.b2, h.omb1, h.omb2, h.eps, h.s2, h.decay, h.tiny
	g, m, v, vmax = g[:len(w)], m[:len(w)], v[:len(w)], vmax[:len(w)]
	for i, wi := range w {
		gi := g[i]
		mi := b1*m[i] + omb1*gi
		vi := b2*v[i] + omb2*(gi*gi)
		if abs(mi) < tiny {
			mi = 0
		}
		if vi < tiny {
			vi = 0
		}
		m[i], v[i] = mi, vi
		if x := vmax[i]; x > vi {
			vi = x
		}
		vmax[i] = vi
		w[i] = wi*decay - a*mi/(sqrt(vi)*s2+eps)
		g[i] = 0
	}
}

// adamaxKernel: m = β1·m + (1−β1)·g; u = max(β2·u, |g| + ε); w −= lr·m/u, lr = η/(1−β1^t).
func adamaxKernel[T Float](w, g, m, u []T, h *hyper[T]) {
	a, b1, b2, omb1, eps := h.lr, h.b1, h.b2, h.omb1, h.eps
	g, m, u = g[:len(w)], m[:len(w)], u[:len(w)]
	for i, wi := range w {
		gi := g[i]
		mi := b1*m[i] + omb1*gi
		m[i] = mi
		ui := b2 * u[i]
		ag := gi
		if ag < 0 {
			ag = -ag
		}
		if ag += eps; ag > ui {
			ui = ag
		}
		u[i] = ui
		w[i] = wi - a*mi/ui
		g[i] = 0
	}
}

// nadamKernel: m, v as Adam; d = √v·s2 + ε; w −= (lr·g + lr2·m)/d with lr and lr2 the
// NAdam step sizes for the gradient and the momentum terms.
func nadamKernel[T Float](w, g, m, v []T, h *hyper[T]) {
	c1, c2, b1, b2, omb1, omb2, eps, s2 := h.lr, h.lr2, h.b1, h.b2, h.omb1, h.omb2, h.eps, h.s2
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, wi := range w {
		gi := g[i]
		mi := b1*m[i] + omb1*gi
		vi := b2*v[i] + omb2*(gi*gi)
		m[i], v[i] = mi, vi
		w[i] = wi - (c1*gi+c2*mi)/(sqrt(vi)*s2+eps)
		g[i] = 0
	}
}

// lionKernel: c = β1·m + (1−β1)·g; w = decay·w − lr·sign(c); m = β2·m + (1−β2)·g.
func lionKernel[T Float](w, g, m []T, h *hyper[T]) {
	lr, b1, b2, omb1, omb2, decay := h.lr, h.b1, h.b2, h.omb1, h.omb2, h.decay
	g, m = g[:len(w)], m[:len(w)]
	for i, wi := range w {
		gi := g[i]
		mi := m[i]
		c := b1*mi + omb1*gi
		// lr·sign(c) without a data-dependent branch (the signs of c are
		// random, a branch on them mispredicts half the time); c == 0 is rare.
		w[i] = wi*decay - lr*T(b2i(c > 0)-b2i(c < 0))
		m[i] = b2*mi + omb2*gi
		g[i] = 0
	}
}
