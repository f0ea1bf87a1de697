package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type of every kernel in the package.
type float interface{ ~float32 | ~float64 }

// opBase holds the methods every project-owned op shares; an op embeds it and
// sets name to a string that includes every parameter of the op, so the hash
// (which Gorgonia uses to merge identical nodes) never confuses two ops.
// out keeps the op's output between runs (see outBuf); copies of the op
// share it.
type opBase struct {
	name string
	out  *outBuf
}

// newBase returns an opBase named name with an output buffer of its own.
func newBase(name string) opBase { return opBase{name: name, out: &outBuf{}} }

func (o opBase) String() string        { return o.name }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprint(h, o.name) }
func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) Hashcode() uint32      { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }

// isFloat reports whether dt is float32 or float64.
func isFloat(dt tensor.Dtype) bool { return dt == tensor.Float32 || dt == tensor.Float64 }

// checkFloat returns an ErrDtype error naming op and which when n is not a float node.
func checkFloat(op, which string, n *gorgonia.Node) error {
	if n == nil {
		return fmt.Errorf("%w: %s: %s is nil", ErrBuild, op, which)
	}
	if !isFloat(n.Dtype()) {
		return fmt.Errorf("%w: %s: %s %v has dtype %v, want float32 or float64", ErrDtype, op, which, n.Shape(), n.Dtype())
	}
	return nil
}

// apply calls build, turning a Gorgonia panic or error into an error naming op.
func apply(op string, build func() (*gorgonia.Node, error)) (n *gorgonia.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%w: %s: gorgonia panicked: %v", ErrBuild, op, r)
		}
	}()
	n, err = build()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBuild, op, err)
	}
	return n, nil
}

// tensorOf returns v as a dense tensor, or an error naming op.
func denseOf(op string, v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%w: %s: got a %T, want a *tensor.Dense", ErrBuild, op, v)
	}
	return d, nil
}

// scalarOf reads a float scalar value (a Gorgonia F32/F64 or a one-element tensor).
func scalarOf(op string, v gorgonia.Value) (float64, error) {
	switch x := v.Data().(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	case []float32:
		if len(x) == 1 {
			return float64(x[0]), nil
		}
	}
	return 0, fmt.Errorf("%w: %s: want a float scalar, got %v", ErrBuild, op, v)
}

// scalarValue wraps x as a Gorgonia scalar of dtype dt.
func scalarValue(dt tensor.Dtype, x float64) gorgonia.Value {
	if dt == tensor.Float32 {
		return gorgonia.NewF32(float32(x))
	}
	return gorgonia.NewF64(x)
}

// guard turns a panic inside an op's Do into an error naming the op: Gorgonia
// runs the tape on its own goroutine, where a panic cannot be recovered by
// the caller and would end the program.
func guard(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: panic during run: %v", ErrBuild, op, r)
	}
}

// shapeOf returns a copy of an inferred input shape.
func shapeOf(d gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: cannot infer a shape from %v", ErrShape, d)
	}
	return s.Clone(), nil
}

// outBuf keeps an op's output tensor from one run to the next. Gorgonia's
// tape machine drops every register on Reset, so an op that allocated its
// result in Do would allocate (and the garbage collector free) every
// intermediate of every training step; an op with an outBuf writes into the
// same tensor each run and allocates only when the dtype or shape changes.
//
// The price: a node's Value is overwritten by the node's next run, by any
// machine on the graph. Nothing in a run reads a value of an earlier run (the
// tape recomputes every node before its readers), and graph.Program copies
// the outputs it hands to callers.
type outBuf struct{ t *tensor.Dense }

// get returns the buffer, (re)allocated for dtype dt and the given shape.
func (b *outBuf) get(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if b == nil {
		return tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	}
	if b.t == nil || b.t.Dtype() != dt || !b.t.Shape().Eq(shape) || b.t.IsView() {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	}
	return b.t
}

// like returns the buffer with v's dtype and shape.
func (b *outBuf) like(v gorgonia.Value) *tensor.Dense { return b.get(v.Dtype(), v.Shape()) }
