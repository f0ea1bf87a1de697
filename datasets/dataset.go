package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gorgonia.org/tensor"
)

// Field describes one side of every example of a dataset: its inputs or its
// target.
type Field struct {
	// Dtype is tensor.Int for integer values (class labels, token ids) and
	// tensor.Float32 or tensor.Float64 for real values; a float field is
	// gathered into a batch of either float dtype (converted).
	Dtype tensor.Dtype
	// Shape is the shape of one example's field, e.g. (1, 28, 28) for an
	// MNIST image, (T) for one label per position; empty for one value per
	// example (a class label, a scalar target).
	Shape []int
	// Classes bounds an integer field: every value is in [0, Classes) (the
	// number of classes of labels, the vocabulary of token ids). 0 for a
	// float field.
	Classes int
}

// IsInt reports whether the field holds integers.
func (f Field) IsInt() bool { return f.Dtype == tensor.Int }

// Size returns the number of values of one example's field.
func (f Field) Size() int { return Size(f.Shape) }

// String describes the field: "float64 (2, 5)", "int () in [0, 10)".
func (f Field) String() string {
	s := fmt.Sprintf("%v %v", f.Dtype, tensor.Shape(f.Shape))
	if f.IsInt() {
		s += fmt.Sprintf(" in [0, %d)", f.Classes)
	}
	return s
}

// Dataset is a set of examples of one shape: inputs (float features or
// integer token ids) and targets (class labels, labels per position, or
// float values of any shape).
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Input and Target describe one example's inputs and target; the
	// caller must not modify the shapes.
	Input() Field
	Target() Field
	// Gather writes examples idx[0], idx[1], … into consecutive rows of x
	// and their targets into consecutive rows of y. x holds
	// len(idx)·Input().Size() values and y len(idx)·Target().Size() values,
	// of the fields' dtypes (either float dtype for a float field); their
	// shapes beyond the number of values are the caller's (a model may read
	// an image as a vector). Gather does not allocate in steady state and
	// returns an error wrapping ErrArgument for an index out of range or a
	// buffer of the wrong size or dtype (CheckBatch).
	Gather(idx []int, x, y *tensor.Dense) error
}

// Size returns the number of elements of an example of the given shape.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// CheckBatch returns an error unless x and y can take n examples of the
// input and target fields; implementations of Gather call it first.
func CheckBatch(x, y *tensor.Dense, n int, input, target Field) error {
	for _, b := range []struct {
		name string
		t    *tensor.Dense
		f    Field
	}{{"input", x, input}, {"target", y, target}} {
		switch {
		case b.t == nil:
			return fmt.Errorf("%w: Gather: nil %s batch tensor", ErrArgument, b.name)
		case b.f.IsInt() && b.t.Dtype() != tensor.Int:
			return fmt.Errorf("%w: Gather: %s batch tensor has dtype %v, want int", ErrArgument, b.name, b.t.Dtype())
		case !b.f.IsInt() && b.t.Dtype() != tensor.Float32 && b.t.Dtype() != tensor.Float64:
			return fmt.Errorf("%w: Gather: %s batch tensor has dtype %v, want float32 or float64", ErrArgument, b.name, b.t.Dtype())
		case b.t.Len() != n*b.f.Size():
			return fmt.Errorf("%w: Gather: %s batch tensor %v has %d elements, want %d examples × %d = %d",
				ErrArgument, b.name, b.t.Shape(), b.t.Len(), n, b.f.Size(), n*b.f.Size())
		}
	}
	return nil
}

// Number is an element type of an in-memory dataset.
type Number interface{ ~int | ~float32 | ~float64 }

// Memory is a Dataset held in memory: example i has the inputs
// X[i·in : (i+1)·in] and the target Y[i·out : (i+1)·out], where in and out
// are the sizes of one example's input and target. Make one with New (or
// FromSlices, FromValues, FromTokens), which validate it.
type Memory[X, Y Number] struct {
	x       []X
	y       []Y
	in, out Field
	n       int
}

// New returns the in-memory dataset of the inputs x and the targets y,
// described by the fields in and out (their Dtype must match X and Y: Int
// for int, a float dtype for float32 and float64). It checks that the
// lengths agree, every integer is in [0, Classes) and every float is
// finite, naming the first example that is not; the slices are used, not
// copied.
func New[X, Y Number](x []X, in Field, y []Y, out Field) (*Memory[X, Y], error) {
	in.Shape, out.Shape = slices.Clone(in.Shape), slices.Clone(out.Shape)
	if len(in.Shape) == 0 {
		return nil, fmt.Errorf("%w: input shape is empty, want at least one dimension", ErrArgument)
	}
	for _, f := range []struct {
		name string
		f    Field
		int  bool
	}{{"input", in, isInt[X]()}, {"target", out, isInt[Y]()}} {
		for _, d := range f.f.Shape {
			if d <= 0 {
				return nil, fmt.Errorf("%w: %s shape %v has a dimension ≤ 0", ErrArgument, f.name, f.f.Shape)
			}
		}
		switch {
		case f.int && !f.f.IsInt():
			return nil, fmt.Errorf("%w: %s field has dtype %v for int values, want int", ErrArgument, f.name, f.f.Dtype)
		case !f.int && f.f.Dtype != tensor.Float32 && f.f.Dtype != tensor.Float64:
			return nil, fmt.Errorf("%w: %s field has dtype %v for float values, want float32 or float64", ErrArgument, f.name, f.f.Dtype)
		case f.int && f.f.Classes < 1:
			return nil, fmt.Errorf("%w: %s classes = %d, want ≥ 1", ErrArgument, f.name, f.f.Classes)
		case !f.int && f.f.Classes != 0:
			return nil, fmt.Errorf("%w: %s classes = %d for float values, want 0", ErrArgument, f.name, f.f.Classes)
		}
	}
	size := in.Size()
	if len(x)%size != 0 {
		return nil, fmt.Errorf("%w: %d input values are not a whole number of examples of shape %v", ErrArgument, len(x), in.Shape)
	}
	n := len(x) / size
	if len(y) != n*out.Size() {
		return nil, fmt.Errorf("%w: %d target values for %d examples of target shape %v: want %d·%d = %d",
			ErrArgument, len(y), n, tensor.Shape(out.Shape), n, out.Size(), n*out.Size())
	}
	names := map[bool][2]string{false: {"feature", "target"}, true: {"token", "label"}}
	if err := checkValues(names[in.IsInt()][0], x, in); err != nil {
		return nil, err
	}
	if err := checkValues(names[out.IsInt()][1], y, out); err != nil {
		return nil, err
	}
	return &Memory[X, Y]{x: x, y: y, in: in, out: out, n: n}, nil
}

func isInt[T Number]() bool {
	var v T = 1
	return v/2 == 0 // integer division truncates
}

// checkValues returns an error naming the first value outside the field's
// range: an integer outside [0, Classes) or a NaN or infinite float. name is
// what a value is called ("feature", "label").
func checkValues[T Number](name string, v []T, f Field) error {
	size := max(f.Size(), 1)
	at := func(i int) string {
		if len(f.Shape) == 0 {
			return fmt.Sprintf("%s of example %d", name, i)
		}
		return fmt.Sprintf("%s %d of example %d", name, i%size, i/size)
	}
	for i, x := range v {
		if f.IsInt() {
			if c := int(x); c < 0 || c >= f.Classes {
				return fmt.Errorf("%w: %s is %d, outside [0, %d)", ErrArgument, at(i), c, f.Classes)
			}
		} else if g := float64(x); math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("%w: %s is %v", ErrArgument, at(i), g)
		}
	}
	return nil
}

// FromSlices returns the dataset of len(labels) examples of the given shape
// whose features are x, row-major (example i at x[i·size : (i+1)·size], size
// the product of shape), with class labels in 0..classes-1 (classes ≥ 2).
func FromSlices[T float32 | float64](x []T, shape []int, labels []int, classes int) (*Memory[T, int], error) {
	if classes < 2 {
		return nil, fmt.Errorf("%w: classes = %d, want ≥ 2", ErrArgument, classes)
	}
	if len(shape) > 0 && Size(shape) > 0 && len(x) != len(labels)*Size(shape) {
		return nil, fmt.Errorf("%w: %d features for %d labels of shape %v: want %d·%d = %d", ErrArgument, len(x), len(labels), shape, len(labels), Size(shape), len(labels)*Size(shape))
	}
	return New(x, Field{Dtype: floatDtype[T](), Shape: shape}, labels, Field{Dtype: tensor.Int, Classes: classes})
}

// FromValues returns the dataset of float features x (examples of the given
// shape) and float targets y (each of targetShape; nil for one value per
// example), for regression or multi-label targets.
func FromValues[X, Y float32 | float64](x []X, shape []int, y []Y, targetShape []int) (*Memory[X, Y], error) {
	return New(x, Field{Dtype: floatDtype[X](), Shape: shape}, y, Field{Dtype: floatDtype[Y](), Shape: targetShape})
}

// FromTokens returns the dataset of token ids x (examples of the given
// shape, ids in [0, vocab)) and integer targets y (each of targetShape, in
// [0, classes)): a sequence of tokens in and a label per position out, say.
func FromTokens(x []int, shape []int, vocab int, y []int, targetShape []int, classes int) (*Memory[int, int], error) {
	return New(x, Field{Dtype: tensor.Int, Shape: shape, Classes: vocab}, y, Field{Dtype: tensor.Int, Shape: targetShape, Classes: classes})
}

func floatDtype[T float32 | float64]() tensor.Dtype {
	var v T
	if _, ok := any(v).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

// Len returns the number of examples.
func (m *Memory[X, Y]) Len() int { return m.n }

// Input describes one example's inputs.
func (m *Memory[X, Y]) Input() Field { return m.in }

// Target describes one example's target.
func (m *Memory[X, Y]) Target() Field { return m.out }

// Shape returns the shape of one example's inputs.
func (m *Memory[X, Y]) Shape() []int { return m.in.Shape }

// Classes returns the number of classes of integer targets (0 for float targets).
func (m *Memory[X, Y]) Classes() int { return m.out.Classes }

// Gather copies examples idx into x and their targets into y, converting
// to the buffers' dtypes.
func (m *Memory[X, Y]) Gather(idx []int, x, y *tensor.Dense) error {
	if err := CheckBatch(x, y, len(idx), m.in, m.out); err != nil {
		return err
	}
	for k, i := range idx {
		if i < 0 || i >= m.n {
			return fmt.Errorf("%w: Gather: index %d at position %d outside 0..%d", ErrArgument, i, k, m.n-1)
		}
	}
	if err := gatherInto(x, m.x, idx, m.in.Size()); err != nil {
		return err
	}
	return gatherInto(y, m.y, idx, m.out.Size())
}

// gatherInto copies rows idx of src (rows of size values) into dst, whose
// dtype CheckBatch has checked.
func gatherInto[S Number](dst *tensor.Dense, src []S, idx []int, size int) error {
	switch d := dst.Data().(type) {
	case []float32:
		copyRows(d, src, idx, size)
	case []float64:
		copyRows(d, src, idx, size)
	case []int:
		copyRows(d, src, idx, size)
	default:
		return fmt.Errorf("%w: Gather: batch tensor holds %T", ErrArgument, d)
	}
	return nil
}

// copyRows copies rows idx (already checked) of src into consecutive rows
// of dst, converting each value.
func copyRows[D, S Number](dst []D, src []S, idx []int, size int) {
	for k, i := range idx {
		row := dst[k*size : (k+1)*size]
		for j, v := range src[i*size : (i+1)*size] {
			row[j] = D(v)
		}
	}
}

// View is a Dataset that shows the examples of another at a list of indices,
// without copying them.
type View struct {
	d     Dataset
	idx   []int
	inner []int // scratch for Gather: the parent's indices of a batch
}

// Subset returns the examples of d at idx, in that order (an index may
// repeat), as a View. idx is copied.
func Subset(d Dataset, idx []int) (*View, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: Subset of a nil dataset", ErrArgument)
	}
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			return nil, fmt.Errorf("%w: Subset: index %d at position %d outside 0..%d", ErrArgument, i, k, d.Len()-1)
		}
	}
	return &View{d: d, idx: slices.Clone(idx)}, nil
}

// Head returns the first n examples of d (all of them when n ≥ d.Len()).
func Head(d Dataset, n int) (Dataset, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: Head: n = %d, want ≥ 0", ErrArgument, n)
	}
	if n >= d.Len() {
		return d, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return Subset(d, idx)
}

// splitStream is the second PCG seed word of Split ("mnist-sp": the stream
// of the split MNIST used before this package existed, so a seed keeps
// selecting the same validation images).
const splitStream = 0x6d6e6973742d7370

// Split holds out n examples chosen uniformly at random as a validation set
// and returns the rest as the training set, both in their original order.
// The choice depends only on seed.
func Split(d Dataset, n int, seed uint64) (train, val *View, err error) {
	if n < 0 || n > d.Len() {
		return nil, nil, fmt.Errorf("%w: validation size %d outside 0..%d", ErrArgument, n, d.Len())
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(d.Len())
	valIdx, trainIdx := perm[:n], perm[n:]
	slices.Sort(valIdx)
	slices.Sort(trainIdx)
	if train, err = Subset(d, trainIdx); err != nil {
		return nil, nil, err
	}
	val, err = Subset(d, valIdx)
	return train, val, err
}

// Len returns the number of indices of the view.
func (v *View) Len() int { return len(v.idx) }

// Input returns the parent's input field.
func (v *View) Input() Field { return v.d.Input() }

// Target returns the parent's target field.
func (v *View) Target() Field { return v.d.Target() }

// Gather gathers the view's examples idx from the parent. A View is not
// safe for concurrent use (it reuses one scratch slice).
func (v *View) Gather(idx []int, x, y *tensor.Dense) error {
	v.inner = slices.Grow(v.inner[:0], len(idx))[:len(idx)]
	for k, i := range idx {
		if i < 0 || i >= len(v.idx) {
			return fmt.Errorf("%w: Gather: index %d at position %d outside 0..%d", ErrArgument, i, k, len(v.idx)-1)
		}
		v.inner[k] = v.idx[i]
	}
	return v.d.Gather(v.inner, x, y)
}
