package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// AffineAttrs are the fixed scale and shift of an Affine layer (Describe's
// Attrs for kind "affine").
type AffineAttrs struct{ Scale, Shift []float64 }

// Affine is y = x·scale + shift per feature of the last dimension, with
// fixed values (ops.Affine): no parameters, the same in Train and Eval
// mode. Standardize and Unstandardize are its common uses.
func Affine(scale, shift []float64) Layer {
	a := AffineAttrs{slices.Clone(scale), slices.Clone(shift)}
	return attrLayer{fnLayer{"affine", func(_ *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.Affine(x, a.Scale, a.Shift)
	}}, a}
}

// Standardize is (x − mean)/std per feature with a training set's
// statistics, as a layer, so a model carries its own input scaling (into
// ONNX too). A std of 0 (a constant feature) counts as 1.
func Standardize(mean, std []float64) (Layer, error) {
	if len(mean) != len(std) {
		return nil, fmt.Errorf("%w: standardize: %d means and %d standard deviations", ErrLayer, len(mean), len(std))
	}
	scale, shift := make([]float64, len(mean)), make([]float64, len(mean))
	for i := range mean {
		s := std[i]
		if s == 0 {
			s = 1
		}
		scale[i], shift[i] = 1/s, -mean[i]/s
	}
	return Affine(scale, shift), nil
}
