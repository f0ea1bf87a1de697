package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
)

// MatMul returns the matrix product a·b of a (m, k) and a (k, n) node.
func MatMul(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "MatMul"
	if err := checkFloat(op, "a", a); err != nil {
		return nil, err
	}
	if err := checkFloat(op, "b", b); err != nil {
		return nil, err
	}
	as, bs := a.Shape(), b.Shape()
	if len(as) != 2 || len(bs) != 2 || as[1] != bs[0] {
		return nil, fmt.Errorf("%w: %s: a %v and b %v: want (m, k) and (k, n)", ErrShape, op, as, bs)
	}
	if a.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %s: a is %v, b is %v", ErrDtype, op, a.Dtype(), b.Dtype())
	}
	return apply(op, func() (*gorgonia.Node, error) { return gorgonia.Mul(a, b) })
}
