package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Flatten reshapes x, of shape (N, d1, d2, …) with rank ≥ 2, to
// (N, d1·d2·…), keeping the row-major order of the elements (PyTorch's
// torch.flatten(x, 1)): the bridge from convolution layers, (N, C, H, W), to
// dense ones. The gradient reshapes the output gradient back. Both copy into
// buffers kept between runs.
func Flatten(x *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "Flatten"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	xs := x.Shape()
	if len(xs) < 2 {
		return nil, fmt.Errorf("%w: %s: x has shape %v, want rank ≥ 2 (N, …)", ErrShape, op, xs)
	}
	out := tensor.Shape{xs[0], xs.TotalSize() / xs[0]}
	return applyDef(reshapeDef(op, xs.Clone(), out), x)
}

// FlattenOutputShape returns Flatten's output shape for an input of shape x.
func FlattenOutputShape(x []int) ([]int, error) {
	if len(x) < 2 {
		return nil, fmt.Errorf("%w: Flatten: x has shape %v, want rank ≥ 2 (N, …)", ErrShape, tensor.Shape(x))
	}
	n := 1
	for _, d := range x[1:] {
		n *= d
	}
	return []int{x[0], n}, nil
}

// reshapeDef copies a tensor of shape from into one of shape to (same size);
// its gradient is the reshape back.
func reshapeDef(label string, from, to tensor.Shape) *def {
	return &def{
		name:  fmt.Sprintf("%s(%v → %v)", label, from, to),
		label: label,
		typ:   sig(len(from), len(to)),
		shape: to,
		run32: copyKernel[float32],
		run64: copyKernel[float64],
		grad: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(reshapeDef(label+"Grad", to, from), g)
			return gorgonia.Nodes{dx}, err
		},
	}
}

func copyKernel[T float](out []T, in [][]T) error {
	if len(out) != len(in[0]) {
		return fmt.Errorf("%w: reshape: %d elements into %d", ErrShape, len(in[0]), len(out))
	}
	copy(out, in[0])
	return nil
}
