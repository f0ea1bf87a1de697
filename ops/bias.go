package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BiasAdd returns x + b for x of shape (batch, n) and b of shape (n): the
// bias is broadcast over the batch. The gradient with respect to b is the
// column sum of the output gradient.
func BiasAdd(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "BiasAdd"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	if err := checkFloat(op, "b", b); err != nil {
		return nil, err
	}
	xs, bs := x.Shape(), b.Shape()
	if len(xs) != 2 || len(bs) != 1 || xs[1] != bs[0] {
		return nil, fmt.Errorf("%w: %s: x %v and b %v: want (batch, n) and (n)", ErrShape, op, xs, bs)
	}
	if x.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %s: x is %v, b is %v", ErrDtype, op, x.Dtype(), b.Dtype())
	}
	return apply(op, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(biasAddOp{newBase("BiasAdd()")}, x, b) })
}

type biasAddOp struct{ opBase }

func (biasAddOp) Arity() int { return 2 }

func (biasAddOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, gorgonia.TensorType{Dims: 1, Of: a}, m)
}

func (biasAddOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }

func (o biasAddOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("BiasAdd", &err)
	return o.UsePreallocDo(o.out.like(in[0]), in...)
}

// UsePreallocDo writes x + b into prealloc.
func (biasAddOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("BiasAdd", &err)
	switch x := in[0].Data().(type) {
	case []float32:
		biasAdd(prealloc.Data().([]float32), x, in[1].Data().([]float32))
	case []float64:
		biasAdd(prealloc.Data().([]float64), x, in[1].Data().([]float64))
	default:
		return nil, fmt.Errorf("%w: BiasAdd: unsupported data %T", ErrDtype, x)
	}
	return prealloc, nil
}

func biasAdd[T float](out, x, b []T) {
	n := len(b)
	if n == 0 {
		return
	}
	for i := 0; i+n <= len(x); i += n {
		row, o := x[i:i+n], out[i:i+n]
		for j, bj := range b {
			o[j] = row[j] + bj
		}
	}
}

func (biasAddOp) DiffWRT(int) []bool { return []bool{true, true} }

func (biasAddOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	db, err := gorgonia.ApplyOp(colSumOp{newBase("ColSum()")}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{grad, db}, nil
}

// colSumOp sums a (rows, n) matrix over its rows, giving (n): the gradient
// of a broadcast bias. It replaces Gorgonia's Sum(g, 0), which allocates its
// result and walks the matrix with a generic reduction.
type colSumOp struct{ opBase }

func (colSumOp) Arity() int { return 1 }

func (colSumOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a})
}

func (colSumOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, fmt.Errorf("%w: ColSum: %v is not a matrix", ErrShape, s)
	}
	return tensor.Shape{s[1]}, nil
}

func (o colSumOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("ColSum", &err)
	return o.UsePreallocDo(o.out.get(in[0].Dtype(), tensor.Shape{in[0].Shape()[1]}), in...)
}

// UsePreallocDo writes the column sums of in[0] into prealloc.
func (colSumOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("ColSum", &err)
	switch g := in[0].Data().(type) {
	case []float32:
		colSum(prealloc.Data().([]float32), g)
	case []float64:
		colSum(prealloc.Data().([]float64), g)
	default:
		return nil, fmt.Errorf("%w: ColSum: unsupported data %T", ErrDtype, g)
	}
	return prealloc, nil
}

// colSum adds the rows of g (len(out) columns) into out, row by row so that
// memory is read in order.
func colSum[T float](out, g []T) {
	clear(out)
	n := len(out)
	if n == 0 {
		return
	}
	for i := 0; i+n <= len(g); i += n {
		row := g[i : i+n]
		for j, v := range row {
			out[j] += v
		}
	}
}
