package ops

import (
	"fmt"

	"github.com/gradlab/gradlab/internal/vec"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BiasAdd returns x + b with b broadcast along axis 1 of x: x is (batch, n)
// and b is (n) for a dense layer, or x is (N, C, H, W) (any rank ≥ 2) and b
// is (C) for a per-channel convolution bias:
//
//	y[i, c, …] = x[i, c, …] + b[c]
//
// The gradient with respect to b is the sum of the output gradient over
// every axis but 1.
func BiasAdd(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "BiasAdd"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	if err := checkFloat(op, "b", b); err != nil {
		return nil, err
	}
	xs, bs := x.Shape(), b.Shape()
	if len(xs) < 2 || len(bs) != 1 || xs[1] != bs[0] {
		return nil, fmt.Errorf("%w: %s: x %v and b %v: want (batch, n) and (n), or (N, C, …) and (C)", ErrShape, op, xs, bs)
	}
	if x.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %s: x is %v, b is %v", ErrDtype, op, x.Dtype(), b.Dtype())
	}
	n, c, s := bnDims(xs)
	rank := len(xs)
	d := &def{
		name:  fmt.Sprintf("BiasAdd(x=%v)", xs),
		label: op,
		typ:   sig(rank, 1, rank),
		run32: func(out []float32, in [][]float32) error { return biasAdd(out, in[0], in[1], n, c, s) },
		run64: func(out []float64, in [][]float64) error { return biasAdd(out, in[0], in[1], n, c, s) },
		grad: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			db, err := applyDef(axis1SumDef(rank, n, c, s), g)
			if err != nil {
				return nil, err
			}
			return gorgonia.Nodes{g, db}, nil
		},
	}
	return applyDef(d, x, b)
}

func biasAdd[T float](out, x, b []T, n, c, s int) error {
	if len(x) != n*c*s || len(out) != len(x) || len(b) != c {
		return fmt.Errorf("%w: BiasAdd: sizes %d + %d → %d, want %d + %d", ErrShape, len(x), len(b), len(out), n*c*s, c)
	}
	if s == 1 {
		for i := 0; i+c <= len(x); i += c {
			row, o := x[i:i+c], out[i:i+c]
			for j, bj := range b {
				o[j] = row[j] + bj
			}
		}
		return nil
	}
	for i := 0; i < len(x); i += c * s {
		for ch, bc := range b {
			vec.AddConst(out[i+ch*s:i+(ch+1)*s], x[i+ch*s:i+(ch+1)*s], bc)
		}
	}
	return nil
}

// axis1SumDef sums an (n, c, s…) tensor over every axis but 1, giving (c):
// the gradient of a broadcast bias. It replaces Gorgonia's Sum(g, 0), which
// allocates its result and walks the matrix with a generic reduction.
func axis1SumDef(rank, n, c, s int) *def {
	return &def{
		name:  fmt.Sprintf("Axis1Sum(n=%d, c=%d, s=%d, rank=%d)", n, c, s, rank),
		label: "BiasAddGrad",
		typ:   sig(rank, 1),
		shape: tensor.Shape{c},
		run32: func(out []float32, in [][]float32) error { return axis1Sum(out, in[0], n, c, s) },
		run64: func(out []float64, in [][]float64) error { return axis1Sum(out, in[0], n, c, s) },
	}
}

// axis1Sum adds g (n, c, s) into out (c), in memory order.
func axis1Sum[T float](out, g []T, n, c, s int) error {
	if len(g) != n*c*s || len(out) != c {
		return fmt.Errorf("%w: BiasAddGrad: sizes %d → %d, want %d → %d", ErrShape, len(g), len(out), n*c*s, c)
	}
	clear(out)
	if s == 1 {
		for i := 0; i+c <= len(g); i += c {
			for j, v := range g[i : i+c] {
				out[j] += v
			}
		}
		return nil
	}
	for i := 0; i < len(g); i += c * s {
		for ch := range out {
			var acc T
			for _, v := range g[i+ch*s : i+(ch+1)*s] {
				acc += v
			}
			out[ch] += acc
		}
	}
	return nil
}
