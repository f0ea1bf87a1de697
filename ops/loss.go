package ops

import (
	"fmt"
	"math"
	"strconv"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BinaryCrossEntropyWithLogits returns the mean over all elements of
//
//	max(z, 0) − z·t + log(1 + e^{−|z|})
//
// which is −t·log σ(z) − (1−t)·log(1 − σ(z)) computed without overflow
// (torch's binary_cross_entropy_with_logits), for logits z and targets t of
// one shape and float dtype: a multi-label loss, one independent binary
// problem per element. t should lie in [0, 1] (it is not checked). The
// gradients are (σ(z) − t)/n for the logits and −z/n for the targets, over
// the n elements.
func BinaryCrossEntropyWithLogits(logits, targets *gorgonia.Node) (*gorgonia.Node, error) {
	return pointwiseLoss(bceLoss, logits, targets)
}

// MSE returns the mean over all elements of (x − t)², torch's mse_loss, for
// x and target t of one shape and float dtype; the gradients are 2(x − t)/n
// and −2(x − t)/n over the n elements.
func MSE(x, target *gorgonia.Node) (*gorgonia.Node, error) { return pointwiseLoss(mseLoss, x, target) }

// L1 returns the mean over all elements of |x − t|, torch's l1_loss, for x
// and target t of one shape and float dtype; the gradients are
// sign(x − t)/n and −sign(x − t)/n, with sign(0) = 0 as in torch.
func L1(x, target *gorgonia.Node) (*gorgonia.Node, error) { return pointwiseLoss(l1Loss, x, target) }

// Huber returns the mean over all elements of
//
//	0.5·d²                 if |d| < delta
//	delta·(|d| − 0.5·delta) otherwise
//
// with d = x − t, torch's huber_loss (HuberLoss): quadratic near 0, linear
// (with slope delta) beyond delta. x and target t have one shape and float
// dtype; delta must be finite and > 0 (an ErrConfig error otherwise). The
// gradient with respect to x is d/n inside and delta·sign(d)/n outside,
// −that for t.
func Huber(x, target *gorgonia.Node, delta float64) (*gorgonia.Node, error) {
	if !(delta > 0) || math.IsInf(delta, 1) {
		return nil, fmt.Errorf("%w: Huber: delta is %v, want a finite value > 0", ErrConfig, delta)
	}
	return pointwiseLoss(huberLoss(delta), x, target)
}

// A pointwise loss is the mean over elements of f(x, t), for two inputs of
// one shape; dx and dt are ∂f/∂x and ∂f/∂t. One forward op (lossOp) and one
// gradient op (lossGradOp) serve every pointwise loss: a new one is a value
// of this type. The functions take and return float64 whatever the dtype,
// so that sums accumulate in float64; products that feed a sum are
// converted (float64(a*b)) so that GOAMD64=v3 cannot fuse them and every
// build computes the same bits.
type pointwise struct {
	label      string    // the op's name in errors, "Huber"
	params     string    // every parameter, for the hash: "delta=1"
	xArg, tArg string    // the inputs' names in errors
	f, dx, dt  pointFunc // the loss of one element and its derivatives
}

type pointFunc func(x, t float64) float64

var (
	bceLoss = &pointwise{
		label: "BinaryCrossEntropyWithLogits", xArg: "logits", tArg: "targets",
		f: func(z, t float64) float64 {
			return max(z, 0) - float64(z*t) + math.Log1p(math.Exp(-math.Abs(z)))
		},
		dx: func(z, t float64) float64 { return sigmoid(z) - t },
		dt: func(z, _ float64) float64 { return -z },
	}
	mseLoss = &pointwise{
		label: "MSE", xArg: "x", tArg: "target",
		f:  func(x, t float64) float64 { d := x - t; return float64(d * d) },
		dx: func(x, t float64) float64 { return 2 * (x - t) },
		dt: func(x, t float64) float64 { return -2 * (x - t) },
	}
	l1Loss = &pointwise{
		label: "L1", xArg: "x", tArg: "target",
		f:  func(x, t float64) float64 { return math.Abs(x - t) },
		dx: func(x, t float64) float64 { return sign(x - t) },
		dt: func(x, t float64) float64 { return -sign(x - t) },
	}
)

func huberLoss(delta float64) *pointwise {
	half := 0.5 * delta
	dx := func(x, t float64) float64 {
		d := x - t
		if math.Abs(d) < delta {
			return d
		}
		return delta * sign(d)
	}
	return &pointwise{
		label: "Huber", params: "delta=" + formatFloat(delta), xArg: "x", tArg: "target",
		f: func(x, t float64) float64 {
			d := x - t
			if math.Abs(d) < delta {
				return float64(0.5 * float64(d*d))
			}
			return float64(delta * (math.Abs(d) - half))
		},
		dx: dx,
		dt: func(x, t float64) float64 { return -dx(x, t) },
	}
}

// sign is −1, 0 or 1 (torch's sign), and NaN for NaN.
func sign(d float64) float64 {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	}
	return d // ±0 or NaN
}

// formatFloat formats x exactly (the shortest decimal that reads back as x),
// for op names.
func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// sameDims reports whether a and b have the same dimensions; unlike
// Shape.Eq it does not take (n) for (n, 1).
func sameDims(a, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pointwiseLoss(p *pointwise, x, t *gorgonia.Node) (*gorgonia.Node, error) {
	op := p.label
	if err := checkFloat(op, p.xArg, x); err != nil {
		return nil, err
	}
	if err := checkFloat(op, p.tArg, t); err != nil {
		return nil, err
	}
	if x.Dtype() != t.Dtype() {
		return nil, fmt.Errorf("%w: %s: %s %v is %v and %s %v is %v, want one dtype", ErrDtype, op, p.xArg, x.Shape(), x.Dtype(), p.tArg, t.Shape(), t.Dtype())
	}
	xs, ts := x.Shape(), t.Shape()
	if len(xs) == 0 {
		return nil, fmt.Errorf("%w: %s: %s is a scalar, want a tensor (reshape it to (1))", ErrShape, op, p.xArg)
	}
	if !sameDims(xs, ts) {
		return nil, fmt.Errorf("%w: %s: %s %v and %s %v: want %s of %s's shape, %v", ErrShape, op, p.xArg, xs, p.tArg, ts, p.tArg, p.xArg, xs)
	}
	o := &lossOp{opBase: newBase(p.label + "(" + p.params + ")"), pointwise: p, rank: len(xs), loss: &scalarOut{}}
	return apply(op, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(o, x, t) })
}

// scalarOut keeps a loss op's scalar result between runs, as outBuf keeps a
// tensor: a run then allocates nothing. The next run overwrites the value.
type scalarOut struct {
	f32 gorgonia.F32
	f64 gorgonia.F64
}

// set stores x as a scalar of dtype dt and returns it.
func (s *scalarOut) set(dt tensor.Dtype, x float64) gorgonia.Value {
	if dt == tensor.Float32 {
		s.f32 = gorgonia.F32(float32(x))
		return &s.f32
	}
	s.f64 = gorgonia.F64(x)
	return &s.f64
}

// gradScalar is scalarOf without the allocation of Value.Data for the
// scalars Gorgonia passes as a loss's upstream gradient.
func gradScalar(op string, v gorgonia.Value) (float64, error) {
	switch x := v.(type) {
	case *gorgonia.F64:
		return float64(*x), nil
	case *gorgonia.F32:
		return float64(*x), nil
	}
	return scalarOf(op, v)
}

// lossOp is the forward node of a pointwise loss: (x, t) → mean f(x, t).
type lossOp struct {
	opBase
	*pointwise
	rank int
	loss *scalarOut
	in32 [][]float32 // scratch for gather
	in64 [][]float64
}

func (o *lossOp) Arity() int { return 2 }

func (o *lossOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	x := gorgonia.TensorType{Dims: o.rank, Of: a}
	return hm.NewFnType(x, x, a)
}

func (o *lossOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o *lossOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.label, &err)
	if len(in) != 2 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 2", ErrBuild, o.label, len(in))
	}
	dt := in[0].Dtype()
	var loss float64
	switch dt {
	case tensor.Float32:
		if o.in32, err = gather(o.label, o.in32, in); err == nil {
			loss, err = pointMean(o.pointwise, o.in32[0], o.in32[1])
		}
	case tensor.Float64:
		if o.in64, err = gather(o.label, o.in64, in); err == nil {
			loss, err = pointMean(o.pointwise, o.in64[0], o.in64[1])
		}
	default:
		err = fmt.Errorf("%w: %s: %s is %v, want float32 or float64", ErrDtype, o.label, o.xArg, dt)
	}
	if err != nil {
		return nil, err
	}
	return o.loss.set(dt, loss), nil
}

// pointMean returns the mean of p.f over the elements, summed in float64.
func pointMean[T float](p *pointwise, x, t []T) (float64, error) {
	if len(x) != len(t) {
		return 0, fmt.Errorf("%w: %s: %d elements in %s and %d in %s", ErrShape, p.label, len(x), p.xArg, len(t), p.tArg)
	}
	var s float64
	for i, v := range x {
		s += p.f(float64(v), float64(t[i]))
	}
	return s / float64(len(x)), nil
}

func (o *lossOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *lossOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d := make(gorgonia.Nodes, 2)
	for wrt := range d {
		g := &lossGradOp{pointwise: o.pointwise, label: o.label + "Grad", rank: o.rank, wrt: wrt}
		g.opBase = newBase(fmt.Sprintf("%s(wrt=%s%s)", g.label, g.arg(), o.sep()))
		n, err := gorgonia.ApplyOp(g, in[0], in[1], grad)
		if err != nil {
			return nil, err
		}
		d[wrt] = n
	}
	return d, nil
}

// sep is the loss's parameters after a comma, or nothing.
func (p *pointwise) sep() string {
	if p.params == "" {
		return ""
	}
	return ", " + p.params
}

// lossGradOp computes g/n · ∂f/∂x (wrt 0) or g/n · ∂f/∂t (wrt 1) from
// (x, t, g).
type lossGradOp struct {
	opBase
	*pointwise
	label string // in errors: "HuberGrad"
	rank  int
	wrt   int
	in32  [][]float32
	in64  [][]float64
}

func (o *lossGradOp) arg() string {
	if o.wrt == 0 {
		return o.xArg
	}
	return o.tArg
}

func (o *lossGradOp) Arity() int { return 3 }

func (o *lossGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	x := gorgonia.TensorType{Dims: o.rank, Of: a}
	return hm.NewFnType(x, x, a, x)
}

func (o *lossGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0])
}

func (o *lossGradOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.label, &err)
	return o.UsePreallocDo(o.out.like(in[0]), in...)
}

// UsePreallocDo writes the gradient into prealloc.
func (o *lossGradOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	label := o.label
	defer guard(label, &err)
	if len(in) != 3 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 3", ErrBuild, label, len(in))
	}
	g, err := gradScalar(label, in[2])
	if err != nil {
		return nil, err
	}
	df := o.dx
	if o.wrt == 1 {
		df = o.dt
	}
	switch out := prealloc.(type) {
	case *tensor.Dense:
		switch out.Dtype() {
		case tensor.Float32:
			if o.in32, err = gather(label, o.in32, in[:2]); err == nil {
				err = pointGrad(label, out.Float32s(), o.in32[0], o.in32[1], df, g)
			}
		case tensor.Float64:
			if o.in64, err = gather(label, o.in64, in[:2]); err == nil {
				err = pointGrad(label, out.Float64s(), o.in64[0], o.in64[1], df, g)
			}
		default:
			err = fmt.Errorf("%w: %s: output dtype %v, want float32 or float64", ErrDtype, label, out.Dtype())
		}
	default:
		err = fmt.Errorf("%w: %s: output is a %T, want a *tensor.Dense", ErrBuild, label, prealloc)
	}
	if err != nil {
		return nil, err
	}
	return prealloc, nil
}

// pointGrad writes g/n · df(x, t) into d, over the n elements.
func pointGrad[T float](label string, d, x, t []T, df pointFunc, g float64) error {
	if len(x) != len(t) || len(d) != len(x) {
		return fmt.Errorf("%w: %s: %d, %d and %d elements in the inputs and the output, want one size", ErrShape, label, len(x), len(t), len(d))
	}
	scale := g / float64(len(x))
	for i, v := range x {
		d[i] = T(scale * df(float64(v), float64(t[i])))
	}
	return nil
}
