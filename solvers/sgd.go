package solvers

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SGD is plain stochastic gradient descent: w −= LearningRate·g, with g
// preprocessed by Options (regularize → scale 1/batch → clip). It matches
// Gorgonia's VanillaSolver (with L1, L2, batch size and clip) and torch.optim.SGD
// without momentum. NewSGD's default learning rate is 0.01 (PyTorch has none,
// Gorgonia uses 0.001). SGD keeps no state beyond a step count.
type SGD struct {
	LearningRate float64
	Options
	base
}

// NewSGD returns SGD with LearningRate 0.01.
func NewSGD() *SGD { return &SGD{LearningRate: 0.01} }

var (
	_ gorgonia.Solver = (*SGD)(nil)
	_ Solver          = (*SGD)(nil)
)

var sgdMeta = meta{name: "sgd", kernel: kernels{sgdJob[float32], sgdJob[float64]}, scalars: []string{"step"}, init: []float64{0}}

func sgdJob[T Float](j *job[T], lo, hi int) { sgdKernel(j.w[lo:hi], j.g[lo:hi], &j.h) }

func init() { register("sgd", func() registered { return NewSGD() }) }

func (s *SGD) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	s.Options = c.cfg.Options
}

func (s *SGD) meta() *meta                          { return &sgdMeta }
func (s *SGD) options() *Options                    { return &s.Options }
func (s *SGD) slotUsed(int) bool                    { return false }
func (s *SGD) validate() error                      { return nonNegative("sgd", "LR", s.LearningRate) }
func (s *SGD) hyper(_ []float64, h *hyper[float64]) { h.lr = s.LearningRate }

// Step applies one update to every parameter and zeroes its gradient.
func (s *SGD) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *SGD) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *SGD) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/step".
func (s *SGD) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *SGD) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }

// Momentum is SGD with heavy-ball momentum in PyTorch's form:
//
//	b = Momentum·b + g;  w −= LearningRate·b            (Nesterov: w −= LearningRate·(g + Momentum·b))
//
// with b zero-initialised, so the first step is b = g as in torch.optim.SGD
// (dampening 0). Gorgonia's Momentum and the lecture write the equivalent
// v = μ·v − η·g; w += v (v = −η·b): identical while the learning rate is
// constant, but with PyTorch's form a learning-rate change takes effect at
// once instead of through the velocity. g is preprocessed by Options
// (regularize → scale → clip) before it enters b. Gorgonia's Momentum instead
// applies L1/L2 to the velocity (sign(v), λ·v), which is not weight decay;
// ours regularizes the weights as PyTorch does. A velocity whose magnitude
// falls below the dtype's smallest normal number is flushed to 0 (as in
// Adam), keeping the kernel off slow subnormal arithmetic.
//
// Defaults (NewMomentum): LearningRate 0.01, Momentum 0.9. State slot: "momentum".
type Momentum struct {
	LearningRate float64
	Momentum     float64 // μ in [0, 1)
	Nesterov     bool    // Nesterov's accelerated gradient, as torch.optim.SGD(nesterov=True)
	Options
	base
}

// NewMomentum returns Momentum with LearningRate 0.01 and Momentum 0.9.
func NewMomentum() *Momentum { return &Momentum{LearningRate: 0.01, Momentum: 0.9} }

// NewNesterov returns a Momentum configured for Nesterov momentum:
// LearningRate 0.01, Momentum 0.9, Nesterov true.
func NewNesterov() *Momentum {
	m := NewMomentum()
	m.Nesterov = true
	return m
}

var (
	_ gorgonia.Solver = (*Momentum)(nil)
	_ Solver          = (*Momentum)(nil)
)

var momentumMeta = meta{name: "momentum", kernel: kernels{momentumJob[float32], momentumJob[float64]}, slots: []string{"momentum"}, scalars: []string{"step"}, init: []float64{0}}
var nesterovMeta = meta{name: "nesterov", kernel: momentumMeta.kernel, slots: []string{"momentum"}, scalars: []string{"step"}, init: []float64{0}}

func momentumJob[T Float](j *job[T], lo, hi int) {
	momentumKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], &j.h)
}

func init() {
	register("momentum", func() registered { return NewMomentum() })
	register("nesterov", func() registered { return NewNesterov() })
}

func (s *Momentum) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Momentum", c.cfg.Momentum, &s.Momentum)
	s.Options = c.cfg.Options
}

func (s *Momentum) meta() *meta {
	if s.Nesterov {
		return &nesterovMeta
	}
	return &momentumMeta
}
func (s *Momentum) options() *Options { return &s.Options }
func (s *Momentum) slotUsed(int) bool { return true }
func (s *Momentum) validate() error {
	n := s.meta().name
	if err := nonNegative(n, "LR", s.LearningRate); err != nil {
		return err
	}
	if err := unit(n, "Momentum", s.Momentum); err != nil {
		return err
	}
	if s.Nesterov && s.Momentum == 0 {
		return configErr(n, "Momentum", 0, "> 0 with Nesterov")
	}
	return nil
}
func (s *Momentum) hyper(_ []float64, h *hyper[float64]) {
	h.lr, h.mom, h.nesterov = s.LearningRate, s.Momentum, s.Nesterov
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *Momentum) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *Momentum) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *Momentum) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/momentum", "<param>/step".
func (s *Momentum) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *Momentum) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }
