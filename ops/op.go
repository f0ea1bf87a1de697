package ops

import (
	"cmp"
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/internal/parallel"
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

// denseOf returns v as a dense tensor, or an error naming op.
func denseOf(op string, v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%w: %s: got a %T, want a *tensor.Dense", ErrBuild, op, v)
	}
	return d, nil
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

// def is a project-owned op reduced to what differs between ops: its name,
// type, output shape, one generic forward kernel (instantiated for float32
// and float64) and its gradient rule. op implements gorgonia.Op, SDOp and
// UsePreallocDoer once for every def: panic guard, output buffer kept
// between runs, dtype dispatch, hash; gorgonia.TrainModeOp for a def with a
// mode hook (train) and graph.SyncOp for one with a sync hook too.
//
// Output shapes are fixed when the node is built (Gorgonia's shapes are
// static), so shape is the shape the constructor inferred and validated.
type def struct {
	name  string  // String and hash: must include every parameter of the op
	label string  // the op's name in errors ("Conv2D")
	typ   hm.Type // Gorgonia type, e.g. sig(4, 4, 4)
	// shape is the output shape: nil for the first input's shape, and
	// tensor.ScalarShape() for a Gorgonia scalar (a loss), which the kernel
	// sees as a one-element out and the op keeps between runs. An input
	// that is a Gorgonia scalar (a loss's upstream gradient) reaches the
	// kernel as a one-element slice too.
	shape tensor.Shape
	// run32 and run64 write the result into out; in holds the inputs' data,
	// all of out's dtype.
	run32 func(out []float32, in [][]float32) error
	run64 func(out []float64, in [][]float64) error
	// grad returns the gradient nodes of the inputs given the output y and
	// its gradient g; nil means the op is not differentiable. diff, if set,
	// says which inputs get a gradient (default: all when grad is set).
	grad func(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error)
	diff []bool
	// elementwise says that out[i] depends on the inputs' elements i only
	// (every input has out's size): the op then runs its kernel over ranges
	// of a large output on all cores.
	elementwise bool
	// ints marks the inputs of dtype tensor.Int (token ids). A def with int
	// inputs sets runI32 and runI64 instead of run32 and run64: ints holds
	// the int inputs' data in input order and their slots in in are nil. The
	// output takes the dtype of the first float input.
	ints   []bool
	runI32 func(out []float32, in [][]float32, ints [][]int) error
	runI64 func(out []float64, in [][]float64, ints [][]int) error
	// train, if set, is the op's mode hook: the node's op then implements
	// gorgonia.TrainModeOp, and graph.Program calls train with true in
	// Train mode and false in Eval mode before a run (the kernels read the
	// mode from the state the hook sets).
	train func(training bool)
	// sync, if set (with train), is the op's hook for data parallelism: the
	// node's op then implements graph.SyncOp, and graph.Program passes it
	// the all-reduce of a data-parallel run (nil: run locally).
	sync func(sum func([]float64) error)
	// state is what the kernels of a node share with each other and with
	// its gradient ops between runs (Dropout's mask, BatchNorm's batch
	// statistics), owned by the op's constructor; tests reach it through
	// stateOf.
	state any
}

// scalar reports whether the def's output is a Gorgonia scalar.
func (d *def) scalar() bool { return d.shape != nil && len(d.shape) == 0 }

// op is the gorgonia.Op of a def; in32 and in64 are scratch slices for the
// inputs' data, kept so that a run allocates nothing.
type op struct {
	opBase
	*def
	arity int
	in32  [][]float32
	in64  [][]float64
	ew32  ewJob[float32]
	ew64  ewJob[float64]
	inI   [][]int   // the int inputs' data (def.ints)
	sc    scalarOut // the output of a scalar def, kept between runs
}

// modeOp is the op of a def with a mode hook; syncOp that of a def with a
// mode and a sync hook.
type (
	modeOp struct{ *op }
	syncOp struct{ modeOp }
)

var (
	_ gorgonia.Op              = (*op)(nil)
	_ gorgonia.SDOp            = (*op)(nil)
	_ gorgonia.UsePreallocDoer = (*op)(nil)
	_ gorgonia.TrainModeOp     = modeOp{}
	_ graph.SyncOp             = syncOp{}
)

// SetTraining passes the mode to the def's hook.
func (m modeOp) SetTraining(training bool) error { m.train(training); return nil }

// SetSync passes the all-reduce to the def's sync hook.
func (s syncOp) SetSync(sum func([]float64) error) { s.sync(sum) }

// applyDef adds d to the graph as a node with the given inputs, which must
// match d's type.
func applyDef(d *def, in ...*gorgonia.Node) (*gorgonia.Node, error) {
	if d.label == "" {
		d.label = d.name
	}
	o := &op{opBase: newBase(d.name), def: d, arity: len(in)}
	var g gorgonia.Op = o
	switch {
	case d.sync != nil && d.train == nil:
		return nil, fmt.Errorf("%w: %s: a sync hook without a mode hook", ErrBuild, d.label)
	case d.sync != nil:
		g = syncOp{modeOp{o}}
	case d.train != nil:
		g = modeOp{o}
	}
	return apply(d.label, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(g, in...) })
}

// stateOf returns the state of the def behind n's op, if n is a node of a
// def whose state has type S.
func stateOf[S any](n *gorgonia.Node) (S, bool) {
	var d *def
	switch o := n.Op().(type) {
	case *op:
		d = o.def
	case modeOp:
		d = o.def
	case syncOp:
		d = o.def
	}
	var zero S
	if d == nil {
		return zero, false
	}
	s, ok := d.state.(S)
	return s, ok
}

// scalarOut keeps a scalar def's result between runs, as outBuf keeps a
// tensor: a run then allocates nothing. The next run overwrites the value.
type scalarOut struct {
	f32 gorgonia.F32
	f64 gorgonia.F64
}

// of returns the scalar of dtype dt.
func (s *scalarOut) of(dt tensor.Dtype) gorgonia.Value {
	if dt == tensor.Float32 {
		return &s.f32
	}
	return &s.f64
}

// sig returns the Gorgonia type of an op whose inputs and output (the last
// entry) are tensors of the given ranks over one element type; rank 0 stands
// for the element type itself, of any shape (as in an elementwise op).
func sig(ranks ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, len(ranks))
	for i, r := range ranks {
		if r == 0 {
			ts[i] = a
		} else {
			ts[i] = gorgonia.TensorType{Dims: r, Of: a}
		}
	}
	return hm.NewFnType(ts...)
}

func (o *op) Arity() int    { return o.arity }
func (o *op) Type() hm.Type { return o.typ }

func (o *op) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(in) != o.arity {
		return nil, fmt.Errorf("%w: %s: %d inputs, want %d", ErrShape, o.label, len(in), o.arity)
	}
	if o.shape == nil { // same shape as the first input
		return shapeOf(in[0])
	}
	return o.shape.Clone(), nil
}

func (o *op) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.label, &err)
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: %s: no inputs", ErrBuild, o.label)
	}
	if o.scalar() {
		return o.UsePreallocDo(nil, in...)
	}
	s := o.shape
	if s == nil {
		s = in[0].Shape()
	}
	return o.UsePreallocDo(o.out.get(o.outDtype(in), s), in...)
}

// outDtype is the dtype of the first float input (the first input's
// without int inputs).
func (o *op) outDtype(in []gorgonia.Value) tensor.Dtype {
	dt := in[0].Dtype()
	for i, v := range in {
		if i >= len(o.ints) || !o.ints[i] {
			dt = v.Dtype()
			break
		}
	}
	return dt
}

// UsePreallocDo runs the op's kernel for prealloc's dtype into prealloc; a
// scalar def writes into its own scalar instead (a register Gorgonia hands
// it may hold another node's value).
// Data is read with Dense.Float32s/Float64s: Dense.Data boxes a new slice
// header in an interface on every call (an allocation per input per run).
func (o *op) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.label, &err)
	if len(in) != o.arity {
		return nil, fmt.Errorf("%w: %s: %d inputs, want %d", ErrBuild, o.label, len(in), o.arity)
	}
	if o.scalar() {
		prealloc = o.sc.of(o.outDtype(in))
	}
	dt, out32, out64, err := outData(o.label, prealloc)
	if err != nil {
		return nil, err
	}
	switch {
	case o.ints != nil:
		err = o.doInts(dt, out32, out64, in)
	case dt == tensor.Float32:
		if o.in32, err = gather(o.label, o.in32, in); err == nil {
			err = o.ew32.do(o.def, o.run32, out32, o.in32)
		}
	default:
		if o.in64, err = gather(o.label, o.in64, in); err == nil {
			err = o.ew64.do(o.def, o.run64, out64, o.in64)
		}
	}
	if err != nil {
		return nil, err
	}
	return prealloc, nil
}

// outData returns the dtype and the elements of an op's output: a dense
// tensor, or a Gorgonia scalar as one element.
func outData(op string, v gorgonia.Value) (tensor.Dtype, []float32, []float64, error) {
	switch x := v.(type) {
	case *gorgonia.F32:
		return tensor.Float32, unsafe.Slice((*float32)(x), 1), nil, nil
	case *gorgonia.F64:
		return tensor.Float64, nil, unsafe.Slice((*float64)(x), 1), nil
	}
	out, err := denseOf(op, v)
	if err != nil {
		return tensor.Dtype{}, nil, nil, err
	}
	switch out.Dtype() {
	case tensor.Float32:
		return tensor.Float32, out.Float32s(), nil, nil
	case tensor.Float64:
		return tensor.Float64, nil, out.Float64s(), nil
	}
	return tensor.Dtype{}, nil, nil, fmt.Errorf("%w: %s: output dtype %v, want float32 or float64", ErrDtype, op, out.Dtype())
}

// ewSerial is the output size below which an element-wise kernel runs on
// the calling goroutine only.
const ewSerial = 1 << 14

// ewJob runs a def's kernel: directly, or for a large element-wise op over
// ranges of the output on all cores, each range with the same range of
// every input. It is a parallel.Worker kept in the op, so that a run
// allocates nothing once the per-part slices exist.
type ewJob[T float] struct {
	r    parallel.Runner
	run  func(out []T, in [][]T) error
	out  []T
	in   [][]T
	part [][][]T // per part: the inputs cut to its current range
	errs []error // per part: the first error
}

func (j *ewJob[T]) do(d *def, run func(out []T, in [][]T) error, out []T, in [][]T) error {
	if !d.elementwise || len(out) < ewSerial {
		return run(out, in)
	}
	for i, x := range in {
		if len(x) != len(out) {
			return fmt.Errorf("%w: %s: input %d has %d elements, want %d", ErrShape, d.label, i, len(x), len(out))
		}
	}
	p := parallel.Workers(len(out))
	for len(j.part) < p {
		j.part = append(j.part, make([][]T, 0, len(in)))
		j.errs = append(j.errs, nil)
	}
	j.run, j.out, j.in = run, out, in
	j.r.Run(j, len(out))
	var err error
	for i, e := range j.errs {
		err = cmp.Or(err, e)
		j.errs[i] = nil
		clear(j.part[i])
	}
	j.run, j.out, j.in = nil, nil, nil
	return err
}

func (j *ewJob[T]) Run(part, lo, hi int) {
	in := j.part[part][:0]
	for _, x := range j.in {
		in = append(in, x[lo:hi])
	}
	j.part[part] = in
	if err := j.run(j.out[lo:hi], in); err != nil && j.errs[part] == nil {
		j.errs[part] = err
	}
}

// data returns the elements of v, a plain dense tensor of element type T,
// without boxing them (Dense.Data allocates an interface per call), or nil
// for anything else (another dtype, a view, not a dense tensor).
func data[T float](v gorgonia.Value) []T {
	d, ok := v.(*tensor.Dense)
	if !ok || d.IsView() || !d.DataOrder().IsRowMajor() {
		return nil
	}
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		if d.Dtype() != tensor.Float32 {
			return nil
		}
		s := d.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	}
	if d.Dtype() != tensor.Float64 {
		return nil
	}
	s := d.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// notPlain describes why data[T] refused v, for error messages.
func notPlain(v gorgonia.Value) string {
	d, ok := v.(*tensor.Dense)
	switch {
	case !ok:
		return fmt.Sprintf("a %T, not a dense tensor", v)
	case d.IsView():
		return fmt.Sprintf("a %v view (materialize it first)", d.Dtype())
	case !d.DataOrder().IsRowMajor():
		return fmt.Sprintf("a column-major %v tensor", d.Dtype())
	}
	return fmt.Sprintf("of dtype %v", d.Dtype())
}

// labelsOf returns the elements of an int tensor without boxing them.
func labelsOf(v gorgonia.Value) ([]int, bool) {
	d, ok := v.(*tensor.Dense)
	if !ok || d.Dtype() != tensor.Int || d.IsView() {
		l, ok := v.Data().([]int)
		return l, ok
	}
	return d.Ints(), true
}

// gather puts the data of every input, a dense tensor of element type T,
// into dst. A view (a Gorgonia slice, say) is materialized first, which
// allocates: inputs that are plain tensors, the usual case, are read in place.
func gather[T float](label string, dst [][]T, in []gorgonia.Value) (_ [][]T, err error) {
	return gatherSkip(label, dst, in, nil)
}

// gatherSkip is gather that puts nil for the inputs marked in skip (the int
// inputs of a def).
func gatherSkip[T float](label string, dst [][]T, in []gorgonia.Value, skip []bool) (_ [][]T, err error) {
	var zero T
	want := tensor.Float64
	if unsafe.Sizeof(zero) == 4 {
		want = tensor.Float32
	}
	dst = dst[:0]
	for i, v := range in {
		if i < len(skip) && skip[i] {
			dst = append(dst, nil)
			continue
		}
		switch x := v.(type) { // a scalar (a loss's upstream gradient)
		case *gorgonia.F32:
			if want != tensor.Float32 {
				return nil, fmt.Errorf("%w: %s: input %d is float32, want %v", ErrDtype, label, i, want)
			}
			dst = append(dst, unsafe.Slice((*T)(unsafe.Pointer(x)), 1))
			continue
		case *gorgonia.F64:
			if want != tensor.Float64 {
				return nil, fmt.Errorf("%w: %s: input %d is float64, want %v", ErrDtype, label, i, want)
			}
			dst = append(dst, unsafe.Slice((*T)(unsafe.Pointer(x)), 1))
			continue
		}
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%w: %s: input %d is a %T, want a *tensor.Dense", ErrBuild, label, i, v)
		}
		if d.IsView() || !d.DataOrder().IsRowMajor() {
			if d, err = plain(label, d); err != nil {
				return nil, err
			}
		}
		if d.Dtype() != want {
			return nil, fmt.Errorf("%w: %s: input %d is %v, want %v", ErrDtype, label, i, d.Dtype(), want)
		}
		if want == tensor.Float32 {
			s := d.Float32s()
			dst = append(dst, unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s)))
		} else {
			s := d.Float64s()
			dst = append(dst, unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s)))
		}
	}
	return dst, nil
}

func (o *op) DiffWRT(n int) []bool {
	if o.diff != nil {
		return o.diff
	}
	d := make([]bool, n)
	for i := range d {
		d[i] = o.grad != nil
	}
	return d
}

func (o *op) SymDiff(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
	if o.grad == nil {
		return nil, fmt.Errorf("%w: %s has no gradient", ErrBuild, o.label)
	}
	return o.grad(in, y, g)
}

// doInts runs a def with int inputs (def.ints) into out32 or out64 (dtype dt).
func (o *op) doInts(dt tensor.Dtype, out32 []float32, out64 []float64, in []gorgonia.Value) (err error) {
	o.inI = o.inI[:0]
	for i, v := range in {
		if i < len(o.ints) && o.ints[i] {
			ids, ok := labelsOf(v)
			if !ok {
				return fmt.Errorf("%w: %s: input %d is %v, want int", ErrDtype, o.label, i, v.Dtype())
			}
			o.inI = append(o.inI, ids)
		}
	}
	if dt == tensor.Float32 {
		if o.in32, err = gatherSkip(o.label, o.in32, in, o.ints); err == nil {
			err = o.runI32(out32, o.in32, o.inI)
		}
		return err
	}
	if o.in64, err = gatherSkip(o.label, o.in64, in, o.ints); err == nil {
		err = o.runI64(out64, o.in64, o.inI)
	}
	return err
}
