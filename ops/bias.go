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
	add32, add64 := &biasJob[float32]{n: n, c: c, s: s}, &biasJob[float64]{n: n, c: c, s: s}
	d := &def{
		name:  fmt.Sprintf("BiasAdd(x=%v)", xs),
		label: op,
		typ:   sig(rank, 1, rank),
		run32: add32.add,
		run64: add64.add,
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

// biasJob is BiasAdd's kernel and its gradient's: the forward pass by rows
// (s = 1) or across cores by (sample, channel) planes, the gradient of a
// per-channel bias (s > 1) across cores by channels. Every element is
// computed the same way whatever the split.
type biasJob[T float] struct {
	n, c, s int
	r       rows
	sum     bool // the gradient (Axis1Sum), else the forward pass
	out, x  []T
	b       []T
}

// add writes out = x + b; in = x, b.
func (j *biasJob[T]) add(out []T, in [][]T) error {
	x, b := in[0], in[1]
	if len(x) != j.n*j.c*j.s || len(out) != len(x) || len(b) != j.c {
		return fmt.Errorf("%w: BiasAdd: sizes %d + %d → %d, want %d + %d", ErrShape, len(x), len(b), len(out), j.n*j.c*j.s, j.c)
	}
	j.sum, j.out, j.x, j.b = false, out, x, b
	if j.s == 1 {
		// A dense layer's bias: rows on this goroutine (on two cores the
		// MLP's step measured 3% slower with them split).
		j.Run(0, 0, j.n)
	} else {
		j.r.RunWidth(j, j.n*j.c, j.s) // planes
	}
	j.out, j.x, j.b = nil, nil, nil
	return nil
}

// Run does the items [lo, hi) of the current pass.
func (j *biasJob[T]) Run(_, lo, hi int) {
	c, s := j.c, j.s
	switch {
	case j.sum: // channels
		for ch := lo; ch < hi; ch++ {
			var acc float64
			for i := range j.n {
				acc += vec.Sum(j.x[(i*c+ch)*s : (i*c+ch+1)*s])
			}
			j.out[ch] = T(acc)
		}
	case s == 1: // rows
		for i := lo; i < hi; i++ {
			row, o := j.x[i*c:(i+1)*c], j.out[i*c:(i+1)*c]
			for k, bk := range j.b {
				o[k] = row[k] + bk
			}
		}
	default: // planes
		for pl := lo; pl < hi; pl++ {
			vec.AddConst(j.out[pl*s:(pl+1)*s], j.x[pl*s:(pl+1)*s], j.b[pl%c])
		}
	}
}

// axis1SumDef sums an (n, c, s…) tensor over every axis but 1, giving (c):
// the gradient of a broadcast bias. It replaces Gorgonia's Sum(g, 0), which
// allocates its result and walks the matrix with a generic reduction.
func axis1SumDef(rank, n, c, s int) *def {
	s32, s64 := &biasJob[float32]{n: n, c: c, s: s}, &biasJob[float64]{n: n, c: c, s: s}
	return &def{
		name:  fmt.Sprintf("Axis1Sum(n=%d, c=%d, s=%d, rank=%d)", n, c, s, rank),
		label: "BiasAddGrad",
		typ:   sig(rank, 1),
		shape: tensor.Shape{c},
		run32: s32.axis1Sum,
		run64: s64.axis1Sum,
	}
}

// axis1Sum adds g (n, c, s) over n and s into out (c): for s = 1 (a dense
// layer's bias) row by row in memory order; for s > 1 (a convolution's)
// each channel on one core, its runs of s summed in float64 lanes
// (vec.Sum) and added in sample order.
func (j *biasJob[T]) axis1Sum(out []T, in [][]T) error {
	g := in[0]
	n, c, s := j.n, j.c, j.s
	if len(g) != n*c*s || len(out) != c {
		return fmt.Errorf("%w: BiasAddGrad: sizes %d → %d, want %d → %d", ErrShape, len(g), len(out), n*c*s, c)
	}
	if s == 1 {
		clear(out)
		for i := 0; i+c <= len(g); i += c {
			for k, v := range g[i : i+c] {
				out[k] += v
			}
		}
		return nil
	}
	j.sum, j.out, j.x = true, out, g
	j.r.RunWidth(j, c, n*s)
	j.out, j.x = nil, nil
	return nil
}
