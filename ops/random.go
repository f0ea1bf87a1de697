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

// Dropout and RandomShift are random ops: in Train mode each forward pass
// draws its randomness (a mask, shifts) and the gradient op of the same run
// applies it backwards; in Eval mode y = x and dx = g. They share
// everything but the draw and the kernel: the builder's checks, the seed
// from b.Stream(kind), the run counter "kind#i/step" (a graph.State, so a
// checkpoint resumes the sequence), rand.NewPCG(seed, k) as the generator of
// the k-th Train-mode run, the mode hook and the gradient op.

// randomSpec is what one random op adds to the shared part.
type randomSpec struct {
	kind     string  // the stream and state name: "dropout"
	params   string  // the op's parameters, in its name: "p=0.5"
	typ      hm.Type // forward type; the gradient's is (y, g) → dx of the same ranks
	gradTyp  hm.Type
	identity bool // the op is y = x (p = 0, max = 0): return x after taking the stream
	// kernel is the op's own state, draw draws a run's randomness from src
	// into it, and apply32/apply64 apply it forwards (y from x) or backwards
	// (dx from g) for a drawn run.
	kernel  any
	draw    func(src *rand.PCG)
	apply32 func(out, x []float32, backward bool)
	apply64 func(out, x []float64, backward bool)
}

// random is the state of a random op's node, shared by its forward and
// gradient ops (and every machine on the graph).
type random struct {
	randomSpec
	name     string // the op's name, in errors
	label    string // "Dropout"
	seed     uint64
	step     *tensor.Dense // the registered "kind#i/step" counter
	training bool
	frozen   bool // test hook: draw every run with the current counter, never advance it
	drawn    bool // whether the last forward pass drew (ran in Train mode)
	size     int  // x's size at the last draw
	pcg      rand.PCG
}

// checkBuilderInput checks the builder and the float input x of a stateful
// op (BatchNorm, Dropout, RandomShift); an error about x is also recorded
// in b (b.Fail).
func checkBuilderInput(b *graph.Builder, label string, x *gorgonia.Node) error {
	if b == nil {
		return fmt.Errorf("%w: %s: nil builder", ErrBuild, label)
	}
	if err := checkFloat(label, "x", x); err != nil {
		return b.Fail(err)
	}
	if x.Graph() != b.Graph() {
		return b.Fail(fmt.Errorf("%w: %s: x is not a node of the builder's graph", ErrBuild, label))
	}
	return nil
}

// randomNode builds the random op label on x: it checks b and x, then
// spec (the op's own checks), takes the node's seed from b.Stream and
// registers its step state.
func randomNode(b *graph.Builder, x *gorgonia.Node, label string, spec func() (randomSpec, error)) (*gorgonia.Node, error) {
	if err := checkBuilderInput(b, label, x); err != nil {
		return nil, err
	}
	fail := func(err error) (*gorgonia.Node, error) { return nil, b.Fail(err) }
	s, err := spec()
	if err != nil {
		return fail(err)
	}
	seed, k := b.Stream(s.kind)
	if s.identity {
		return x, nil
	}
	step, stateName, err := stepState(b, s.kind, k)
	if err != nil {
		return nil, err
	}
	r := &random{randomSpec: s, label: label, seed: seed, step: step, training: true,
		name: fmt.Sprintf("%s(%s, seed=%#x, state=%s)", label, s.params, seed, stateName)}
	n, err := applyDef(&def{
		name: r.name, label: label, typ: s.typ, state: r,
		train: func(training bool) { r.training = training },
		run32: func(y []float32, in [][]float32) error { return randomRun(r, r.apply32, y, in[0], false) },
		run64: func(y []float64, in [][]float64) error { return randomRun(r, r.apply64, y, in[0], false) },
		// dx uses the forward pass's draw; y is an input only so that the
		// tape runs the forward op first.
		grad: func(_ gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(&def{
				name: r.name + ".Grad()", label: label + "Grad", typ: s.gradTyp,
				run32: func(dx []float32, in [][]float32) error { return randomRun(r, r.apply32, dx, in[1], true) },
				run64: func(dx []float64, in [][]float64) error { return randomRun(r, r.apply64, dx, in[1], true) },
			}, y, g)
			return gorgonia.Nodes{dx}, err
		},
	}, x)
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// randomRun runs a random op's forward pass (out = y from x; in Train mode
// it draws first and advances the counter) or its gradient (out = dx from
// x = g, with the forward pass's draw).
func randomRun[T float](r *random, apply func(out, x []T, backward bool), out, x []T, backward bool) error {
	if backward {
		if len(out) != len(x) || (r.drawn && r.size != len(x)) {
			return fmt.Errorf("%w: %sGrad: the forward pass has not run", ErrBuild, r.label)
		}
	} else if r.drawn = r.training; r.drawn {
		if err := nextRand(r.name, r.seed, r.step, r.frozen, &r.pcg); err != nil {
			return err
		}
		r.draw(&r.pcg)
		r.size = len(x)
	}
	if !r.drawn {
		copy(out, x)
		return nil
	}
	apply(out, x, backward)
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
