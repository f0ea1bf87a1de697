package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
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
	const op = "Dropout"
	if b == nil {
		return nil, fmt.Errorf("%w: %s: nil builder", ErrBuild, op)
	}
	fail := func(err error) (*gorgonia.Node, error) { return nil, b.Fail(err) }
	if err := checkFloat(op, "x", x); err != nil {
		return fail(err)
	}
	if x.Graph() != b.Graph() {
		return fail(fmt.Errorf("%w: %s: x is not a node of the builder's graph", ErrBuild, op))
	}
	if !(p >= 0 && p < 1) {
		return fail(fmt.Errorf("%w: %s: p = %v: the drop probability must be in [0, 1)", ErrConfig, op, p))
	}
	const kind = "dropout"
	seed, k := b.Stream(kind)
	if p == 0 {
		return x, nil
	}
	step, stateName, err := stepState(b, kind, k)
	if err != nil {
		return nil, err
	}
	o := &dropoutOp{
		opBase:   newBase(fmt.Sprintf("Dropout(p=%v, seed=%#x, state=%s)", p, seed, stateName)),
		p:        p,
		scale:    1 / (1 - p),
		seed:     seed,
		step:     step,
		training: true,
	}
	n, err := apply(op, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(o, x) })
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// dropoutOp multiplies x by a random keep mask and 1/(1 − p). It is a pointer
// type: the mode flag and the mask of the last forward pass (read by the
// gradient op of the same run) live in the op.
type dropoutOp struct {
	opBase
	p, scale float64
	seed     uint64
	step     *tensor.Dense // the registered "dropout#i/step" counter
	training bool
	frozen   bool // test hook: draw every mask with the current counter, never advance it

	masked bool     // whether the last forward pass applied a mask
	keep   []uint8  // the last mask: 1 kept, 0 dropped
	pcg    rand.PCG // the generator of the current run, reseeded by each draw
}

var (
	_ gorgonia.Op              = (*dropoutOp)(nil)
	_ gorgonia.SDOp            = (*dropoutOp)(nil)
	_ gorgonia.UsePreallocDoer = (*dropoutOp)(nil)
	_ gorgonia.TrainModeOp     = (*dropoutOp)(nil)
)

// SetTraining selects random masks (true) or the identity (false). It only
// sets the flag.
func (o *dropoutOp) SetTraining(training bool) error { o.training = training; return nil }

func (o *dropoutOp) Arity() int { return 1 }

func (o *dropoutOp) Type() hm.Type { a := hm.TypeVariable('a'); return hm.NewFnType(a, a) }

func (o *dropoutOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }

func (o *dropoutOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("Dropout", &err)
	return o.UsePreallocDo(o.out.like(in[0]), in...)
}

// UsePreallocDo writes the dropped-out x into prealloc; in Train mode it
// draws the next mask and advances the counter.
func (o *dropoutOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("Dropout", &err)
	o.masked = o.training
	if o.masked {
		if err := o.draw(in[0].Shape().TotalSize()); err != nil {
			return nil, err
		}
	}
	if x, y := data[float32](in[0]), data[float32](prealloc); x != nil && y != nil {
		dropoutApply(y, x, o.keep, float32(o.scale), o.masked)
	} else if x, y := data[float64](in[0]), data[float64](prealloc); x != nil && y != nil {
		dropoutApply(y, x, o.keep, o.scale, o.masked)
	} else {
		return nil, fmt.Errorf("%w: Dropout: x and the output must be plain row-major float32 or float64 tensors; x is %s, the output %s", ErrDtype, notPlain(in[0]), notPlain(prealloc))
	}
	return prealloc, nil
}

// draw sets keep to the mask of the current counter value and advances it.
// Unit i is kept when the i-th Float64 of the node's generator is ≥ p:
// Float64 is u/2⁵³ for the low 53 bits u of Uint64, so the test is the
// integer one u ≥ ⌈p·2⁵³⌉ (exact: p·2⁵³ is p scaled by a power of two),
// drawn from the PCG directly rather than through rand.Rand's interface.
func (o *dropoutOp) draw(n int) error {
	r := &o.pcg
	if err := nextRand(o.name, o.seed, o.step, o.frozen, r); err != nil {
		return err
	}
	if cap(o.keep) < n {
		o.keep = make([]uint8, n)
	}
	o.keep = o.keep[:n]
	t := uint64(math.Ceil(o.p * (1 << 53)))
	for i := range o.keep {
		var k uint8
		if r.Uint64()&(1<<53-1) >= t {
			k = 1
		}
		o.keep[i] = k
	}
	return nil
}

// stepState registers the run counter of the k-th seeded node of kind: the
// state tensor "kind#k/step" (float64, shape (1)), so that a checkpoint
// resumes the node's random sequence.
func stepState(b *graph.Builder, kind string, k int) (*tensor.Dense, string, error) {
	name := fmt.Sprintf("%s#%d/step", kind, k)
	step, err := b.AddState(name, tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0})))
	return step, name, err
}

// nextRand seeds r as the generator of a seeded node's current run,
// rand.NewPCG(seed, k) for the counter value k, and advances the counter
// unless frozen (a test hook).
func nextRand(op string, seed uint64, step *tensor.Dense, frozen bool, r *rand.PCG) error {
	st := step.Float64s()
	k := st[0]
	if !(k >= 0 && k < 1<<53) || k != math.Trunc(k) {
		return fmt.Errorf("%w: %s: the step counter holds %v, want a non-negative integer", ErrBuild, op, k)
	}
	if !frozen {
		st[0]++
	}
	r.Seed(seed, uint64(k))
	return nil
}

// dropoutApply writes v·keep·scale into out, or v when masked is false; the
// forward and the backward pass share it. A dropped unit is exactly +0,
// whatever v holds there (an Inf or NaN included, so an overflowed gradient
// does not leak through a dropped unit), without a branch on the mask
// (keepBits).
func dropoutApply[T float](out, v []T, keep []uint8, scale T, masked bool) {
	if !masked {
		copy(out, v)
		return
	}
	out, keep = out[:len(v)], keep[:len(v)]
	for i, x := range v {
		out[i] = keepBits(x*scale, keep[i])
	}
}

func (o *dropoutOp) DiffWRT(int) []bool { return []bool{true} }

func (o *dropoutOp) SymDiff(_ gorgonia.Nodes, y, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	// dx = g·mask/(1 − p) (or g in Eval mode) with the forward op's last
	// mask; y is an input only so that the tape runs the forward op first.
	d := &def{
		name:  o.name + ".Grad()",
		label: "DropoutGrad",
		typ:   sig(0, 0, 0),
		run32: func(dx []float32, in [][]float32) error { return dropoutGrad(o, dx, in[1], float32(o.scale)) },
		run64: func(dx []float64, in [][]float64) error { return dropoutGrad(o, dx, in[1], o.scale) },
	}
	dx, err := applyDef(d, y, grad)
	return gorgonia.Nodes{dx}, err
}

func dropoutGrad[T float](o *dropoutOp, dx, g []T, scale T) error {
	if len(dx) != len(g) || (o.masked && len(o.keep) != len(g)) {
		return fmt.Errorf("%w: DropoutGrad: the forward pass has not run", ErrBuild)
	}
	dropoutApply(dx, g, o.keep, scale, o.masked)
	return nil
}
