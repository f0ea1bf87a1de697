package ops

import "gorgonia.org/gorgonia"

// FreezeDropout makes the dropout node n draw every mask with its current
// step counter and never advance it, so that finite differences see one
// fixed mask. It reports whether n is a dropout node.
func FreezeDropout(n *gorgonia.Node, frozen bool) bool {
	o, ok := n.Op().(*dropoutOp)
	if ok {
		o.frozen = frozen
	}
	return ok
}

// FreezeShift is FreezeDropout for a RandomShift node.
func FreezeShift(n *gorgonia.Node, frozen bool) bool {
	o, ok := n.Op().(*shiftOp)
	if ok {
		o.frozen = frozen
	}
	return ok
}

// DropoutMask returns a copy of the keep mask of n's last forward pass (nil
// if none was applied).
func DropoutMask(n *gorgonia.Node) []bool {
	o, ok := n.Op().(*dropoutOp)
	if !ok || !o.masked {
		return nil
	}
	keep := make([]bool, len(o.keep))
	for i, k := range o.keep {
		keep[i] = k == 1
	}
	return keep
}

// Gemm applies op(a)·op(b), transposing a (b) when ta (tb) is set.
func Gemm(a, b *gorgonia.Node, ta, tb bool) (*gorgonia.Node, error) { return gemm(a, b, ta, tb) }
