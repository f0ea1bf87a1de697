package ops

import (
	"fmt"
	"hash/fnv"
	"math"

	"gorgonia.org/gorgonia"
)

// Affine returns x·scale + shift with fixed (not learned) per-feature
// scale and shift over the last dimension of x, (…, D) with D =
// len(scale) = len(shift):
//
//	y[…, j] = x[…, j]·scale[j] + shift[j]
//
// Standardization with a training set's statistics is Affine(x, 1/σ, −μ/σ);
// undoing it on a regressor's output is Affine(y, σ, μ). The gradient is
// dx = g·scale. scale and shift are copied; they must be finite.
func Affine(x *gorgonia.Node, scale, shift []float64) (*gorgonia.Node, error) {
	const op = "Affine"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	xs := x.Shape()
	if len(xs) < 1 || len(scale) == 0 || len(scale) != len(shift) || xs[len(xs)-1] != len(scale) {
		return nil, fmt.Errorf("%w: %s: x %v with %d scales and %d shifts: want (…, D) and D of each", ErrShape, op, xs, len(scale), len(shift))
	}
	h := fnv.New64a()
	for i := range scale {
		if math.IsNaN(scale[i]) || math.IsInf(scale[i], 0) || math.IsNaN(shift[i]) || math.IsInf(shift[i], 0) {
			return nil, fmt.Errorf("%w: %s: scale[%d] = %v, shift[%d] = %v, want finite numbers", ErrConfig, op, i, scale[i], i, shift[i])
		}
		fmt.Fprint(h, scale[i], shift[i], ";")
	}
	a, b := append([]float64(nil), scale...), append([]float64(nil), shift...)
	a32, b32 := make([]float32, len(a)), make([]float32, len(b))
	for i := range a {
		a32[i], b32[i] = float32(a[i]), float32(b[i])
	}
	d := &def{
		name:  fmt.Sprintf("Affine(d=%d, %x)", len(a), h.Sum64()),
		label: op,
		typ:   sig(0, 0),
		run32: func(out []float32, in [][]float32) error { return affine(out, in[0], a32, b32) },
		run64: func(out []float64, in [][]float64) error { return affine(out, in[0], a, b) },
		grad: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := Affine(g, a, make([]float64, len(a)))
			return gorgonia.Nodes{dx}, err
		},
	}
	return applyDef(d, x)
}

func affine[T float](out, x, a, b []T) error {
	d := len(a)
	if len(x)%d != 0 || len(out) != len(x) {
		return fmt.Errorf("%w: Affine: %d values into %d, want a multiple of %d", ErrShape, len(x), len(out), d)
	}
	for i := 0; i < len(x); i += d {
		row, o := x[i:i+d], out[i:i+d]
		for j, v := range row {
			o[j] = v*a[j] + b[j]
		}
	}
	return nil
}
