package ops

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reshape returns x with the given shape (the same number of elements, in
// row-major order); the gradient reshapes back. Both copy into buffers kept
// between runs.
func Reshape(x *gorgonia.Node, shape ...int) (*gorgonia.Node, error) {
	const op = "Reshape"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	to := tensor.Shape(append([]int(nil), shape...))
	if len(to) == 0 || to.TotalSize() != x.Shape().TotalSize() {
		return nil, fmt.Errorf("%w: %s: x %v has %d elements, shape %v has %d", ErrShape, op, x.Shape(), x.Shape().TotalSize(), to, to.TotalSize())
	}
	for _, d := range to {
		if d <= 0 {
			return nil, fmt.Errorf("%w: %s: shape %v has a dimension ≤ 0", ErrShape, op, to)
		}
	}
	return applyDef(reshapeDef(op, x.Shape().Clone(), to), x)
}

// SplitHeads reshapes x (N, T, heads·Dh) to (N, heads, T, Dh): head h of
// position t is x[n, t, h·Dh:(h+1)·Dh]. MergeHeads is its inverse; each is
// the other's gradient.
func SplitHeads(x *gorgonia.Node, heads int) (*gorgonia.Node, error) {
	const op = "SplitHeads"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != 3 {
		return nil, fmt.Errorf("%w: %s: x has shape %v, want (N, T, E)", ErrShape, op, s)
	}
	if heads <= 0 || s[2]%heads != 0 {
		return nil, fmt.Errorf("%w: %s: %d heads do not divide the model dimension E = %d of x %v", ErrShape, op, heads, s[2], s)
	}
	return applyDef(headsDef(s[0], s[1], heads, s[2]/heads, true), x)
}

// MergeHeads reshapes x (N, heads, T, Dh) to (N, T, heads·Dh) (see
// SplitHeads).
func MergeHeads(x *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "MergeHeads"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("%w: %s: x has shape %v, want (N, heads, T, Dh)", ErrShape, op, s)
	}
	return applyDef(headsDef(s[0], s[2], s[1], s[3], false), x)
}

func headsDef(n, t, heads, dh int, split bool) *def {
	d := &def{typ: sig(3, 4), shape: tensor.Shape{n, heads, t, dh}, label: "SplitHeads"}
	if !split {
		d.typ, d.shape, d.label = sig(4, 3), tensor.Shape{n, t, heads * dh}, "MergeHeads"
	}
	d.name = fmt.Sprintf("%s(N=%d T=%d heads=%d Dh=%d)", d.label, n, t, heads, dh)
	d.run32 = func(out []float32, in [][]float32) error {
		permuteHeads(out, in[0], n, t, heads, dh, split)
		return nil
	}
	d.run64 = func(out []float64, in [][]float64) error {
		permuteHeads(out, in[0], n, t, heads, dh, split)
		return nil
	}
	d.grad = func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
		dx, err := applyDef(headsDef(n, t, heads, dh, !split), g)
		return gorgonia.Nodes{dx}, err
	}
	return d
}

// permuteHeads copies between (N, T, heads, Dh) and (N, heads, T, Dh).
func permuteHeads[T float](out, x []T, n, t, heads, dh int, split bool) {
	for b := range n {
		for s := range t {
			for h := range heads {
				a := ((b*t+s)*heads + h) * dh // (N, T, heads, Dh)
				c := ((b*heads+h)*t + s) * dh // (N, heads, T, Dh)
				if split {
					copy(out[c:c+dh], x[a:a+dh])
				} else {
					copy(out[a:a+dh], x[c:c+dh])
				}
			}
		}
	}
}

// AddBroadcast returns x + p where p's shape is a suffix of x's (p of shape
// (T, D) added to every item of x (N, T, D), say): y[i…, j…] = x[i…, j…] +
// p[j…]. dx = g, dp = the sum of g over the leading dimensions.
func AddBroadcast(x, p *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "AddBroadcast"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	if err := checkFloat(op, "p", p); err != nil {
		return nil, err
	}
	xs, ps := x.Shape(), p.Shape()
	if x.Dtype() != p.Dtype() {
		return nil, fmt.Errorf("%w: %s: x is %v, p is %v", ErrDtype, op, x.Dtype(), p.Dtype())
	}
	if len(ps) == 0 || len(ps) > len(xs) || !xs[len(xs)-len(ps):].Eq(ps) {
		return nil, fmt.Errorf("%w: %s: p has shape %v, want a suffix of x's %v", ErrShape, op, ps, xs)
	}
	m := ps.TotalSize()
	name := fmt.Sprintf("AddBroadcast(%v + %v)", xs, ps)
	return applyDef(&def{
		name:  name,
		label: op,
		typ:   sig(len(xs), len(ps), len(xs)),
		shape: xs.Clone(),
		run32: func(out []float32, in [][]float32) error { addSuffix(out, in[0], in[1]); return nil },
		run64: func(out []float64, in [][]float64) error { addSuffix(out, in[0], in[1]); return nil },
		grad: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dp, err := applyDef(&def{
				name:  "AddBroadcastGrad" + name[len(op):],
				label: op + "Grad",
				typ:   sig(len(xs), len(ps)),
				shape: ps.Clone(),
				run32: func(out []float32, in [][]float32) error { colSums(out, in[0], len(in[0])/m, m); return nil },
				run64: func(out []float64, in [][]float64) error { colSums(out, in[0], len(in[0])/m, m); return nil },
			}, g)
			return gorgonia.Nodes{g, dp}, err
		},
	}, x, p)
}

func addSuffix[T float](out, x, p []T) {
	m := len(p)
	for i := 0; i < len(x); i += m {
		o, xi := out[i:i+m], x[i:i+m]
		for j, v := range p {
			o[j] = xi[j] + v
		}
	}
}

// Softmax returns the softmax of x over its last dimension,
// y = exp(x − max)/Σ exp(x − max); dx = y ⊙ (g − Σ g ⊙ y) per row.
func Softmax(x *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "Softmax"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	xs := x.Shape()
	if len(xs) == 0 {
		return nil, fmt.Errorf("%w: %s: x is a scalar, want a tensor", ErrShape, op)
	}
	d := xs[len(xs)-1]
	name := fmt.Sprintf("Softmax(%v)", xs)
	return applyDef(&def{
		name:  name,
		label: op,
		typ:   sig(len(xs), len(xs)),
		shape: xs.Clone(),
		run32: func(out []float32, in [][]float32) error { softmaxFwd(out, in[0], d); return nil },
		run64: func(out []float64, in [][]float64) error { softmaxFwd(out, in[0], d); return nil },
		grad: func(_ gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(&def{
				name:  "SoftmaxGrad" + name[len(op):],
				label: op + "Grad",
				typ:   sig(len(xs), len(xs), len(xs)),
				shape: xs.Clone(),
				run32: func(out []float32, in [][]float32) error { softmaxBwd(out, in[0], in[1], d); return nil },
				run64: func(out []float64, in [][]float64) error { softmaxBwd(out, in[0], in[1], d); return nil },
			}, y, g)
			return gorgonia.Nodes{dx}, err
		},
	}, x)
}

func softmaxFwd[T float](out, x []T, d int) {
	for i := 0; i < len(x); i += d {
		row, o := x[i:i+d], out[i:i+d]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			o[j] = T(e)
			s += e
		}
		inv := T(1 / s)
		for j := range o {
			o[j] *= inv
		}
	}
}

func softmaxBwd[T float](dx, y, g []T, d int) {
	for i := 0; i < len(y); i += d {
		yr, gr, o := y[i:i+d], g[i:i+d], dx[i:i+d]
		var s T
		for j, v := range yr {
			s += v * gr[j]
		}
		for j, v := range yr {
			o[j] = v * (gr[j] - s)
		}
	}
}
