package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gorgonia.org/tensor"
)

// Dataset is a set of labelled examples of one shape.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Shape returns the shape of one example, e.g. (1, 28, 28) for an MNIST
	// image; the caller must not modify it.
	Shape() []int
	// Classes returns the number of classes; labels are in 0..Classes()-1.
	Classes() int
	// Gather writes examples idx[0], idx[1], … into consecutive rows of x, a
	// float32 or float64 tensor of len(idx)·Size(Shape()) elements (its shape
	// beyond the first dimension is the caller's: a model may read an image
	// as a vector), and their labels into y (len(idx) entries). It does not
	// allocate in steady state and returns an error wrapping ErrArgument for
	// an index out of range or a buffer of the wrong size or dtype.
	Gather(idx []int, x *tensor.Dense, y []int) error
}

// Size returns the number of elements of an example of the given shape.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// CheckBatch returns an error unless x is a float32 or float64 tensor of n
// examples of the given size and y has n entries; implementations of Gather
// call it first.
func CheckBatch(x *tensor.Dense, y []int, n, size int) error {
	switch {
	case x == nil:
		return fmt.Errorf("%w: Gather: nil batch tensor", ErrArgument)
	case x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64:
		return fmt.Errorf("%w: Gather: batch tensor has dtype %v, want float32 or float64", ErrArgument, x.Dtype())
	case x.Len() != n*size:
		return fmt.Errorf("%w: Gather: batch tensor %v has %d elements, want %d examples × %d = %d", ErrArgument, x.Shape(), x.Len(), n, size, n*size)
	case len(y) != n:
		return fmt.Errorf("%w: Gather: %d label slots for %d examples", ErrArgument, len(y), n)
	}
	return nil
}

// Memory is a Dataset held in memory: example i is X[i*size : (i+1)*size]
// with label Labels[i]. Make one with FromSlices, which validates it.
type Memory[T float32 | float64] struct {
	x       []T
	labels  []int
	shape   []int
	size    int
	classes int
}

// FromSlices returns the dataset of len(labels) examples of the given shape
// whose features are x, row-major (example i at x[i·size : (i+1)·size], size
// the product of shape), with labels in 0..classes-1. It checks that the
// lengths agree, every label is in range, and no feature is NaN or infinite;
// the slices are used, not copied.
func FromSlices[T float32 | float64](x []T, shape []int, labels []int, classes int) (*Memory[T], error) {
	if len(shape) == 0 {
		return nil, fmt.Errorf("%w: example shape is empty, want at least one dimension", ErrArgument)
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("%w: example shape %v has a dimension ≤ 0", ErrArgument, shape)
		}
	}
	if classes < 2 {
		return nil, fmt.Errorf("%w: classes = %d, want ≥ 2", ErrArgument, classes)
	}
	size := Size(shape)
	if len(x) != len(labels)*size {
		return nil, fmt.Errorf("%w: %d features for %d labels of shape %v: want %d·%d = %d", ErrArgument, len(x), len(labels), shape, len(labels), size, len(labels)*size)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("%w: label %d of example %d is outside 0..%d", ErrArgument, l, i, classes-1)
		}
	}
	for i, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: feature %d of example %d is %v", ErrArgument, i%size, i/size, f)
		}
	}
	return &Memory[T]{x: x, labels: labels, shape: slices.Clone(shape), size: size, classes: classes}, nil
}

// Len returns the number of examples.
func (m *Memory[T]) Len() int { return len(m.labels) }

// Shape returns the shape of one example.
func (m *Memory[T]) Shape() []int { return m.shape }

// Classes returns the number of classes.
func (m *Memory[T]) Classes() int { return m.classes }

// Gather copies examples idx into x (converting to x's dtype) and their labels into y.
func (m *Memory[T]) Gather(idx []int, x *tensor.Dense, y []int) error {
	if err := CheckBatch(x, y, len(idx), m.size); err != nil {
		return err
	}
	switch dst := x.Data().(type) {
	case []float32:
		return gatherRows(dst, m.x, m.labels, idx, y, m.size)
	case []float64:
		return gatherRows(dst, m.x, m.labels, idx, y, m.size)
	}
	return fmt.Errorf("%w: Gather: batch tensor holds %T", ErrArgument, x.Data())
}

func gatherRows[D, S float32 | float64](dst []D, src []S, labels, idx, y []int, size int) error {
	for k, i := range idx {
		if i < 0 || i >= len(labels) {
			return fmt.Errorf("%w: Gather: index %d at position %d outside 0..%d", ErrArgument, i, k, len(labels)-1)
		}
		row := dst[k*size : (k+1)*size]
		for j, v := range src[i*size : (i+1)*size] {
			row[j] = D(v)
		}
		y[k] = labels[i]
	}
	return nil
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

// Shape returns the parent's example shape.
func (v *View) Shape() []int { return v.d.Shape() }

// Classes returns the parent's number of classes.
func (v *View) Classes() int { return v.d.Classes() }

// Gather gathers the view's examples idx from the parent. A View is not
// safe for concurrent use (it reuses one scratch slice).
func (v *View) Gather(idx []int, x *tensor.Dense, y []int) error {
	v.inner = slices.Grow(v.inner[:0], len(idx))[:len(idx)]
	for k, i := range idx {
		if i < 0 || i >= len(v.idx) {
			return fmt.Errorf("%w: Gather: index %d at position %d outside 0..%d", ErrArgument, i, k, len(v.idx)-1)
		}
		v.inner[k] = v.idx[i]
	}
	return v.d.Gather(v.inner, x, y)
}
