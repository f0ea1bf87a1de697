package ops

import "gorgonia.org/gorgonia"

// FreezeDropout makes the dropout node n draw every mask with its current
// step counter and never advance it, so that finite differences see one
// fixed mask. It reports whether n is a dropout node.
func FreezeDropout(n *gorgonia.Node, frozen bool) bool { return freeze[*dropoutMask](n, frozen) }

// FreezeShift is FreezeDropout for a RandomShift node.
func FreezeShift(n *gorgonia.Node, frozen bool) bool { return freeze[*shifts](n, frozen) }

// freeze sets the test hook of n when it is a random op with kernel K.
func freeze[K any](n *gorgonia.Node, frozen bool) bool {
	r, ok := stateOf[*random](n)
	if ok {
		_, ok = r.kernel.(K)
	}
	if ok {
		r.frozen = frozen
	}
	return ok
}

// DropoutMask returns a copy of the keep mask of n's last forward pass (nil
// if none was applied).
func DropoutMask(n *gorgonia.Node) []bool {
	r, ok := stateOf[*random](n)
	if !ok || !r.drawn {
		return nil
	}
	m, ok := r.kernel.(*dropoutMask)
	if !ok {
		return nil
	}
	keep := make([]bool, len(m.keep))
	for i, k := range m.keep {
		keep[i] = k == 1
	}
	return keep
}

// Gemm applies op(a)·op(b), transposing a (b) when ta (tb) is set.
func Gemm(a, b *gorgonia.Node, ta, tb bool) (*gorgonia.Node, error) { return gemm(a, b, ta, tb) }
