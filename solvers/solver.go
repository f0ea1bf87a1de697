package solvers

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type of the fused kernels.
type Float interface{ ~float32 | ~float64 }

// Solver is what a training loop needs from an optimizer beyond
// gorgonia.Solver: a learning rate it can change between steps (schedules)
// and state it can checkpoint and restore.
type Solver interface {
	gorgonia.Solver
	// LR returns the learning rate used by the next Step.
	LR() float64
	// SetLR sets the learning rate used by the following Steps.
	SetLR(lr float64)
	// State returns a copy of all state: "<param>/<slot>" for each state
	// slot and "<param>/step" (one-element float64) for each parameter.
	State() map[string]*tensor.Dense
	// SetState replaces all state by a copy of st, as returned by State.
	SetState(st map[string]*tensor.Dense) error
}

// Options is the gradient preprocessing every solver applies before its update
// rule, in this order: regularize (L1, then WeightDecay), scale by 1/BatchSize,
// clip by value, clip by global norm. The zero value does nothing.
type Options struct {
	// WeightDecay λ adds coupled L2 regularization: g += λ·w (PyTorch's
	// weight_decay for every optimizer but AdamW; Gorgonia's WithL2Reg for
	// Vanilla and Adam). For decoupled decay see Adam.DecoupledDecay and
	// Lion.DecoupledDecay.
	WeightDecay float64
	// L1 adds L1 regularization: g += L1·sign(w), with sign(0) = 0.
	L1 float64
	// BatchSize > 1 scales the gradient by 1/BatchSize (Gorgonia's WithBatchSize);
	// 0 and 1 leave it unscaled.
	BatchSize float64
	// ClipValue > 0 clamps each gradient element to [−ClipValue, ClipValue].
	ClipValue float64
	// ClipNorm > 0 rescales the gradients of all parameters of a Step by
	// ClipNorm/‖g‖ when their global L2 norm ‖g‖ (after the steps above)
	// exceeds ClipNorm. Unlike torch.nn.utils.clip_grad_norm_ no 1e-6 is
	// added to the norm. The norm is summed in float64 over fixed chunks in a
	// fixed order, so it does not depend on the number of goroutines.
	ClipNorm float64
}

func (o *Options) check(solver string) error {
	if err := nonNegative(solver, "WeightDecay", o.WeightDecay); err != nil {
		return err
	}
	if err := nonNegative(solver, "L1", o.L1); err != nil {
		return err
	}
	if err := nonNegative(solver, "BatchSize", o.BatchSize); err != nil {
		return err
	}
	if err := nonNegative(solver, "ClipValue", o.ClipValue); err != nil {
		return err
	}
	return nonNegative(solver, "ClipNorm", o.ClipNorm)
}

func configErr(solver, field string, v float64, want string) error {
	return fmt.Errorf("%w: %s: %s = %v, want %s", ErrConfig, solver, field, v, want)
}

func nonNegative(solver, field string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return configErr(solver, field, v, "finite and >= 0")
	}
	return nil
}

func positive(solver, field string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return configErr(solver, field, v, "finite and > 0")
	}
	return nil
}

// unit checks v in [0, 1).
func unit(solver, field string, v float64) error {
	if !(v >= 0 && v < 1) {
		return configErr(solver, field, v, "in [0, 1)")
	}
	return nil
}

// Var is a named parameter value with its gradient: a gorgonia.ValueGrad and
// gorgonia.Namer for code that keeps tensors outside a Gorgonia graph.
type Var struct {
	name        string
	value, grad *tensor.Dense
}

// NewVar returns a Var named name with the given value and gradient.
func NewVar(name string, value, grad *tensor.Dense) *Var {
	return &Var{name: name, value: value, grad: grad}
}

// Name returns the parameter's name.
func (v *Var) Name() string { return v.name }

// Value returns the parameter's value.
func (v *Var) Value() gorgonia.Value { return v.value }

// Grad returns the parameter's gradient.
func (v *Var) Grad() (gorgonia.Value, error) { return v.grad, nil }

var (
	_ gorgonia.ValueGrad = (*Var)(nil)
	_ gorgonia.Namer     = (*Var)(nil)
)
