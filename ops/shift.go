package ops

import (
	"fmt"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// RandomShift is data augmentation by translation: in Train mode each
// example of x, of shape (N, C, H, W), is moved by (dy, dx), each drawn
// uniformly from −max..max, the same for all its channels, and the pixels
// that enter from outside copy the nearest edge pixel (so the background
// stays background under any pixel scaling):
//
//	y[n, c, i, j] = x[n, c, clamp(i − dy), clamp(j − dx)]
//
// In Eval mode y = x. The gradient adds each output gradient to the input
// pixel it was copied from. Like Dropout, the shifts of a node's k-th
// Train-mode run come from rand.NewPCG(seed, k), seed from
// b.Stream("shift"), and k is the state tensor "shift#i/step", so a resumed
// run draws the same shifts. max = 0 returns x.
func RandomShift(b *graph.Builder, x *gorgonia.Node, max int) (*gorgonia.Node, error) {
	const op = "RandomShift"
	if b == nil {
		return nil, fmt.Errorf("%w: %s: nil builder", ErrBuild, op)
	}
	fail := func(err error) (*gorgonia.Node, error) { return nil, b.Fail(err) }
	if err := checkFloat(op, "x", x); err != nil {
		return fail(err)
	}
	xs := x.Shape()
	if len(xs) != 4 {
		return fail(fmt.Errorf("%w: %s: x %v, want (N, C, H, W)", ErrShape, op, xs))
	}
	if max < 0 || max >= xs[2] || max >= xs[3] {
		return fail(fmt.Errorf("%w: %s: max = %d, want 0 ≤ max < %d (the image's height and width)", ErrConfig, op, max, min(xs[2], xs[3])))
	}
	const kind = "shift"
	seed, k := b.Stream(kind)
	if max == 0 {
		return x, nil
	}
	step, stateName, err := stepState(b, kind, k)
	if err != nil {
		return nil, err
	}
	o := &shiftOp{opBase: newBase(fmt.Sprintf("RandomShift(max=%d, seed=%#x, state=%s)", max, seed, stateName)),
		max: max, seed: seed, step: step, training: true}
	n, err := apply(op, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(o, x) })
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// shiftOp is RandomShift; the shifts of the last forward pass (read by the
// gradient of the same run) live in the op.
type shiftOp struct {
	opBase
	max      int
	seed     uint64
	step     *tensor.Dense
	training bool
	frozen   bool  // test hook: draw every shift with the current counter, never advance it
	shifted  bool  // whether the last forward pass shifted
	d        []int // the last shifts: dy, dx per example
}

var (
	_ gorgonia.Op          = (*shiftOp)(nil)
	_ gorgonia.SDOp        = (*shiftOp)(nil)
	_ gorgonia.TrainModeOp = (*shiftOp)(nil)
)

func (o *shiftOp) SetTraining(training bool) error { o.training = training; return nil }
func (o *shiftOp) Arity() int                      { return 1 }
func (o *shiftOp) Type() hm.Type {
	return sig(4, 4)
}
func (o *shiftOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }
func (o *shiftOp) DiffWRT(int) []bool                                       { return []bool{true} }

func (o *shiftOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("RandomShift", &err)
	s := in[0].Shape()
	out := o.out.like(in[0])
	o.shifted = o.training
	if o.shifted {
		if err := o.draw(s[0]); err != nil {
			return nil, err
		}
	}
	x, err := plain("RandomShift", in[0])
	if err != nil {
		return nil, err
	}
	switch x.Dtype() {
	case tensor.Float32:
		shiftApply(out.Float32s(), x.Float32s(), o.d, s, o.shifted, false)
	case tensor.Float64:
		shiftApply(out.Float64s(), x.Float64s(), o.d, s, o.shifted, false)
	default:
		return nil, fmt.Errorf("%w: RandomShift: unsupported dtype %v", ErrDtype, x.Dtype())
	}
	return out, nil
}

// draw sets the shifts of the current counter value and advances it.
func (o *shiftOp) draw(n int) error {
	var src rand.PCG
	if err := nextRand(o.name, o.seed, o.step, o.frozen, &src); err != nil {
		return err
	}
	r := rand.New(&src)
	o.d = append(o.d[:0], make([]int, 2*n)...)
	for i := range o.d {
		o.d[i] = r.IntN(2*o.max+1) - o.max
	}
	return nil
}

// shiftApply writes x shifted by d into out (forward), or adds g (in x's
// place) back to the pixels it came from (backward, out zeroed first).
func shiftApply[T float](out, x []T, d []int, s tensor.Shape, shifted, backward bool) {
	if !shifted {
		copy(out, x)
		return
	}
	n, c, h, w := s[0], s[1], s[2], s[3]
	if backward {
		clear(out)
	}
	for e := range n {
		dy, dx := d[2*e], d[2*e+1]
		for ch := range c {
			base := (e*c + ch) * h * w
			for i := range h {
				si := min(max(i-dy, 0), h-1)
				for j := range w {
					sj := min(max(j-dx, 0), w-1)
					if backward {
						out[base+si*w+sj] += x[base+i*w+j]
					} else {
						out[base+i*w+j] = x[base+si*w+sj]
					}
				}
			}
		}
	}
}

func (o *shiftOp) SymDiff(_ gorgonia.Nodes, y, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	// y is an input only so that the tape runs the forward op first.
	d := &def{
		name:  o.name + ".Grad()",
		label: "RandomShiftGrad",
		typ:   sig(4, 4, 4),
		run32: func(dx []float32, in [][]float32) error { return shiftGrad(o, dx, in[1], y.Shape()) },
		run64: func(dx []float64, in [][]float64) error { return shiftGrad(o, dx, in[1], y.Shape()) },
	}
	dx, err := applyDef(d, y, grad)
	return gorgonia.Nodes{dx}, err
}

func shiftGrad[T float](o *shiftOp, dx, g []T, s tensor.Shape) error {
	if len(dx) != len(g) || (o.shifted && len(o.d) != 2*s[0]) {
		return fmt.Errorf("%w: RandomShiftGrad: the forward pass has not run", ErrBuild)
	}
	shiftApply(dx, g, o.d, s, o.shifted, true)
	return nil
}
