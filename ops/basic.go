package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul returns the matrix product a·b of a (m, k) and a (k, n) node.
//
// The product is computed by the BLAS Gorgonia uses (gorgonia.WhichBLAS:
// gonum's pure-Go one by default, OpenBLAS under the openblas build tag),
// called directly with transpose flags: the backward products dA = G·Bᵀ and
// dB = Aᵀ·G transpose nothing in memory, and every product writes into a
// buffer kept between runs.
func MatMul(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "MatMul"
	if err := checkFloat(op, "a", a); err != nil {
		return nil, err
	}
	if err := checkFloat(op, "b", b); err != nil {
		return nil, err
	}
	as, bs := a.Shape(), b.Shape()
	if len(as) != 2 || len(bs) != 2 || as[1] != bs[0] {
		return nil, fmt.Errorf("%w: %s: a %v and b %v: want (m, k) and (k, n)", ErrShape, op, as, bs)
	}
	if a.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %s: a is %v, b is %v", ErrDtype, op, a.Dtype(), b.Dtype())
	}
	return apply(op, func() (*gorgonia.Node, error) { return gemm(a, b, false, false) })
}

// gemm applies op(a)·op(b), where op transposes when ta (tb) is set.
func gemm(a, b *gorgonia.Node, ta, tb bool) (*gorgonia.Node, error) {
	as, bs := a.Shape(), b.Shape()
	if len(as) != 2 || len(bs) != 2 {
		return nil, fmt.Errorf("%w: MatMul: %v and %v are not matrices", ErrShape, as, bs)
	}
	m, k := dims(as, ta)
	k2, n := dims(bs, tb)
	if k != k2 {
		return nil, fmt.Errorf("%w: MatMul: inner dimensions of %v and %v differ", ErrShape, as, bs)
	}
	tA, tB := blasT(ta), blasT(tb)
	lda, ldb, ldc := max(1, as[1]), max(1, bs[1]), max(1, n)
	d := &def{
		name:  "MatMul(" + tflag("a", ta) + ", " + tflag("b", tb) + ")",
		label: "MatMul",
		typ:   sig(2, 2, 2),
		shape: tensor.Shape{m, n},
		run32: func(c []float32, in [][]float32) error {
			gorgonia.WhichBLAS().Sgemm(tA, tB, m, n, k, 1, in[0], lda, in[1], ldb, 0, c, ldc)
			return nil
		},
		run64: func(c []float64, in [][]float64) error {
			gorgonia.WhichBLAS().Dgemm(tA, tB, m, n, k, 1, in[0], lda, in[1], ldb, 0, c, ldc)
			return nil
		},
		grad: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			return gemmGrad(in[0], in[1], g, ta, tb)
		},
	}
	return applyDef(d, a, b)
}

func tflag(s string, t bool) string {
	if t {
		return s + "ᵀ"
	}
	return s
}

// dims returns the rows and columns of op(s).
func dims(s tensor.Shape, t bool) (int, int) {
	if t {
		return s[1], s[0]
	}
	return s[0], s[1]
}

// plain returns v as a contiguous row-major dense tensor (materializing a
// view).
func plain(op string, v gorgonia.Value) (*tensor.Dense, error) {
	d, err := denseOf(op, v)
	if err != nil {
		return nil, err
	}
	if d.IsView() || !d.DataOrder().IsRowMajor() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%w: %s: cannot materialize a %T view", ErrBuild, op, v)
		}
		d = m
	}
	return d, nil
}

// gemmGrad returns the gradients of C = op(A)·op(B) with respect to A and B:
// dA = G·op(B)ᵀ (or its transpose when A enters transposed), dB = op(A)ᵀ·G
// (or its transpose).
func gemmGrad(a, b, g *gorgonia.Node, ta, tb bool) (gorgonia.Nodes, error) {
	var da, db *gorgonia.Node
	var err error
	if ta {
		da, err = gemm(b, g, tb, true) // dA = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ
	} else {
		da, err = gemm(g, b, false, !tb) // dA = G·op(B)ᵀ
	}
	if err != nil {
		return nil, err
	}
	if tb {
		db, err = gemm(g, a, true, ta) // dB = (op(A)ᵀ·G)ᵀ = Gᵀ·op(A)
	} else {
		db, err = gemm(a, g, !ta, false) // dB = op(A)ᵀ·G
	}
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{da, db}, nil
}
