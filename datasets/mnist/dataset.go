package mnist

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
)

// Dataset is a set of labelled images held compactly as bytes: N images of
// Rows×Cols pixels (0 background to 255 ink), row-major, image i at
// Pixels[i*Rows*Cols : (i+1)*Rows*Cols], with label Labels[i] in 0..9.
//
// A Dataset is a datasets.Dataset: examples of shape (1, Rows, Cols),
// PyTorch's layout of a one-channel image, scaled by Scaling when gathered.
type Dataset struct {
	N, Rows, Cols int
	Pixels        []uint8
	Labels        []uint8
	Scaling       Scaling // how Gather maps pixels to floats; Unit when zero
}

var _ datasets.Dataset = (*Dataset)(nil)

// Len returns N.
func (d *Dataset) Len() int { return d.N }

// Shape returns (1, Rows, Cols).
func (d *Dataset) Shape() []int { return []int{1, d.Rows, d.Cols} }

// Classes returns NumClasses (10).
func (d *Dataset) Classes() int { return NumClasses }

// Input describes an image: float (1, Rows, Cols).
func (d *Dataset) Input() datasets.Field {
	return datasets.Field{Dtype: tensor.Float32, Shape: d.Shape()}
}

// Target describes a label: one int in [0, 10) per image.
func (d *Dataset) Target() datasets.Field {
	return datasets.Field{Dtype: tensor.Int, Classes: NumClasses}
}

// Gather writes images idx, scaled by d.Scaling, into the float32 or float64
// tensor x (len(idx)·Rows·Cols elements, any shape) and their labels into
// the int tensor y (len(idx) elements).
func (d *Dataset) Gather(idx []int, x, y *tensor.Dense) error {
	if err := datasets.CheckBatch(x, y, len(idx), d.Input(), d.Target()); err != nil {
		return err
	}
	switch v := x.Data().(type) {
	case []float32:
		return Gather(d, idx, d.Scaling, v, y.Ints())
	case []float64:
		return Gather(d, idx, d.Scaling, v, y.Ints())
	}
	return fmt.Errorf("%w: Gather: x holds %T, want float32 or float64", ErrArgument, x.Data())
}

// NewDataset pairs images with their labels; the counts must match
// ([ErrMismatch]) and every label must be in 0..9 ([ErrArgument]). The
// slices are used, not copied.
func NewDataset(images Images, labels []uint8) (*Dataset, error) {
	if images.N != len(labels) {
		return nil, fmt.Errorf("%w: %d images but %d labels", ErrMismatch, images.N, len(labels))
	}
	d := &Dataset{N: images.N, Rows: images.Rows, Cols: images.Cols, Pixels: images.Pixels, Labels: labels}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

// ReadDataset reads an image file and its label file (each gzip-compressed or
// raw) and checks that they hold the same number of items.
func ReadDataset(imagesPath, labelsPath string) (*Dataset, error) {
	images, err := ReadImagesFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabelsFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if images.N != len(labels) {
		return nil, fmt.Errorf("%w: %s has %d images but %s has %d labels",
			ErrMismatch, imagesPath, images.N, labelsPath, len(labels))
	}
	return &Dataset{N: images.N, Rows: images.Rows, Cols: images.Cols, Pixels: images.Pixels, Labels: labels}, nil
}

// Features returns the number of pixels of one image, Rows·Cols.
func (d *Dataset) Features() int { return d.Rows * d.Cols }

// Image returns the pixels of image i, which must be in 0..N-1 (sharing
// memory with d).
func (d *Dataset) Image(i int) []uint8 {
	f := d.Features()
	return d.Pixels[i*f : (i+1)*f : (i+1)*f]
}

// check verifies the invariants of a Dataset built by hand.
func (d *Dataset) check() error {
	f := d.Rows * d.Cols
	switch {
	case d.N < 0 || d.Rows <= 0 || d.Cols <= 0:
		return fmt.Errorf("%w: dataset with N=%d, Rows=%d, Cols=%d", ErrArgument, d.N, d.Rows, d.Cols)
	case len(d.Pixels) != d.N*f:
		return fmt.Errorf("%w: dataset has %d pixel bytes, want N·Rows·Cols = %d·%d·%d = %d",
			ErrArgument, len(d.Pixels), d.N, d.Rows, d.Cols, d.N*f)
	case len(d.Labels) != d.N:
		return fmt.Errorf("%w: dataset has %d labels, want N = %d", ErrArgument, len(d.Labels), d.N)
	}
	for i, l := range d.Labels {
		if l >= NumClasses {
			return fmt.Errorf("%w: label %d at index %d outside 0..%d", ErrArgument, l, i, NumClasses-1)
		}
	}
	return nil
}

// Slice returns images lo..hi-1 as a Dataset sharing memory with d (capacity
// limited, so appending to it never writes into d).
func (d *Dataset) Slice(lo, hi int) (*Dataset, error) {
	if lo < 0 || hi < lo || hi > d.N {
		return nil, fmt.Errorf("%w: slice [%d:%d] of a dataset of %d images", ErrArgument, lo, hi, d.N)
	}
	f := d.Features()
	return &Dataset{
		N: hi - lo, Rows: d.Rows, Cols: d.Cols,
		Pixels: d.Pixels[lo*f : hi*f : hi*f],
		Labels: d.Labels[lo:hi:hi], Scaling: d.Scaling,
	}, nil
}

// Subset returns a new Dataset holding copies of the images at indices, in
// that order (an index may repeat).
func (d *Dataset) Subset(indices []int) (*Dataset, error) {
	for k, i := range indices {
		if i < 0 || i >= d.N {
			return nil, fmt.Errorf("%w: index %d at position %d outside 0..%d", ErrArgument, i, k, d.N-1)
		}
	}
	f := d.Features()
	s := &Dataset{
		N: len(indices), Rows: d.Rows, Cols: d.Cols,
		Pixels: make([]uint8, len(indices)*f),
		Labels: make([]uint8, len(indices)), Scaling: d.Scaling,
	}
	for k, i := range indices {
		copy(s.Pixels[k*f:(k+1)*f], d.Pixels[i*f:(i+1)*f])
		s.Labels[k] = d.Labels[i]
	}
	return s, nil
}

// Split holds out n images chosen uniformly at random as a validation set and
// returns the rest as the training set; both are copies that keep the original
// order. The choice depends only on seed (a PCG generator from math/rand/v2
// permutes the indices), so the same seed always gives the same split.
func (d *Dataset) Split(n int, seed uint64) (train, val *Dataset, err error) {
	if n < 0 || n > d.N {
		return nil, nil, fmt.Errorf("%w: validation size %d outside 0..%d", ErrArgument, n, d.N)
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(d.N)
	valIdx, trainIdx := perm[:n], perm[n:]
	slices.Sort(valIdx)
	slices.Sort(trainIdx)
	if train, err = d.Subset(trainIdx); err != nil {
		return nil, nil, err
	}
	if val, err = d.Subset(valIdx); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// splitStream is the second PCG seed word of Split, fixed so that a split
// depends on the user's seed alone and differs from other uses of that seed.
const splitStream = 0x6d6e6973742d7370 // "mnist-sp"
