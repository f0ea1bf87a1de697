package ops

import (
	"fmt"
	"math"
	"strconv"

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
// one shape; dx and dt are ∂f/∂x and ∂f/∂t. One forward def and one gradient
// def serve every pointwise loss: a new one is a value
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
	return applyDef(&def{
		name: p.label + "(" + p.params + ")", label: p.label, typ: sig(len(xs), len(xs), 0), shape: tensor.ScalarShape(),
		run32: func(l []float32, in [][]float32) error { return pointMean(p, l, in[0], in[1]) },
		run64: func(l []float64, in [][]float64) error { return pointMean(p, l, in[0], in[1]) },
		grad: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			// g/n · ∂f/∂x and g/n · ∂f/∂t, each from (x, t, g).
			d := make(gorgonia.Nodes, 2)
			for wrt, df := range []pointFunc{p.dx, p.dt} {
				arg := p.xArg
				if wrt == 1 {
					arg = p.tArg
				}
				label := p.label + "Grad"
				n, err := applyDef(&def{
					name: fmt.Sprintf("%s(wrt=%s%s)", label, arg, p.sep()), label: label, typ: sig(len(xs), len(xs), 0, len(xs)),
					run32: func(out []float32, in [][]float32) error { return pointGrad(label, out, in[0], in[1], df, in[2]) },
					run64: func(out []float64, in [][]float64) error { return pointGrad(label, out, in[0], in[1], df, in[2]) },
				}, in[0], in[1], g)
				if err != nil {
					return nil, err
				}
				d[wrt] = n
			}
			return d, nil
		},
	}, x, t)
}

// pointMean writes into loss[0] the mean of p.f over the elements, summed
// in float64.
func pointMean[T float](p *pointwise, loss, x, t []T) error {
	if len(x) != len(t) {
		return fmt.Errorf("%w: %s: %d elements in %s and %d in %s", ErrShape, p.label, len(x), p.xArg, len(t), p.tArg)
	}
	var s float64
	for i, v := range x {
		s += p.f(float64(v), float64(t[i]))
	}
	loss[0] = T(s / float64(len(x)))
	return nil
}

// sep is the loss's parameters after a comma, or nothing.
func (p *pointwise) sep() string {
	if p.params == "" {
		return ""
	}
	return ", " + p.params
}

// pointGrad writes g/n · df(x, t) into d, over the n elements, for
// g = gs[0].
func pointGrad[T float](label string, d, x, t []T, df pointFunc, gs []T) error {
	if len(x) != len(t) || len(d) != len(x) {
		return fmt.Errorf("%w: %s: %d, %d and %d elements in the inputs and the output, want one size", ErrShape, label, len(x), len(t), len(d))
	}
	g := float64(gs[0])
	scale := g / float64(len(x))
	for i, v := range x {
		d[i] = T(scale * df(float64(v), float64(t[i])))
	}
	return nil
}
