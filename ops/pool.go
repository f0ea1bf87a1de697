package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/vec"
)

// PoolOptions configure MaxPool2D and AvgPool2D. Each field is (height,
// width). Kernel entries must be > 0; a zero Stride entry means the kernel's
// (PyTorch's default); Padding entries must be in [0, Kernel/2], as in
// PyTorch, so every window holds at least one element of the input.
type PoolOptions struct{ Kernel, Stride, Padding [2]int }

// MaxPool2D returns the maximum of each KH×KW window of x, of shape
// (N, C, H, W), as torch.nn.functional.max_pool2d (floor mode, dilation 1):
// the output is (N, C, OH, OW), OH = (H + 2·ph − KH)/sh + 1, likewise OW
// (see PoolOutputShape), and padding never wins (it counts as −∞). The
// gradient routes each output gradient to the first maximum of its window in
// row-major order (PyTorch's choice for ties); a NaN in a window is its
// maximum, as in PyTorch.
func MaxPool2D(x *gorgonia.Node, opt PoolOptions) (*gorgonia.Node, error) {
	return pool2D("MaxPool2D", x, opt, poolMax)
}

// AvgPool2D returns the mean of each KH×KW window of x, of shape
// (N, C, H, W), as torch.nn.functional.avg_pool2d with its defaults (floor
// mode, count_include_pad=True): every window sum is divided by KH·KW,
// padding included. Output shape as for MaxPool2D; the gradient spreads
// each output gradient over its window, divided by KH·KW.
func AvgPool2D(x *gorgonia.Node, opt PoolOptions) (*gorgonia.Node, error) {
	return pool2D("AvgPool2D", x, opt, poolAvg)
}

// PoolOutputShape returns the (N, C, OH, OW) output shape of MaxPool2D and
// AvgPool2D for an input of shape x, or the error they would return.
func PoolOutputShape(x []int, opt PoolOptions) ([]int, error) {
	g, err := poolGeometry("Pool2D", x, opt)
	if err != nil {
		return nil, err
	}
	return []int{g.n, g.c, g.oh, g.ow}, nil
}

const (
	poolMax = iota
	poolAvg
)

func pool2D(name string, x *gorgonia.Node, opt PoolOptions, kind int) (*gorgonia.Node, error) {
	if err := checkFloat(name, "x", x); err != nil {
		return nil, err
	}
	g, err := poolGeometry(name, x.Shape(), opt)
	if err != nil {
		return nil, err
	}
	return applyDef(poolDef(g, kind, false), x)
}

// poolGeom is the validated geometry of one pooling op (the convGeom fields
// it uses: o is unused, dilation is 1).
type poolGeom = convGeom

func poolGeometry(op string, xs []int, opt PoolOptions) (poolGeom, error) {
	var g poolGeom
	if len(xs) != 4 {
		return g, fmt.Errorf("%w: %s: x has shape %v, want 4-D (N, C, H, W)", ErrShape, op, tensor.Shape(xs))
	}
	for i, d := range xs {
		if d <= 0 {
			return g, fmt.Errorf("%w: %s: x has shape %v, dimension %d is %d, want > 0", ErrShape, op, tensor.Shape(xs), i, d)
		}
	}
	k, err := pair2(op, "Kernel", opt.Kernel, 0, 1) // a zero kernel has no default
	if err != nil {
		return g, err
	}
	s, err := pair2(op, "Stride", opt.Stride, 0, 0)
	if err != nil {
		return g, err
	}
	for i := range 2 {
		if s[i] == 0 {
			s[i] = k[i]
		}
	}
	p, err := pair2(op, "Padding", opt.Padding, 0, 0)
	if err != nil {
		return g, err
	}
	for i, axis := range [2]string{"height", "width"} {
		if p[i] > k[i]/2 {
			return g, fmt.Errorf("%w: %s: Padding[%d] (%s) = %d, want ≤ Kernel[%d]/2 = %d", ErrConfig, op, i, axis, p[i], i, k[i]/2)
		}
	}
	g = poolGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: xs[1], kh: k[0], kw: k[1],
		sh: s[0], sw: s[1], ph: p[0], pw: p[1], dh: 1, dw: 1}
	if g.oh, err = outSize(op, "height", g.h, g.ph, g.kh, g.sh); err != nil {
		return g, err
	}
	if g.ow, err = outSize(op, "width", g.w, g.pw, g.kw, g.sw); err != nil {
		return g, err
	}
	return g, nil
}

func (g *poolGeom) poolString() string {
	return fmt.Sprintf("x=(%d,%d,%d,%d) kernel=(%d,%d) stride=(%d,%d) padding=(%d,%d)",
		g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw)
}

// poolDef is the forward op (x → y) or, with grad set, the gradient op
// (x, y, dy → dx) of a pooling kind (the average pool's ignores y).
func poolDef(g poolGeom, kind int, grad bool) *def {
	return poolDefOf(g, kind, grad, &poolJob[float32]{g: g, kind: kind, grad: grad}, &poolJob[float64]{g: g, kind: kind, grad: grad})
}

func poolDefOf(g poolGeom, kind int, grad bool, k32 *poolJob[float32], k64 *poolJob[float64]) *def {
	label := [2]string{"MaxPool2D", "AvgPool2D"}[kind]
	d := &def{typ: sig(4, 4), run32: k32.do, run64: k64.do, shape: tensor.Shape{g.n, g.c, g.oh, g.ow}}
	if grad {
		label += "Grad"
		d.typ, d.shape = sig(4, 4, 4, 4), tensor.Shape{g.n, g.c, g.h, g.w}
	} else {
		d.grad = func(in gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			// The max pool's gradient reads the forward op's argmax.
			dx, err := applyDef(poolDefOf(g, kind, true,
				&poolJob[float32]{g: g, kind: kind, grad: true, fwd: k32},
				&poolJob[float64]{g: g, kind: kind, grad: true, fwd: k64}), in[0], y, dy)
			return gorgonia.Nodes{dx}, err
		}
	}
	d.name, d.label = label+"("+g.poolString()+")", label
	return d
}

// poolJob runs a pooling op for element type T over the N·C planes of x.
//
// Each window is read once. The max pool's forward op also records, per
// output, where in its (clipped) window the gradient goes — one byte,
// r·width + c, for windows of at most 256 elements — and its gradient op
// scatters dy through those bytes when the forward op has run since it last
// ran (in a training step, always) instead of searching the windows of x
// again for y (which it still does otherwise).
type poolJob[T float] struct {
	g    poolGeom
	kind int
	grad bool
	r    parallel.Runner
	x    []T // input
	y    []T // output (grad ops)
	dy   []T // output gradient (grad ops)
	out  []T

	arg  []uint8     // max forward: the argmax of each output in its window
	runs uint64      // max forward: runs so far
	fwd  *poolJob[T] // max grad: the forward op's job
	seen uint64      // max grad: fwd.runs when this op last used fwd.arg
	use  bool        // max grad: this run scatters through fwd.arg
}

// argOK reports whether windows are small enough for a one-byte argmax.
func (g *poolGeom) argOK() bool { return g.kh*g.kw <= 256 }

func (j *poolJob[T]) do(out []T, in [][]T) error {
	g := &j.g
	xn, yn := g.n*g.c*g.h*g.w, g.n*g.c*g.p()
	j.x = in[0]
	ok := len(j.x) == xn && len(out) == yn
	if j.grad {
		j.y, j.dy = in[1], in[2]
		ok = len(j.x) == xn && len(j.y) == yn && len(j.dy) == yn && len(out) == xn
	}
	if !ok {
		return fmt.Errorf("%w: %s: input or output size does not match the geometry", ErrShape, g.poolString())
	}
	j.out = out
	if j.kind == poolMax && !j.grad && g.argOK() && len(j.arg) != yn {
		j.arg = make([]uint8, yn)
	}
	f := j.fwd
	j.use = j.kind == poolMax && j.grad && f != nil && f.runs != j.seen && len(f.arg) == yn
	if j.use {
		j.seen = f.runs
	}
	j.r.Run(j, g.n*g.c)
	if !j.grad {
		j.runs++
	}
	j.x, j.y, j.dy, j.out = nil, nil, nil, nil
	return nil
}

func (j *poolJob[T]) Run(_, lo, hi int) {
	g := &j.g
	if pool2x2 && g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && (!j.grad || j.kind == poolAvg || j.use) {
		j.run2x2(lo, hi)
		return
	}
	hw, p := g.h*g.w, g.p()
	for pl := lo; pl < hi; pl++ {
		x := j.x[pl*hw : (pl+1)*hw]
		switch {
		case !j.grad && j.kind == poolMax:
			y := j.out[pl*p : (pl+1)*p]
			var arg []uint8
			if len(j.arg) > 0 {
				arg = j.arg[pl*p : (pl+1)*p]
			}
			for i := range g.oh {
				y0, y1 := window(i, g.sh, g.ph, g.kh, g.h)
				for k := range g.ow {
					x0, x1 := window(k, g.sw, g.pw, g.kw, g.w)
					// The builtin max has no branch to mispredict and
					// returns NaN if any value is NaN, as PyTorch does.
					// The argmax: the first element above all before it,
					// or the last NaN (PyTorch's `v > m || isnan(v)`),
					// which is firstMax's choice for the maximum m.
					m := x[y0*g.w+x0]
					best, at, t := m, 0, 0
					for r := y0; r < y1; r++ {
						for _, v := range x[r*g.w+x0 : r*g.w+x1] {
							m = max(m, v)
							if v > best || v != v {
								best, at = v, t
							}
							t++
						}
					}
					y[i*g.ow+k] = m
					if arg != nil {
						arg[i*g.ow+k] = uint8(at)
					}
				}
			}
		case j.grad && j.kind == poolMax && j.use:
			dx, dy := j.out[pl*hw:(pl+1)*hw], j.dy[pl*p:(pl+1)*p]
			arg := j.fwd.arg[pl*p : (pl+1)*p]
			clear(dx)
			for i := range g.oh {
				y0, _ := window(i, g.sh, g.ph, g.kh, g.h)
				for k := range g.ow {
					x0, x1 := window(k, g.sw, g.pw, g.kw, g.w)
					a := int(arg[i*g.ow+k])
					wd := x1 - x0
					dx[(y0+a/wd)*g.w+x0+a%wd] += dy[i*g.ow+k]
				}
			}
		case j.grad && j.kind == poolMax:
			dx, y, dy := j.out[pl*hw:(pl+1)*hw], j.y[pl*p:(pl+1)*p], j.dy[pl*p:(pl+1)*p]
			clear(dx)
			for i := range g.oh {
				for k := range g.ow {
					dx[firstMax(g, x, i, k, y[i*g.ow+k])] += dy[i*g.ow+k]
				}
			}
		case !j.grad:
			y := j.out[pl*p : (pl+1)*p]
			inv := 1 / T(g.kh*g.kw)
			for i := range g.oh {
				y0, y1 := window(i, g.sh, g.ph, g.kh, g.h)
				for k := range g.ow {
					x0, x1 := window(k, g.sw, g.pw, g.kw, g.w)
					var s T
					for r := y0; r < y1; r++ {
						for _, v := range x[r*g.w+x0 : r*g.w+x1] {
							s += v
						}
					}
					y[i*g.ow+k] = s * inv
				}
			}
		default:
			dx, dy := j.out[pl*hw:(pl+1)*hw], j.dy[pl*p:(pl+1)*p]
			clear(dx)
			inv := 1 / T(g.kh*g.kw)
			for i := range g.oh {
				y0, y1 := window(i, g.sh, g.ph, g.kh, g.h)
				for k := range g.ow {
					x0, x1 := window(k, g.sw, g.pw, g.kw, g.w)
					d := dy[i*g.ow+k] * inv
					for r := y0; r < y1; r++ {
						row := dx[r*g.w+x0 : r*g.w+x1]
						for c := range row {
							row[c] += d
						}
					}
				}
			}
		}
	}
}

// window returns the input range [lo, hi) of output index i along one axis,
// clipped to the input.
func window(i, s, pad, k, n int) (lo, hi int) {
	lo = i*s - pad
	return max(lo, 0), min(lo+k, n)
}

// firstMax returns the index in the plane x of the element of output
// (i, k)'s window that PyTorch routes the gradient to, given the window's
// maximum m (the forward pass's output): the first element equal to m in
// row-major order or, when m is NaN, the last NaN (PyTorch's kernel takes
// every NaN it meets).
func firstMax[T float](g *poolGeom, x []T, i, k int, m T) int {
	y0, y1 := window(i, g.sh, g.ph, g.kh, g.h)
	x0, x1 := window(k, g.sw, g.pw, g.kw, g.w)
	at := y0*g.w + x0
	if m != m {
		for r := y0; r < y1; r++ {
			for c := x0; c < x1; c++ {
				if v := x[r*g.w+c]; v != v {
					at = r*g.w + c
				}
			}
		}
		return at
	}
	for r := y0; r < y1; r++ {
		for c := x0; c < x1; c++ {
			if x[r*g.w+c] == m {
				return r*g.w + c
			}
		}
	}
	return at // not reached when m is the window's maximum
}

// pool2x2 enables run2x2 (tests turn it off to compare).
var pool2x2 = true

// run2x2 is Run for 2×2 windows with stride 2 and no padding (the common
// case): two rows of x per output row, every element of dx written once
// (no clearing pass). Same results as the general loops, bit for bit: the
// same maximum, argmax and sums in the same order.
func (j *poolJob[T]) run2x2(lo, hi int) {
	g := &j.g
	hw, p, w, ow := g.h*g.w, g.p(), g.w, g.ow
	for pl := lo; pl < hi; pl++ {
		x := j.x[pl*hw : (pl+1)*hw]
		switch {
		case !j.grad && j.kind == poolMax:
			y := j.out[pl*p : (pl+1)*p]
			var arg []uint8
			if len(j.arg) > 0 {
				arg = j.arg[pl*p : (pl+1)*p]
			}
			vec.MaxPool2x2(y, arg, x, w, ow)
		case j.grad && j.kind == poolMax:
			dx, dy := j.out[pl*hw:(pl+1)*hw], j.dy[pl*p:(pl+1)*p]
			arg := j.fwd.arg[pl*p : (pl+1)*p]
			vec.MaxPool2x2Grad(dx, dy, arg, w, ow)
			for i := range g.oh {
				pad2x2(dx, g, i)
			}
			clear(dx[2*g.oh*w:])
		case !j.grad:
			y := j.out[pl*p : (pl+1)*p]
			inv := 1 / T(4)
			for i := range g.oh {
				r0, r1 := x[2*i*w:2*i*w+2*ow], x[(2*i+1)*w:(2*i+1)*w+2*ow]
				yr := y[i*ow : (i+1)*ow]
				for k := range yr {
					var s T
					s += r0[2*k]
					s += r0[2*k+1]
					s += r1[2*k]
					s += r1[2*k+1]
					yr[k] = s * inv
				}
			}
		default:
			dx, dy := j.out[pl*hw:(pl+1)*hw], j.dy[pl*p:(pl+1)*p]
			inv := 1 / T(4)
			for i := range g.oh {
				r0, r1 := dx[2*i*w:2*i*w+2*ow], dx[(2*i+1)*w:(2*i+1)*w+2*ow]
				for k, v := range dy[i*ow : (i+1)*ow] {
					d := v*inv + 0 // as the general loop's 0 + d
					r0[2*k], r0[2*k+1], r1[2*k], r1[2*k+1] = d, d, d, d
				}
				pad2x2(dx, g, i)
			}
			clear(dx[2*g.oh*w:])
		}
	}
}

// pad2x2 clears the last column of rows 2i and 2i+1 of the plane dx when
// the width is odd (no window covers it).
func pad2x2[T float](dx []T, g *poolGeom, i int) {
	if g.w > 2*g.ow {
		dx[2*i*g.w+g.w-1], dx[(2*i+1)*g.w+g.w-1] = 0, 0
	}
}
