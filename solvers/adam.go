package solvers

import (
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adam implements Adam (Kingma & Ba, 2015) as torch.optim.Adam, and its
// AMSGrad (Reddi et al., 2018) and AdamW (Loshchilov & Hutter, 2019) variants:
//
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	AMSGrad: vmax = max(vmax, v), and vmax replaces v below
//	w = (1 − LearningRate·DecoupledDecay)·w − LearningRate/(1−β1^t) · m/(√v/√(1−β2^t) + Eps)
//
// with g preprocessed by Options (coupled L2 WeightDecay, as PyTorch's Adam
// weight_decay and Gorgonia's WithL2Reg) and t the parameter's step count.
// Eps is outside the square root, as in the paper, PyTorch and Gorgonia's
// AdamSolver. The bias corrections are computed once per parameter and step,
// not per element.
//
// DecoupledDecay λ > 0 makes it AdamW: w is multiplied by 1 − lr·λ before the
// Adam update, as torch.optim.AdamW does (its weight_decay is λ). Gorgonia's
// AdamW is no reference: its weights never change.
//
// Unlike PyTorch, m and v are flushed to 0 when their magnitude falls below
// the dtype's smallest normal number (a unit whose gradient stays 0 would
// otherwise drive them into slow subnormal arithmetic; see smallestNormal).
//
// Defaults (NewAdam, PyTorch's): LearningRate 0.001, Beta1 0.9, Beta2 0.999,
// Eps 1e-8. NewAMSGrad sets AMSGrad; NewAdamW sets DecoupledDecay 0.01.
// State slots: "m", "v", "vmax" (AMSGrad only).
type Adam struct {
	LearningRate   float64
	Beta1, Beta2   float64 // in [0, 1)
	Eps            float64 // > 0
	AMSGrad        bool
	DecoupledDecay float64 // λ ≥ 0: AdamW's weight decay
	Options
	base
}

// NewAdam returns Adam with PyTorch's defaults.
func NewAdam() *Adam { return &Adam{LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// NewAMSGrad returns Adam with AMSGrad set and PyTorch's defaults.
func NewAMSGrad() *Adam {
	a := NewAdam()
	a.AMSGrad = true
	return a
}

// NewAdamW returns Adam with decoupled weight decay 0.01 (torch.optim.AdamW's defaults).
func NewAdamW() *Adam {
	a := NewAdam()
	a.DecoupledDecay = 0.01
	return a
}

var (
	_ gorgonia.Solver = (*Adam)(nil)
	_ Solver          = (*Adam)(nil)
)

var (
	adamMeta    = meta{name: "adam", kernel: kernels{adamJob[float32], adamJob[float64]}, slots: []string{"m", "v", "vmax"}, scalars: []string{"step"}, init: []float64{0}}
	amsgradMeta = meta{name: "amsgrad", kernel: adamMeta.kernel, slots: adamMeta.slots, scalars: adamMeta.scalars, init: adamMeta.init}
	adamwMeta   = meta{name: "adamw", kernel: adamMeta.kernel, slots: adamMeta.slots, scalars: adamMeta.scalars, init: adamMeta.init, decoupled: true}
)

func adamJob[T Float](j *job[T], lo, hi int) {
	if j.h.ams {
		amsgradKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], j.s1[lo:hi], j.s2[lo:hi], &j.h)
	} else {
		adamKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], j.s1[lo:hi], &j.h)
	}
}

func init() {
	register("adam", func() registered { return NewAdam() })
	register("amsgrad", func() registered { return NewAMSGrad() })
	register("adamw", func() registered { return NewAdamW() })
}

func (s *Adam) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Beta1", c.cfg.Beta1, &s.Beta1)
	c.set("Beta2", c.cfg.Beta2, &s.Beta2)
	c.set("Eps", c.cfg.Eps, &s.Eps)
	c.set("DecoupledDecay", c.cfg.DecoupledDecay, &s.DecoupledDecay)
	s.Options = c.cfg.Options
}

// meta names the variant in errors; the state layout is the same for all three.
func (s *Adam) meta() *meta {
	switch s.name() {
	case "amsgrad":
		return &amsgradMeta
	case "adamw":
		return &adamwMeta
	}
	return &adamMeta
}
func (s *Adam) options() *Options { return &s.Options }
func (s *Adam) slotUsed(i int) bool {
	return i < 2 || s.AMSGrad
}
func (s *Adam) name() string {
	switch {
	case s.AMSGrad:
		return "amsgrad"
	case s.DecoupledDecay != 0:
		return "adamw"
	}
	return "adam"
}
func (s *Adam) validate() error {
	return validateAdamLike(s.name(), s.LearningRate, s.Beta1, s.Beta2, s.Eps, s.DecoupledDecay)
}

func validateAdamLike(n string, lr, b1, b2, eps, decay float64) error {
	if err := nonNegative(n, "LR", lr); err != nil {
		return err
	}
	if err := unit(n, "Beta1", b1); err != nil {
		return err
	}
	if err := unit(n, "Beta2", b2); err != nil {
		return err
	}
	if err := positive(n, "Eps", eps); err != nil {
		return err
	}
	return nonNegative(n, "DecoupledDecay", decay)
}

func (s *Adam) hyper(sc []float64, h *hyper[float64]) {
	t := sc[0]
	h.lr = s.LearningRate / (1 - math.Pow(s.Beta1, t))
	h.s2 = 1 / math.Sqrt(1-math.Pow(s.Beta2, t))
	h.b1, h.b2, h.omb1, h.omb2, h.eps = s.Beta1, s.Beta2, 1-s.Beta1, 1-s.Beta2, s.Eps
	h.decay = 1 - s.LearningRate*s.DecoupledDecay
	h.ams = s.AMSGrad
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *Adam) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *Adam) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *Adam) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/m", "<param>/v", "<param>/vmax"
// (AMSGrad) and "<param>/step".
func (s *Adam) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *Adam) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }

// Adamax implements AdaMax, Adam with the infinity norm (Kingma & Ba, 2015,
// section 7), as torch.optim.Adamax:
//
//	m = β1·m + (1−β1)·g;  u = max(β2·u, |g| + Eps);  w −= LearningRate/(1−β1^t) · m/u
//
// with g preprocessed by Options. Eps is added to |g| inside the max, as in
// PyTorch (the paper has no ε). Gorgonia has no Adamax.
//
// Defaults (NewAdamax, PyTorch's): LearningRate 0.002, Beta1 0.9, Beta2 0.999,
// Eps 1e-8. State slots: "m", "u".
type Adamax struct {
	LearningRate float64
	Beta1, Beta2 float64 // in [0, 1)
	Eps          float64 // > 0
	Options
	base
}

// NewAdamax returns Adamax with PyTorch's defaults.
func NewAdamax() *Adamax { return &Adamax{LearningRate: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

var (
	_ gorgonia.Solver = (*Adamax)(nil)
	_ Solver          = (*Adamax)(nil)
)

func adamaxJob[T Float](j *job[T], lo, hi int) {
	adamaxKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], j.s1[lo:hi], &j.h)
}

func init() { register("adamax", func() registered { return NewAdamax() }) }

func (s *Adamax) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Beta1", c.cfg.Beta1, &s.Beta1)
	c.set("Beta2", c.cfg.Beta2, &s.Beta2)
	c.set("Eps", c.cfg.Eps, &s.Eps)
	s.Options = c.cfg.Options
}

var adamaxMeta = meta{name: "adamax", kernel: kernels{adamaxJob[float32], adamaxJob[float64]}, slots: []string{"m", "u"}, scalars: []string{"step"}, init: []float64{0}}

func (s *Adamax) meta() *meta       { return &adamaxMeta }
func (s *Adamax) options() *Options { return &s.Options }
func (s *Adamax) slotUsed(int) bool { return true }
func (s *Adamax) validate() error {
	return validateAdamLike("adamax", s.LearningRate, s.Beta1, s.Beta2, s.Eps, 0)
}
func (s *Adamax) hyper(sc []float64, h *hyper[float64]) {
	h.lr = s.LearningRate / (1 - math.Pow(s.Beta1, sc[0]))
	h.b1, h.b2, h.omb1, h.eps = s.Beta1, s.Beta2, 1-s.Beta1, s.Eps
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *Adamax) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *Adamax) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *Adamax) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/m", "<param>/u", "<param>/step".
func (s *Adamax) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *Adamax) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }

// NAdam implements Adam with Nesterov momentum (Dozat, 2016) as torch.optim.NAdam
// (PyTorch ≥ 2.0; see below):
//
//	μ_t = β1·(1 − 0.5·0.96^(t·ψ));  P_t = Π_{i≤t} μ_i        (ψ = MomentumDecay)
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  d = √(v/(1−β2^t)) + Eps
//	w −= LearningRate·(1−μ_t)/(1−P_t) · g/d + LearningRate·μ_{t+1}/(1−P_t·μ_{t+1}) · m/d
//
// with g preprocessed by Options. Eps is outside the square root. PyTorch 1.13
// computes the second product as P_t·μ_t·μ_{t+1}, counting μ_t twice; that was
// fixed in PyTorch 2.0 and we follow the fixed form (the golden test's
// reference is written out in testdata/gen_golden.py). Gorgonia has no NAdam.
//
// Defaults (NewNAdam, PyTorch's): LearningRate 0.002, Beta1 0.9, Beta2 0.999,
// Eps 1e-8, MomentumDecay 0.004. State slots: "m", "v"; scalars "step", "mu_product".
type NAdam struct {
	LearningRate  float64
	Beta1, Beta2  float64 // in [0, 1)
	Eps           float64 // > 0
	MomentumDecay float64 // ψ ≥ 0
	Options
	base
}

// NewNAdam returns NAdam with PyTorch's defaults.
func NewNAdam() *NAdam {
	return &NAdam{LearningRate: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MomentumDecay: 4e-3}
}

var (
	_ gorgonia.Solver = (*NAdam)(nil)
	_ Solver          = (*NAdam)(nil)
)

func nadamJob[T Float](j *job[T], lo, hi int) {
	nadamKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], j.s1[lo:hi], &j.h)
}

func init() { register("nadam", func() registered { return NewNAdam() }) }

func (s *NAdam) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Beta1", c.cfg.Beta1, &s.Beta1)
	c.set("Beta2", c.cfg.Beta2, &s.Beta2)
	c.set("Eps", c.cfg.Eps, &s.Eps)
	c.set("MomentumDecay", c.cfg.MomentumDecay, &s.MomentumDecay)
	s.Options = c.cfg.Options
}

var nadamMeta = meta{name: "nadam", kernel: kernels{nadamJob[float32], nadamJob[float64]}, slots: []string{"m", "v"}, scalars: []string{"step", "mu_product"}, init: []float64{0, 1}}

func (s *NAdam) meta() *meta       { return &nadamMeta }
func (s *NAdam) options() *Options { return &s.Options }
func (s *NAdam) slotUsed(int) bool { return true }
func (s *NAdam) validate() error {
	if err := validateAdamLike("nadam", s.LearningRate, s.Beta1, s.Beta2, s.Eps, 0); err != nil {
		return err
	}
	return nonNegative("nadam", "MomentumDecay", s.MomentumDecay)
}
func (s *NAdam) hyper(sc []float64, h *hyper[float64]) {
	t := sc[0]
	mu := s.Beta1 * (1 - 0.5*math.Pow(0.96, t*s.MomentumDecay))
	muNext := s.Beta1 * (1 - 0.5*math.Pow(0.96, (t+1)*s.MomentumDecay))
	sc[1] *= mu
	h.lr = s.LearningRate * (1 - mu) / (1 - sc[1])
	h.lr2 = s.LearningRate * muNext / (1 - sc[1]*muNext)
	h.s2 = 1 / math.Sqrt(1-math.Pow(s.Beta2, t))
	h.b1, h.b2, h.omb1, h.omb2, h.eps = s.Beta1, s.Beta2, 1-s.Beta1, 1-s.Beta2, s.Eps
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *NAdam) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *NAdam) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *NAdam) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/m", "<param>/v", "<param>/step", "<param>/mu_product".
func (s *NAdam) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *NAdam) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }

// Lion implements Lion, evolved sign momentum (Chen et al., 2023, "Symbolic
// Discovery of Optimization Algorithms", Algorithm 2):
//
//	c = β1·m + (1−β1)·g;  w = (1 − LearningRate·DecoupledDecay)·w − LearningRate·sign(c);  m = β2·m + (1−β2)·g
//
// with g preprocessed by Options and sign(0) = 0. PyTorch 1.13 and Gorgonia
// have no Lion; the golden test's reference is written from the paper in
// testdata/gen_golden.py.
//
// Defaults (NewLion, the paper's): LearningRate 1e-4, Beta1 0.9, Beta2 0.99,
// DecoupledDecay 0. State slot: "m".
type Lion struct {
	LearningRate   float64
	Beta1, Beta2   float64 // in [0, 1)
	DecoupledDecay float64 // λ ≥ 0
	Options
	base
}

// NewLion returns Lion with the paper's defaults.
func NewLion() *Lion { return &Lion{LearningRate: 1e-4, Beta1: 0.9, Beta2: 0.99} }

var (
	_ gorgonia.Solver = (*Lion)(nil)
	_ Solver          = (*Lion)(nil)
)

func lionJob[T Float](j *job[T], lo, hi int) { lionKernel(j.w[lo:hi], j.g[lo:hi], j.s0[lo:hi], &j.h) }

func init() { register("lion", func() registered { return NewLion() }) }

func (s *Lion) configure(c *cfgSetter) {
	c.set("LR", c.cfg.LR, &s.LearningRate)
	c.set("Beta1", c.cfg.Beta1, &s.Beta1)
	c.set("Beta2", c.cfg.Beta2, &s.Beta2)
	c.set("DecoupledDecay", c.cfg.DecoupledDecay, &s.DecoupledDecay)
	s.Options = c.cfg.Options
}

var lionMeta = meta{name: "lion", kernel: kernels{lionJob[float32], lionJob[float64]}, slots: []string{"m"}, scalars: []string{"step"}, init: []float64{0}, decoupled: true}

func (s *Lion) meta() *meta       { return &lionMeta }
func (s *Lion) options() *Options { return &s.Options }
func (s *Lion) slotUsed(int) bool { return true }
func (s *Lion) validate() error {
	return validateAdamLike("lion", s.LearningRate, s.Beta1, s.Beta2, 1, s.DecoupledDecay)
}
func (s *Lion) hyper(_ []float64, h *hyper[float64]) {
	h.lr, h.b1, h.b2, h.omb1, h.omb2 = s.LearningRate, s.Beta1, s.Beta2, 1-s.Beta1, 1-s.Beta2
	h.decay = 1 - s.LearningRate*s.DecoupledDecay
}

// Step applies one update to every parameter and zeroes its gradient.
func (s *Lion) Step(model []gorgonia.ValueGrad) error { return s.step(s, model) }

// LR returns the learning rate.
func (s *Lion) LR() float64 { return s.LearningRate }

// SetLR sets the learning rate.
func (s *Lion) SetLR(lr float64) { s.LearningRate = lr }

// State returns a copy of the state: "<param>/m", "<param>/step".
func (s *Lion) State() map[string]*tensor.Dense { return s.state(s.meta()) }

// SetState replaces the state by a copy of st.
func (s *Lion) SetState(st map[string]*tensor.Dense) error { return s.setState(s.meta(), st) }
