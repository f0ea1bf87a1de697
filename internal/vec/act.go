package vec

import "unsafe"

// The kernels of a convolutional network's cheap layers — ReLU and its
// gradient, a per-channel bias, the 2×2 max pool and its gradient — which
// are passes over memory: as Go loops they cost more than the memory
// traffic (the pool was 17% of the CNN's training step). Each is one Go loop
// and, for float32, an AVX-512F version that gives the same bits.

// ReLU writes y[i] = max(x[i], 0) with Go's max: +0 for x ≤ 0 (−0
// included), x for x > 0 and for NaN. y must be at least as long as x.
func ReLU[T Float](y, x []T) {
	y = y[:len(x)]
	i := asm[T](len(x))
	if i > 0 {
		relu512(f32(y), f32(x), i)
	}
	for ; i < len(x); i++ {
		y[i] = max(x[i], 0)
	}
}

// ReLUGrad writes dx[i] = g[i] where y[i]'s bits are not all zero and +0
// elsewhere: for y a ReLU output (+0 or positive, or NaN) that is g where
// y > 0. Masking the bits has no branch to mispredict (a comparison of y
// mispredicts about half the time on real activations). dx and g must be
// at least as long as y.
func ReLUGrad[T Float](dx, y, g []T) {
	dx, g = dx[:len(y)], g[:len(y)]
	i := asm[T](len(y))
	if i > 0 {
		reluGrad512(f32(dx), f32(y), f32(g), i)
	}
	for ; i < len(y); i++ {
		dx[i] = KeepBits(g[i], NonzeroBits(y[i]))
	}
}

// AddConst writes y[i] = x[i] + c. y must be at least as long as x.
func AddConst[T Float](y, x []T, c T) {
	y = y[:len(x)]
	i := asm[T](len(x))
	if i > 0 {
		addConst512(f32(y), f32(x), i, float32(c))
	}
	for ; i < len(x); i++ {
		y[i] = x[i] + c
	}
}

// MaxPool2x2 pools a plane with 2×2 windows at stride 2: y holds oh rows
// of ow outputs (oh = len(y)/ow) and x rows of w ≥ 2·ow inputs, at least
// 2·oh of them. Output (i, k) is m = max(max(max(a, b), c), d), with Go's
// max (NaN wins, +0 over −0), of a, b = x[2i][2k], x[2i][2k+1] and c, d =
// x[2i+1][2k], x[2i+1][2k+1]; unless arg is nil (else len(y) long),
// arg[i·ow+k] is the position (0–3, in that order) of the first of them
// equal to m — of the last NaN if m is NaN.
func MaxPool2x2[T Float](y []T, arg []uint8, x []T, w, ow int) {
	if ow <= 0 || len(y) == 0 {
		return
	}
	oh := len(y) / ow
	_ = x[(2*oh-1)*w+2*ow-1] // the last element read
	if arg != nil {
		arg = arg[:len(y)]
	}
	for i := 0; i < oh; {
		if asm[T](16) > 0 {
			var ap *uint8
			if arg != nil {
				ap = &arg[i*ow]
			}
			// The assembly stops before a row with a NaN, which the loop
			// below then does (NaN's bits as Go's max gives them).
			i += maxPool2x2512(f32(y[i*ow:]), ap, f32(x[2*i*w:]), w, ow, oh-i)
			if i == oh {
				break
			}
		}
		maxPool2x2Row(y[i*ow:(i+1)*ow], arg, i*ow, x[2*i*w:2*i*w+2*ow], x[(2*i+1)*w:(2*i+1)*w+2*ow])
		i++
	}
}

// maxPool2x2Row is MaxPool2x2's Go loop for one output row; its argmax goes
// to arg[at:] unless arg is nil.
func maxPool2x2Row[T Float](y []T, arg []uint8, at int, r0, r1 []T) {
	r0, r1 = r0[:2*len(y)], r1[:2*len(y)]
	for k := range y {
		a, b, c, d := r0[2*k], r0[2*k+1], r1[2*k], r1[2*k+1]
		m := max(max(max(a, b), c), d)
		y[k] = m
		if arg == nil {
			continue
		}
		// The first element equal to m (m is not NaN), as a sum of
		// comparisons: no branch to mispredict.
		na, nb, nc := b2i(a != m), b2i(b != m), b2i(c != m)
		pos := na + na*nb + na*nb*nc
		if m != m { // the last NaN
			pos = 0
			switch {
			case d != d:
				pos = 3
			case c != c:
				pos = 2
			case b != b:
				pos = 1
			}
		}
		arg[at+k] = uint8(pos)
	}
}

// MaxPool2x2Grad is MaxPool2x2's gradient for a plane: dy[i·ow+k] + 0 (−0
// becomes +0) goes to the element arg[i·ow+k]&3 of window (i, k) of dx
// (rows of w ≥ 2·ow, at least 2·oh of them, oh = len(dy)/ow) and +0 to the
// window's other three elements. Columns from 2·ow and rows from 2·oh of dx
// are not written.
func MaxPool2x2Grad[T Float](dx, dy []T, arg []uint8, w, ow int) {
	if ow <= 0 || len(dy) == 0 {
		return
	}
	oh := len(dy) / ow
	_ = dx[(2*oh-1)*w+2*ow-1] // the last element written
	arg = arg[:len(dy)]
	if asm[T](16) > 0 {
		maxPool2x2Grad512(f32(dx), f32(dy), &arg[0], w, ow, oh)
		return
	}
	for i := range oh {
		r0, r1 := dx[2*i*w:2*i*w+2*ow], dx[(2*i+1)*w:(2*i+1)*w+2*ow]
		for k, v := range dy[i*ow : (i+1)*ow] {
			v += 0
			var q [4]T // no branch on the argmax: a store through it
			q[arg[i*ow+k]&3] = v
			r0[2*k], r0[2*k+1], r1[2*k], r1[2*k+1] = q[0], q[1], q[2], q[3]
		}
	}
}

// NonzeroBits is 1 when x's bits are not all zero (x is not +0), else 0,
// computed without a branch.
func NonzeroBits[T Float](x T) uint8 {
	if unsafe.Sizeof(x) == 4 {
		b := *(*uint32)(unsafe.Pointer(&x))
		return uint8((b | -b) >> 31)
	}
	b := *(*uint64)(unsafe.Pointer(&x))
	return uint8((b | -b) >> 63)
}

// KeepBits returns x when keep is 1 and +0 when it is 0 (keep must be one
// of the two), by masking x's bits: no branch on a random mask, and an Inf
// or NaN is cleared too. The size test is resolved at compile time for
// each element type.
func KeepBits[T Float](x T, keep uint8) T {
	if unsafe.Sizeof(x) == 4 {
		b := *(*uint32)(unsafe.Pointer(&x)) & -uint32(keep)
		return *(*T)(unsafe.Pointer(&b))
	}
	b := *(*uint64)(unsafe.Pointer(&x)) & -uint64(keep)
	return *(*T)(unsafe.Pointer(&b))
}

// b2i is 1 for true, 0 for false (compiled to a SETcc, no branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
