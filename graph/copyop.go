package graph

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// copyOp copies its input into a node nothing else reads. Compile puts one
// after every requested output: Gorgonia lets a later op overwrite a value
// in place when it believes nothing else needs it, and it does not know that
// the caller will read an output after the run. The copy is written into
// the same tensor every run (Program.Outputs documents that the next run
// replaces the values), so a training step does not allocate it anew.
type copyOp struct{ buf *outBuf }

type outBuf struct{ t *tensor.Dense }

func (copyOp) Arity() int            { return 1 }
func (copyOp) Type() hm.Type         { a := hm.TypeVariable('a'); return hm.NewFnType(a, a) }
func (copyOp) ReturnsPtr() bool      { return false }
func (copyOp) CallsExtern() bool     { return false }
func (copyOp) OverwritesInput() int  { return -1 }
func (copyOp) String() string        { return "graph.output" }
func (copyOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "graph.output") }
func (o copyOp) Hashcode() uint32    { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }

func (copyOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: output: cannot infer a shape from %v", ErrShape, in[0])
	}
	return s.Clone(), nil
}

func (o copyOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	d, ok := in[0].(*tensor.Dense)
	if !ok || o.buf == nil || d.IsView() {
		return gorgonia.CloneValue(in[0])
	}
	b := o.buf
	if b.t == nil || b.t.Dtype() != d.Dtype() || !b.t.Shape().Eq(d.Shape()) {
		b.t = tensor.New(tensor.Of(d.Dtype()), tensor.WithShape(d.Shape().Clone()...))
	}
	return gorgonia.Copy(b.t, d)
}

// UsePreallocDo copies the input into prealloc.
func (copyOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (gorgonia.Value, error) {
	return gorgonia.Copy(prealloc, in[0])
}
