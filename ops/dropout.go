package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/internal/vec"
)

// Dropout applies inverted dropout (Srivastava et al., 2014) to x, with p the
// probability of dropping a unit, 0 ≤ p < 1 (anything else, NaN included, is
// an error wrapping ErrConfig that names p). In Train mode each unit is kept
// with probability 1 − p:
//
//	y = x·mask/(1 − p),  mask ~ Bernoulli(1 − p) per unit,  dx = g·mask/(1 − p)
//
// with the same mask and scale in the backward pass as in the forward pass
// of the run; in Eval mode y = x and dx = g. p = 0 returns x itself (after
// taking its stream, so the seeds of later dropout nodes do not depend on it).
//
// Dropout takes the builder, unlike the plain ops, because its masks are
// part of the model: ops keep no global state and read no clock. Each
// dropout node draws its own seed from b.Stream("dropout"), so the same
// builder seed and construction sequence give the same masks and two
// dropout nodes never share one. The mask of a node's k-th Train-mode
// forward pass is drawn from rand.NewPCG(seed, k) (math/rand/v2); the counter
// k is a state tensor "dropout#i/step" (float64, shape (1)) registered with
// b.AddState, where i numbers the builder's dropout nodes from 0, so saving
// and restoring the states resumes the mask sequence exactly. Eval-mode runs
// draw no mask and leave k alone.
func Dropout(b *graph.Builder, x *gorgonia.Node, p float64) (*gorgonia.Node, error) {
	return randomNode(b, x, "Dropout", func() (randomSpec, error) {
		if !(p >= 0 && p < 1) {
			return randomSpec{}, fmt.Errorf("%w: Dropout: p = %v: the drop probability must be in [0, 1)", ErrConfig, p)
		}
		m := &dropoutMask{p: p, scale: 1 / (1 - p), n: x.Shape().TotalSize()}
		return randomSpec{
			kind: "dropout", params: fmt.Sprintf("p=%v", p), identity: p == 0,
			typ: sig(0, 0), gradTyp: sig(0, 0, 0),
			kernel: m, draw: m.draw,
			apply32: func(out, v []float32, _ bool) { dropoutApply(out, v, m.keep, float32(m.scale), true) },
			apply64: func(out, v []float64, _ bool) { dropoutApply(out, v, m.keep, m.scale, true) },
		}, nil
	})
}

// dropoutMask is Dropout's kernel state: the mask of the last Train-mode
// forward pass, read by the gradient op of the same run.
type dropoutMask struct {
	p, scale float64
	n        int     // units per run
	keep     []uint8 // 1 kept, 0 dropped
}

// draw sets keep to the mask of the run's generator r. Unit i is kept when
// the i-th Float64 of r is ≥ p: Float64 is u/2⁵³ for the low 53 bits u of
// Uint64, so the test is the integer one u ≥ ⌈p·2⁵³⌉ (exact: p·2⁵³ is p
// scaled by a power of two), drawn from the PCG directly rather than
// through rand.Rand's interface.
func (m *dropoutMask) draw(r *rand.PCG) {
	if cap(m.keep) < m.n {
		m.keep = make([]uint8, m.n)
	}
	m.keep = m.keep[:m.n]
	t := uint64(math.Ceil(m.p * (1 << 53)))
	for i := range m.keep {
		var k uint8
		if r.Uint64()&(1<<53-1) >= t {
			k = 1
		}
		m.keep[i] = k
	}
}

// dropoutApply writes v·keep·scale into out, or v when masked is false; the
// forward and the backward pass share it. A dropped unit is exactly +0,
// whatever v holds there (an Inf or NaN included, so an overflowed gradient
// does not leak through a dropped unit), without a branch on the mask
// (vec.KeepBits).
func dropoutApply[T float](out, v []T, keep []uint8, scale T, masked bool) {
	if !masked {
		copy(out, v)
		return
	}
	out, keep = out[:len(v)], keep[:len(v)]
	for i, x := range v {
		out[i] = vec.KeepBits(x*scale, keep[i])
	}
}
