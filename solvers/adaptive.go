package solvers

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AdaGrad implements AdaGrad (Duchi et al., 2011) as torch.optim.Adagrad:
//
//	s += g²;  w −= lr_t·g/(√s + Eps),  lr_t = LearningRate/(1 + (t−1)·LRDecay)
//
// with g preprocessed by Options and s zero-initialised. Eps is added outside
// the square root as in PyTorch; EpsInsideSqrt puts it inside, √(s + Eps), as
// Gorgonia's AdaGradSolver does. (Gorgonia's AdaGradSolver ignores every
// option: it always runs with learning rate 0.001 and ε 1e-8.)
//
// Defaults (NewAdaGrad, PyTorch's): LearningRate 0.01, Eps 1e-10, LRDecay 0.
// State slot: "sum".
type AdaGrad struct {
	LearningRate  float64
	Eps           float64 // > 0
	EpsInsideSqrt bool
	LRDecay       float64 // ≥ 0
	Options
	base
}

// NewAdaGrad returns AdaGrad with PyTorch's defaults.
func NewAdaGrad() *AdaGrad { return &AdaGrad{LearningRate: 0.01, Eps: 1e-10} }

var (
	_ gorgonia.Solver = (*AdaGrad)(nil)
	_ Solver          = (*AdaGrad)(nil)
)

func adagradJob[T Float](j *job[T], lo, hi int) {
	adagradKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], &j.h)
}

func init() { register("adagrad", func() registered { return NewAdaGrad() }) }

func (s *AdaGrad) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Eps", c.cfg.Eps, &s.Eps)
	c.set("LRDecay", c.cfg.LRDecay, &s.LRDecay)
	c.flag("EpsInsideSqrt", c.cfg.EpsInsideSqrt, &s.EpsInsideSqrt)
	s.Options = c.cfg.Options
}

var adagradMeta = meta{name: "adagrad", kernel: kernels{adagradJob[float32], adagradJob[float64]}, slots: []string{"sum"}, scalars: []string{"step"}, init: []float64{0}}

func (s *AdaGrad) meta() *meta       { return &adagradMeta }
func (s *AdaGrad) options() *Options { return &s.Options }
func (s *AdaGrad) slotUsed(int) bool { return true }
func (s *AdaGrad) validate() error {
	if err := nonNegative("adagrad", "LR", s.LearningRate); err != nil {
		return err
	}
	if err := positive("adagrad", "Eps", s.Eps); err != nil {
		return err
	}
	return nonNegative("adagrad", "LRDecay", s.LRDecay)
}
func (s *AdaGrad) hyper(sc []float64, h *hyper[float64]) {
	h.lr = s.LearningRate / (1 + (sc[0]-1)*s.LRDecay)
	h.eps, h.epsIn = epsPlace(s.Eps, s.EpsInsideSqrt)
}

func epsPlace(eps float64, inside bool) (out, in float64) {
	if inside {
		return 0, eps
	}
	return eps, 0
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *AdaGrad) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *AdaGrad) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *AdaGrad) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/sum", "<param>/step".
func (s *AdaGrad) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *AdaGrad) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }

// RMSProp implements RMSProp (Hinton, 2012) as torch.optim.RMSprop:
//
//	sq = ρ·sq + (1−ρ)·g²
//	centered:   a = ρ·a + (1−ρ)·g;  d = √(sq − a²) + Eps,   else d = √sq + Eps
//	momentum μ: b = μ·b + g/d;  w −= LearningRate·b,        else w −= LearningRate·g/d
//
// with g preprocessed by Options (PyTorch's weight_decay is WeightDecay). ρ is
// PyTorch's alpha. Eps is outside the square root as in PyTorch; EpsInsideSqrt
// puts it inside, √(sq + Eps), as Gorgonia's RMSPropSolver (whose default ρ is
// 0.999, and which clips the gradient after updating sq and applies L2 to the
// update rather than to the gradient).
//
// Defaults (NewRMSProp, PyTorch's): LearningRate 0.01, Rho 0.99, Eps 1e-8,
// Momentum 0, Centered false. State slots: "square_avg", "momentum_buffer"
// (when Momentum > 0), "grad_avg" (when Centered).
type RMSProp struct {
	LearningRate  float64
	Rho           float64 // ρ in [0, 1): PyTorch's alpha
	Eps           float64 // > 0
	EpsInsideSqrt bool
	Momentum      float64 // μ in [0, 1); 0 disables the momentum buffer
	Centered      bool
	Options
	base
}

// NewRMSProp returns RMSProp with PyTorch's defaults.
func NewRMSProp() *RMSProp { return &RMSProp{LearningRate: 0.01, Rho: 0.99, Eps: 1e-8} }

var (
	_ gorgonia.Solver = (*RMSProp)(nil)
	_ Solver          = (*RMSProp)(nil)
)

func rmspropJob[T Float](j *job[T], lo, hi int) {
	rmspropKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], sub(j.s1, lo, hi), sub(j.s2, lo, hi), &j.h)
}

func init() { register("rmsprop", func() registered { return NewRMSProp() }) }

func (s *RMSProp) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Rho", c.cfg.Rho, &s.Rho)
	c.set("Eps", c.cfg.Eps, &s.Eps)
	c.set("Momentum", c.cfg.Momentum, &s.Momentum)
	c.flag("EpsInsideSqrt", c.cfg.EpsInsideSqrt, &s.EpsInsideSqrt)
	c.flag("Centered", c.cfg.Centered, &s.Centered)
	s.Options = c.cfg.Options
}

var rmspropMeta = meta{name: "rmsprop", kernel: kernels{rmspropJob[float32], rmspropJob[float64]}, slots: []string{"square_avg", "momentum_buffer", "grad_avg"}, scalars: []string{"step"}, init: []float64{0}}

func (s *RMSProp) meta() *meta       { return &rmspropMeta }
func (s *RMSProp) options() *Options { return &s.Options }
func (s *RMSProp) slotUsed(i int) bool {
	switch i {
	case 1:
		return s.Momentum > 0
	case 2:
		return s.Centered
	}
	return true
}
func (s *RMSProp) validate() error {
	if err := nonNegative("rmsprop", "LR", s.LearningRate); err != nil {
		return err
	}
	if err := unit("rmsprop", "Rho", s.Rho); err != nil {
		return err
	}
	if err := positive("rmsprop", "Eps", s.Eps); err != nil {
		return err
	}
	return unit("rmsprop", "Momentum", s.Momentum)
}
func (s *RMSProp) hyper(_ []float64, h *hyper[float64]) {
	h.lr, h.b2, h.omb2, h.mom = s.LearningRate, s.Rho, 1-s.Rho, s.Momentum
	h.eps, h.epsIn = epsPlace(s.Eps, s.EpsInsideSqrt)
	h.useMom, h.centered = s.Momentum > 0, s.Centered
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *RMSProp) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *RMSProp) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *RMSProp) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/square_avg", "<param>/momentum_buffer",
// "<param>/grad_avg" (those in use) and "<param>/step".
func (s *RMSProp) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *RMSProp) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }

// Adadelta implements Adadelta (Zeiler, 2012) as torch.optim.Adadelta:
//
//	sq = ρ·sq + (1−ρ)·g²;  δ = √(acc + Eps)/√(sq + Eps)·g;  acc = ρ·acc + (1−ρ)·δ²;  w −= LearningRate·δ
//
// with g preprocessed by Options. Eps is inside both square roots, as in the
// paper and PyTorch. The paper has no learning rate (LearningRate 1); PyTorch
// adds one. Gorgonia has no Adadelta.
//
// Defaults (NewAdadelta, PyTorch's): LearningRate 1, Rho 0.9, Eps 1e-6.
// State slots: "square_avg", "acc_delta".
type Adadelta struct {
	LearningRate float64
	Rho          float64 // ρ in [0, 1)
	Eps          float64 // > 0
	Options
	base
}

// NewAdadelta returns Adadelta with PyTorch's defaults.
func NewAdadelta() *Adadelta { return &Adadelta{LearningRate: 1, Rho: 0.9, Eps: 1e-6} }

var (
	_ gorgonia.Solver = (*Adadelta)(nil)
	_ Solver          = (*Adadelta)(nil)
)

func adadeltaJob[T Float](j *job[T], lo, hi int) {
	adadeltaKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], j.s1[lo:hi], &j.h)
}

func init() { register("adadelta", func() registered { return NewAdadelta() }) }

func (s *Adadelta) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Rho", c.cfg.Rho, &s.Rho)
	c.set("Eps", c.cfg.Eps, &s.Eps)
	s.Options = c.cfg.Options
}

var adadeltaMeta = meta{name: "adadelta", kernel: kernels{adadeltaJob[float32], adadeltaJob[float64]}, slots: []string{"square_avg", "acc_delta"}, scalars: []string{"step"}, init: []float64{0}}

func (s *Adadelta) meta() *meta       { return &adadeltaMeta }
func (s *Adadelta) options() *Options { return &s.Options }
func (s *Adadelta) slotUsed(int) bool { return true }
func (s *Adadelta) validate() error {
	if err := nonNegative("adadelta", "LR", s.LearningRate); err != nil {
		return err
	}
	if err := unit("adadelta", "Rho", s.Rho); err != nil {
		return err
	}
	return positive("adadelta", "Eps", s.Eps)
}
func (s *Adadelta) hyper(_ []float64, h *hyper[float64]) {
	h.lr, h.b2, h.omb2, h.eps = s.LearningRate, s.Rho, 1-s.Rho, s.Eps
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *Adadelta) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *Adadelta) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *Adadelta) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/square_avg", "<param>/acc_delta", "<param>/step".
func (s *Adadelta) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *Adadelta) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }
