package graph

import (
	"fmt"
	"hash/fnv"
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Builder builds a graph: named inputs, named learnable parameters, and the
// ops that combine them. A Builder is not safe for concurrent use.
//
// Construction errors are returned by every method and also kept: the first
// one is returned again by Err and by Compile, so a chain of calls that
// ignores intermediate errors still cannot compile a broken graph.
type Builder struct {
	g      *gorgonia.ExprGraph
	seed   uint64
	inputs []*gorgonia.Node
	params []*gorgonia.Node
	names  map[string]string // node name -> "input" or "parameter"
	states []State
	counts map[string]int // per-kind counters for Stream
	shared *Program       // parameters and states reused by name (see Share)
	err    error
	// The mode-aware ops of g are shared by every Program and machine on it.
	// modeBy is the Program that last pushed its mode (modeSet) to them;
	// Compile clears it, because a new tape machine sets every op's mode.
	modeBy  *Program
	modeSet Mode
}

// State is a named tensor that belongs to the model but is not learned by
// gradient descent: batch normalization's running statistics, for example.
// Ops register it with Builder.AddState; checkpoints save and restore it
// through Program.States. The op that owns it updates Value in place.
type State struct {
	Name  string
	Value *tensor.Dense
}

// NewBuilder returns a Builder over a new graph. The seed determines every
// parameter's initial value and every random stream drawn through SeedFor.
func NewBuilder(seed uint64) *Builder {
	return &Builder{g: gorgonia.NewGraph(), seed: seed, names: map[string]string{}, counts: map[string]int{}}
}

// Graph returns the underlying graph, for use with plain Gorgonia functions.
func (b *Builder) Graph() *gorgonia.ExprGraph { return b.g }

// SeedFor derives a seed for the named consumer (a parameter, a dropout
// node, …) from the builder's seed. It depends only on the builder's seed and
// the name, not on the order in which things are created.
func (b *Builder) SeedFor(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return splitmix64(b.seed ^ splitmix64(h.Sum64()))
}

// Stream returns a fresh seed for the next consumer of the given kind (for
// example "dropout") and its index k: the k-th call for a kind returns
// SeedFor(kind#k), so every consumer draws its own stream and the same
// construction sequence gives the same seeds.
func (b *Builder) Stream(kind string) (seed uint64, k int) {
	k = b.counts[kind]
	b.counts[kind]++
	return b.SeedFor(fmt.Sprintf("%s#%d", kind, k)), k
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Err returns the first construction error, or nil.
func (b *Builder) Err() error { return b.err }

// Fail records err as a construction error if it is the first one and returns
// it. Ops built outside this package use it so that Compile reports their
// failures too.
func (b *Builder) Fail(err error) error {
	if err != nil && b.err == nil {
		b.err = err
	}
	return err
}

// AddState registers a named non-learnable state tensor (see State) with
// initial value v and returns the tensor the caller must use: v itself, or
// the state of the same name of the program given to Share. The name shares
// the namespace of inputs and parameters.
func (b *Builder) AddState(name string, v *tensor.Dense) (*tensor.Dense, error) {
	if err := b.claim("state", name); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, b.Fail(fmt.Errorf("%w: state %q is nil", ErrInit, name))
	}
	if b.shared != nil {
		for _, st := range b.shared.states {
			if st.Name == name {
				if err := sameKind("state", name, st.Value, v.Dtype(), v.Shape()); err != nil {
					return nil, b.Fail(err)
				}
				v = st.Value
			}
		}
	}
	b.names[name] = "state"
	b.states = append(b.states, State{Name: name, Value: v})
	return v, nil
}

// Share makes the builder reuse the parameter and state tensors of p,
// matched by name, instead of making new ones: the two programs then read
// and update the same weights and statistics. A model compiles one program
// per batch size this way (Gorgonia fixes the batch size of a program), for
// example one for the last, partial batch of an epoch. A shared name whose
// dtype or shape differs is an error when the parameter or state is made.
func (b *Builder) Share(p *Program) { b.shared = p }

func sameKind(kind, name string, have tensor.Tensor, dt tensor.Dtype, shape tensor.Shape) error {
	if have.Dtype() != dt || !have.Shape().Eq(shape) {
		return fmt.Errorf("%w: shared %s %q is %v %v, want %v %v", ErrShape, kind, name, have.Dtype(), have.Shape(), dt, shape)
	}
	return nil
}

// Inputs returns the declared inputs in declaration order.
func (b *Builder) Inputs() []*gorgonia.Node { return slices.Clone(b.inputs) }

// Params returns the learnable parameters in creation order.
func (b *Builder) Params() []*gorgonia.Node { return slices.Clone(b.params) }

// States returns the registered state tensors in registration order.
func (b *Builder) States() []State { return slices.Clone(b.states) }

func (b *Builder) claim(kind, name string) error {
	if name == "" {
		return b.Fail(fmt.Errorf("%w: %s name is empty", ErrName, kind))
	}
	if prev, ok := b.names[name]; ok {
		return b.Fail(fmt.Errorf("%w: %s %q: the name is already used by a %s", ErrName, kind, name, prev))
	}
	return nil
}

func checkShape(kind, name string, shape []int) error {
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("%w: %s %q: shape %v has a dimension ≤ 0", ErrShape, kind, name, shape)
		}
	}
	return nil
}

// Input declares a named input of the given dtype (Float32, Float64, or Int
// for class labels) and shape. Every run must feed a tensor of exactly this
// dtype and shape; a shape of no dimensions declares a scalar.
func (b *Builder) Input(name string, dt tensor.Dtype, shape ...int) (*gorgonia.Node, error) {
	if err := b.claim("input", name); err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float32, tensor.Float64, tensor.Int:
	default:
		return nil, b.Fail(fmt.Errorf("%w: input %q: dtype %v is not one of float32, float64, int", ErrDtype, name, dt))
	}
	if err := checkShape("input", name, shape); err != nil {
		return nil, b.Fail(err)
	}
	var n *gorgonia.Node
	if len(shape) == 0 {
		n = gorgonia.NewScalar(b.g, dt, gorgonia.WithName(name))
	} else {
		n = gorgonia.NewTensor(b.g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name))
	}
	b.names[name] = "input"
	b.inputs = append(b.inputs, n)
	return n, nil
}

// Param declares a named learnable parameter of the given float dtype and
// shape, whose initial value init makes from SeedFor(name).
func (b *Builder) Param(name string, dt tensor.Dtype, init Initializer, shape ...int) (*gorgonia.Node, error) {
	if err := b.claim("parameter", name); err != nil {
		return nil, err
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, b.Fail(fmt.Errorf("%w: parameter %q: dtype %v is not float32 or float64", ErrDtype, name, dt))
	}
	if len(shape) == 0 {
		return nil, b.Fail(fmt.Errorf("%w: parameter %q: no shape given", ErrShape, name))
	}
	if err := checkShape("parameter", name, shape); err != nil {
		return nil, b.Fail(err)
	}
	if init == nil {
		return nil, b.Fail(fmt.Errorf("%w: parameter %q: nil initializer", ErrInit, name))
	}
	if b.shared != nil {
		if n, ok := b.shared.Param(name); ok {
			v, ok := n.Value().(*tensor.Dense)
			if !ok {
				return nil, b.Fail(fmt.Errorf("%w: shared parameter %q holds a %T", ErrInit, name, n.Value()))
			}
			if err := sameKind("parameter", name, v, dt, shape); err != nil {
				return nil, b.Fail(err)
			}
			return b.addParam(name, dt, shape, v), nil
		}
	}
	v, err := init.Initialize(b.SeedFor(name), dt, shape...)
	if err != nil {
		return nil, b.Fail(fmt.Errorf("%w: parameter %q: %w", ErrInit, name, err))
	}
	if v == nil || v.Dtype() != dt || !v.Shape().Eq(tensor.Shape(shape)) {
		return nil, b.Fail(fmt.Errorf("%w: parameter %q: initializer returned %s, want %v %v", ErrInit, name, describe(v), dt, tensor.Shape(shape)))
	}
	return b.addParam(name, dt, shape, v), nil
}

func (b *Builder) addParam(name string, dt tensor.Dtype, shape []int, v tensor.Tensor) *gorgonia.Node {
	n := gorgonia.NewTensor(b.g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
	b.names[name] = "parameter"
	b.params = append(b.params, n)
	return n
}

func describe(v tensor.Tensor) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%v %v", v.Dtype(), v.Shape())
}
