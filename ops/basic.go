package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
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
	name := "MatMul(" + tflag("a", ta) + ", " + tflag("b", tb) + ")"
	return gorgonia.ApplyOp(matMulOp{newBase(name), ta, tb}, a, b)
}

func tflag(s string, t bool) string {
	if t {
		return s + "ᵀ"
	}
	return s
}

// matMulOp computes op(A)·op(B) for row-major matrices.
type matMulOp struct {
	opBase
	ta, tb bool
}

func (matMulOp) Arity() int { return 2 }

func (matMulOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, m)
}

// dims returns the rows and columns of op(s).
func dims(s tensor.Shape, t bool) (int, int) {
	if t {
		return s[1], s[0]
	}
	return s[0], s[1]
}

func (o matMulOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	as, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	bs, err := shapeOf(in[1])
	if err != nil {
		return nil, err
	}
	if len(as) != 2 || len(bs) != 2 {
		return nil, fmt.Errorf("%w: %s: %v and %v are not matrices", ErrShape, o.name, as, bs)
	}
	m, k := dims(as, o.ta)
	k2, n := dims(bs, o.tb)
	if k != k2 {
		return nil, fmt.Errorf("%w: %s: inner dimensions of %v and %v differ", ErrShape, o.name, as, bs)
	}
	return tensor.Shape{m, n}, nil
}

func (o matMulOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.name, &err)
	m, _ := dims(in[0].Shape(), o.ta)
	_, n := dims(in[1].Shape(), o.tb)
	return o.UsePreallocDo(o.out.get(in[0].Dtype(), tensor.Shape{m, n}), in...)
}

// UsePreallocDo writes op(A)·op(B) into prealloc.
func (o matMulOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.name, &err)
	a, err := plain(o.name, in[0])
	if err != nil {
		return nil, err
	}
	b, err := plain(o.name, in[1])
	if err != nil {
		return nil, err
	}
	as, bs := a.Shape(), b.Shape()
	m, k := dims(as, o.ta)
	_, n := dims(bs, o.tb)
	if ps := prealloc.Shape(); len(ps) != 2 || ps[0] != m || ps[1] != n {
		return nil, fmt.Errorf("%w: %s: output %v, want (%d, %d)", ErrShape, o.name, ps, m, n)
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if o.ta {
		ta = blas.Trans
	}
	if o.tb {
		tb = blas.Trans
	}
	lda, ldb, ldc := max(1, as[1]), max(1, bs[1]), max(1, n)
	impl := gorgonia.WhichBLAS()
	switch ad := a.Data().(type) {
	case []float32:
		impl.Sgemm(ta, tb, m, n, k, 1, ad, lda, b.Data().([]float32), ldb, 0, prealloc.Data().([]float32), ldc)
	case []float64:
		impl.Dgemm(ta, tb, m, n, k, 1, ad, lda, b.Data().([]float64), ldb, 0, prealloc.Data().([]float64), ldc)
	default:
		return nil, fmt.Errorf("%w: %s: unsupported data %T", ErrDtype, o.name, ad)
	}
	return prealloc, nil
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

func (matMulOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff returns the gradients of C = op(A)·op(B) with respect to A and B:
// dA = G·op(B)ᵀ (or its transpose when A enters transposed), dB = op(A)ᵀ·G
// (or its transpose).
func (o matMulOp) SymDiff(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	a, b := in[0], in[1]
	var da, db *gorgonia.Node
	var err error
	if o.ta {
		da, err = gemm(b, g, o.tb, true) // dA = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ
	} else {
		da, err = gemm(g, b, false, !o.tb) // dA = G·op(B)ᵀ
	}
	if err != nil {
		return nil, err
	}
	if o.tb {
		db, err = gemm(g, a, true, o.ta) // dB = (op(A)ᵀ·G)ᵀ = Gᵀ·op(A)
	} else {
		db, err = gemm(a, g, !o.ta, false) // dB = op(A)ᵀ·G
	}
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{da, db}, nil
}
