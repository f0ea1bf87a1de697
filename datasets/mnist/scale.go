package mnist

import "fmt"

// Scaling maps a pixel byte p in 0..255 to a float.
type Scaling int

const (
	// Unit scales to [0,1]: p/255. The zero value, the default.
	Unit Scaling = iota
	// Symmetric scales to [-1,1]: p/127.5 − 1.
	Symmetric
	// Standardize scales to zero mean and unit variance with the MNIST
	// training-set statistics: (p/255 − 0.1307) / 0.3081.
	Standardize
)

// MNIST training-set statistics of p/255, used by Standardize.
const (
	Mean = 0.1307
	Std  = 0.3081
)

var scalingNames = [...]string{Unit: "unit", Symmetric: "symmetric", Standardize: "standardize"}

// String returns the name ParseScaling accepts: unit, symmetric or standardize.
func (s Scaling) String() string {
	if s >= 0 && int(s) < len(scalingNames) {
		return scalingNames[s]
	}
	return fmt.Sprintf("Scaling(%d)", int(s))
}

// ParseScaling returns the Scaling named unit ([0,1]), symmetric ([-1,1]) or
// standardize (MNIST mean and standard deviation).
func ParseScaling(name string) (Scaling, error) {
	for i, n := range scalingNames {
		if n == name {
			return Scaling(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown scaling %q (want unit, symmetric or standardize)", ErrArgument, name)
}

// Scale returns the value pixel p takes under s, computed in float64.
func (s Scaling) Scale(p uint8) (float64, error) {
	v := float64(p)
	switch s {
	case Unit:
		return v / 255, nil
	case Symmetric:
		return v/127.5 - 1, nil
	case Standardize:
		return (v/255 - Mean) / Std, nil
	}
	return 0, fmt.Errorf("%w: unknown scaling %v", ErrArgument, s)
}

// Gather fills a batch for training: for each k, the image d[indices[k]]
// scaled by s goes to x[k*F : (k+1)*F] (F = Rows·Cols, so x is a row-major
// len(indices)×F matrix) and its label to y[k]. x must have length exactly
// len(indices)·F and y length len(indices); a short final batch passes
// shorter slices. Gather does not allocate; it returns an error wrapping
// ErrArgument for an index out of range, a wrong buffer length, an unknown
// scaling or an inconsistent Dataset, and then x and y are left unspecified.
func Gather[T float32 | float64](d *Dataset, indices []int, s Scaling, x []T, y []int) error {
	if _, err := s.Scale(0); err != nil {
		return err
	}
	f := d.Features()
	switch {
	case d.N < 0 || d.Rows <= 0 || d.Cols <= 0 || len(d.Pixels) != d.N*f || len(d.Labels) != d.N:
		return d.check()
	case len(x) != len(indices)*f:
		return fmt.Errorf("%w: Gather: x has length %d, want %d images × %d pixels = %d",
			ErrArgument, len(x), len(indices), f, len(indices)*f)
	case len(y) != len(indices):
		return fmt.Errorf("%w: Gather: y has length %d, want %d", ErrArgument, len(y), len(indices))
	}
	var lut [256]T
	for p := range lut {
		v, _ := s.Scale(uint8(p))
		lut[p] = T(v)
	}
	for k, i := range indices {
		if i < 0 || i >= d.N {
			return fmt.Errorf("%w: Gather: index %d at position %d outside 0..%d", ErrArgument, i, k, d.N-1)
		}
		dst := x[k*f : (k+1)*f]
		for j, p := range d.Pixels[i*f : (i+1)*f] {
			dst[j] = lut[p]
		}
		y[k] = int(d.Labels[i])
	}
	return nil
}
