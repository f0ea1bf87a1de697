package graph

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode selects how mode-aware ops behave: batch statistics and random masks
// in Train, running statistics and the identity in Eval.
type Mode int

const (
	// Train is the mode of a new Program.
	Train Mode = iota
	// Eval runs forward only and leaves gradients and running statistics alone.
	Eval
)

// String returns "train" or "eval".
func (m Mode) String() string {
	switch m {
	case Train:
		return "train"
	case Eval:
		return "eval"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Feeds maps input names to the values of one run.
type Feeds map[string]tensor.Tensor

// FeedError reports a feed that is missing, unknown, or of the wrong shape or
// dtype. It wraps ErrMissingInput, ErrUnknownInput, ErrShape or ErrDtype.
type FeedError struct {
	Input     string
	WantShape tensor.Shape
	GotShape  tensor.Shape
	WantDtype tensor.Dtype
	GotDtype  tensor.Dtype
	Err       error
}

// Error describes the feed and what is wrong with it.
func (e *FeedError) Error() string {
	switch {
	case errors.Is(e.Err, ErrMissingInput):
		return fmt.Sprintf("%v: %q (want %v %v)", e.Err, e.Input, e.WantDtype, e.WantShape)
	case errors.Is(e.Err, ErrUnknownInput):
		return fmt.Sprintf("%v: %q is not an input of the program", e.Err, e.Input)
	case errors.Is(e.Err, ErrDtype):
		return fmt.Sprintf("%v: input %q: want dtype %v, got %v", e.Err, e.Input, e.WantDtype, e.GotDtype)
	}
	return fmt.Sprintf("%v: input %q: want shape %v, got %v", e.Err, e.Input, e.WantShape, e.GotShape)
}

// Unwrap returns the sentinel error.
func (e *FeedError) Unwrap() error { return e.Err }

// Program is a compiled graph: a training machine that runs forward and
// backward and a forward-only machine. A Program is not safe for concurrent
// use.
type Program struct {
	g       *gorgonia.ExprGraph
	loss    *gorgonia.Node
	outputs []*gorgonia.Node
	params  []*gorgonia.Node
	states  []State
	inputs  map[string]*gorgonia.Node
	// inputNames are the inputs' names, sorted (made on first use).
	inputNames []string
	train      gorgonia.VM // nil when there is no loss
	forward    gorgonia.VM
	modeOps    []gorgonia.TrainModeOp
	syncOps    []SyncOp
	mode       Mode
	b          *Builder
	hasGrads   bool
	eng        *gradEngine // the engine of the parameters' gradients
}

// Compile differentiates loss (a float scalar node, or nil for a
// forward-only program) with respect to every parameter of the builder and
// returns a Program that computes the loss and the given outputs. It returns
// the builder's first construction error, if any.
func (b *Builder) Compile(loss *gorgonia.Node, outputs ...*gorgonia.Node) (p *Program, err error) {
	if b.err != nil {
		return nil, b.err
	}
	b.modeBy = nil // the machines made below set every op's mode
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, b.Fail(fmt.Errorf("%w: compile: gorgonia panicked: %v", ErrBuild, r))
		}
	}()
	roots := make([]*gorgonia.Node, len(outputs))
	for i, n := range outputs {
		if n == nil || n.Graph() != b.g {
			return nil, b.Fail(fmt.Errorf("%w: compile: output %d is nil or not a node of this graph", ErrBuild, i))
		}
		if roots[i], err = gorgonia.ApplyOp(copyOp{&outBuf{}}, n); err != nil {
			return nil, b.Fail(fmt.Errorf("%w: compile: output %d: %w", ErrBuild, i, err))
		}
	}
	p = &Program{g: b.g, loss: loss, outputs: slices.Clone(roots), params: slices.Clone(b.params), states: slices.Clone(b.states),
		inputs: map[string]*gorgonia.Node{}, b: b, eng: &gradEngine{}}
	if loss != nil {
		if loss.Graph() != b.g {
			return nil, b.Fail(fmt.Errorf("%w: compile: the loss is not a node of this graph", ErrBuild))
		}
		if !loss.IsScalar() || (loss.Dtype() != tensor.Float32 && loss.Dtype() != tensor.Float64) {
			return nil, b.Fail(fmt.Errorf("%w: compile: the loss %v must be a float scalar, it is %v %v", ErrShape, loss.Name(), loss.Dtype(), loss.Shape()))
		}
		roots = append(roots, loss)
	}
	if len(roots) == 0 {
		return nil, b.Fail(fmt.Errorf("%w: compile: no loss and no outputs", ErrBuild))
	}
	fwd := b.g.SubgraphRoots(roots...)
	for _, n := range b.inputs {
		if fwd.Has(n.ID()) {
			p.inputs[n.Name()] = n
		}
	}
	if loss != nil && len(p.params) > 0 {
		grads, err := gorgonia.Grad(loss, p.params...)
		if err != nil {
			return nil, b.Fail(fmt.Errorf("%w: compile: gradients of %v: %w", ErrBuild, loss.Name(), err))
		}
		p.hasGrads = true
		// The training machine runs only what the loss, the outputs and the
		// parameters' gradients need: Gorgonia's symbolic differentiation
		// also makes gradient nodes for data inputs (dL/dx of the first
		// matrix product, a third of an MLP's work), which nothing reads.
		p.train = gorgonia.NewTapeMachine(b.g.SubgraphRoots(append(roots, grads...)...), gorgonia.BindDualValues(p.params...))
	}
	p.forward = gorgonia.NewTapeMachine(fwd, gorgonia.EvalMode())
	for _, n := range b.g.AllNodes() {
		if op, ok := n.Op().(gorgonia.TrainModeOp); ok {
			p.modeOps = append(p.modeOps, op)
		}
		if op, ok := n.Op().(SyncOp); ok {
			p.syncOps = append(p.syncOps, op)
		}
	}
	return p, nil
}

// SyncOp is an op whose Train-mode passes can combine per-feature sums
// across the processes of a data-parallel run (ops.BatchNorm: synchronized
// batch norm). SetSync hands it the all-reduce (a sum over the processes,
// in place, the same result on every one); nil makes it local again.
type SyncOp interface {
	SetSync(sum func(buf []float64) error)
}

// SetSync gives sum to every SyncOp of the program (see SyncOp) and
// returns how many there are.
func (p *Program) SetSync(sum func(buf []float64) error) int {
	for _, op := range p.syncOps {
		op.SetSync(sum)
	}
	return len(p.syncOps)
}

// SetMode sets the mode of later runs. It may be called any number of times.
func (p *Program) SetMode(m Mode) { p.mode = m }

// Mode returns the current mode.
func (p *Program) Mode() Mode { return p.mode }

// Run runs one batch. In Train mode it runs forward and backward, adding the
// gradients of the loss to the parameters' gradients (they accumulate until
// a solver or ZeroGrads clears them). In Eval mode, and for a program
// without a loss, it runs forward only.
func (p *Program) Run(feeds Feeds) error {
	if p.mode == Train && p.train != nil {
		return p.run(p.train, feeds)
	}
	return p.run(p.forward, feeds)
}

// Panics raised on the calling goroutine (by Let, by an op's SetTraining, by
// Gorgonia's bookkeeping) are recovered and returned as errors wrapping
// ErrRun. Gorgonia executes the tape on a goroutine of its own, where no
// caller can recover a panic: the Program therefore validates every feed
// before the run, and every project-owned op (package ops) recovers panics
// inside its own Do and returns them as errors.
//
// Forward runs one batch forward only, in the current mode; it never touches
// a gradient.
func (p *Program) Forward(feeds Feeds) error { return p.run(p.forward, feeds) }

func (p *Program) run(vm gorgonia.VM, feeds Feeds) (err error) {
	if err := p.CheckFeeds(feeds); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: gorgonia panicked: %v", ErrRun, r)
		}
	}()
	// Push the mode when it changed, or when another Program (or Compile)
	// on the same builder has set the shared ops' mode since.
	if p.b.modeBy != p || p.b.modeSet != p.mode {
		p.b.modeBy = nil
		for _, op := range p.modeOps {
			if err := op.SetTraining(p.mode == Train); err != nil {
				return fmt.Errorf("%w: set mode %v: %w", ErrRun, p.mode, err)
			}
		}
		p.b.modeBy, p.b.modeSet = p, p.mode
	}
	vm.Reset()
	for name, n := range p.inputs {
		if err := gorgonia.Let(n, feeds[name]); err != nil {
			return fmt.Errorf("%w: feed %q: %w", ErrRun, name, err)
		}
	}
	if err := vm.RunAll(); err != nil {
		return fmt.Errorf("%w: %w", ErrRun, err)
	}
	if vm == p.train {
		p.adoptGrads()
	}
	return nil
}

// CheckFeeds reports the first feed that is missing, unknown, or of the wrong
// shape or dtype, as a *FeedError. Run and Forward call it before anything
// reaches Gorgonia.
func (p *Program) CheckFeeds(feeds Feeds) error {
	for name := range feeds {
		if _, ok := p.inputs[name]; !ok {
			// Name the first unknown feed in sorted order, whatever the
			// map's iteration order (the error path only: sorting allocates).
			for _, name := range slices.Sorted(maps.Keys(feeds)) {
				if _, ok := p.inputs[name]; !ok {
					return &FeedError{Input: name, Err: ErrUnknownInput}
				}
			}
		}
	}
	if len(p.inputNames) != len(p.inputs) {
		p.inputNames = slices.Sorted(maps.Keys(p.inputs))
	}
	for _, name := range p.inputNames {
		n := p.inputs[name]
		v, ok := feeds[name]
		if !ok || v == nil {
			return &FeedError{Input: name, WantShape: n.Shape(), WantDtype: n.Dtype(), Err: ErrMissingInput}
		}
		if v.Dtype() != n.Dtype() {
			return &FeedError{Input: name, WantShape: n.Shape(), GotShape: v.Shape(), WantDtype: n.Dtype(), GotDtype: v.Dtype(), Err: ErrDtype}
		}
		if !sameShape(n.Shape(), v.Shape()) {
			return &FeedError{Input: name, WantShape: n.Shape(), GotShape: v.Shape(), WantDtype: n.Dtype(), GotDtype: v.Dtype(), Err: ErrShape}
		}
	}
	return nil
}

func sameShape(want, got tensor.Shape) bool {
	if want.IsScalar() {
		return got.IsScalar() || (len(got) == 1 && got[0] == 1)
	}
	return want.Eq(got)
}

// Loss returns the loss of the last run as a float64, or NaN when the
// program has no loss or has not run.
func (p *Program) Loss() float64 {
	if p.loss == nil {
		return math.NaN()
	}
	return scalar(p.loss.Value())
}

func scalar(v gorgonia.Value) float64 {
	if v == nil {
		return math.NaN()
	}
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case []float64:
		if len(x) == 1 {
			return x[0]
		}
	case []float32:
		if len(x) == 1 {
			return float64(x[0])
		}
	}
	return math.NaN()
}

// OutputShape returns the shape of output i, known when the program is
// compiled (Gorgonia's shapes are static), or nil if there is no output i.
func (p *Program) OutputShape(i int) tensor.Shape {
	if i < 0 || i >= len(p.outputs) {
		return nil
	}
	return p.outputs[i].Shape().Clone()
}

// Output returns the value of output i after the last run.
func (p *Program) Output(i int) gorgonia.Value { return p.outputs[i].Value() }

// Params returns the learnable parameters in creation order. Each node has a
// Name, a Value and (after a training run) a Grad.
func (p *Program) Params() []*gorgonia.Node { return slices.Clone(p.params) }

// Learnables returns the parameters as gorgonia.ValueGrad, in creation order,
// ready for a solver's Step.
func (p *Program) Learnables() []gorgonia.ValueGrad {
	vgs := make([]gorgonia.ValueGrad, len(p.params))
	for i, n := range p.params {
		vgs[i] = n
	}
	return vgs
}

// States returns the model's non-learnable state tensors (see State) in
// registration order. The tensors are live: writing into them changes the
// model, which is how a checkpoint restores them.
func (p *Program) States() []State { return slices.Clone(p.states) }

// Input returns the declared input of the given name, if the program reads
// it: its Shape and Dtype are what every feed of that name must have.
func (p *Program) Input(name string) (*gorgonia.Node, bool) {
	n, ok := p.inputs[name]
	return n, ok
}

// Param returns the parameter with the given name.
func (p *Program) Param(name string) (*gorgonia.Node, bool) {
	for _, n := range p.params {
		if n.Name() == name {
			return n, true
		}
	}
	return nil, false
}

// ZeroGrads sets every parameter's gradient to zero. Solvers do this after a
// step; a hand-written update must do it itself.
func (p *Program) ZeroGrads() error {
	for _, n := range p.params {
		g, err := n.Grad()
		if err != nil || g == nil {
			continue // no training run yet: nothing accumulated
		}
		t, ok := g.(tensor.Tensor)
		if !ok {
			return fmt.Errorf("%w: gradient of %q is a %T, not a tensor", ErrRun, n.Name(), g)
		}
		t.Zero()
	}
	return nil
}

// HasGradients reports whether the program computes gradients (it has a loss
// and at least one parameter).
func (p *Program) HasGradients() bool { return p.hasGrads }

// Close releases the program's machines.
func (p *Program) Close() error {
	var errs []error
	for _, vm := range []gorgonia.VM{p.train, p.forward} {
		if vm != nil {
			errs = append(errs, vm.Close())
		}
	}
	return errors.Join(errs...)
}
