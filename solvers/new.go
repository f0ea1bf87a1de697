package solvers

import (
	"fmt"
	"sort"
	"strings"
)

// Config selects hyperparameters by field for New. A zero field means the
// solver's default (see each solver's constructor); a non-zero field the
// named solver does not use is an error, so a typo in a config is not
// silently ignored. Options (WeightDecay, L1, BatchSize, ClipValue, ClipNorm)
// apply to every solver and default to off.
type Config struct {
	LR             float64 // every solver
	Momentum       float64 // momentum, nesterov, rmsprop
	Beta1, Beta2   float64 // adam, amsgrad, adamw, adamax, nadam, lion
	Rho            float64 // rmsprop (PyTorch's alpha), adadelta
	Eps            float64 // adagrad, rmsprop, adadelta, adam, amsgrad, adamw, adamax, nadam
	EpsInsideSqrt  bool    // adagrad, rmsprop
	Centered       bool    // rmsprop
	LRDecay        float64 // adagrad
	MomentumDecay  float64 // nadam
	DecoupledDecay float64 // adamw (default 0.01), lion; adam with it is adamw
	Options
}

var constructors = map[string]func() Solver{
	"sgd":      func() Solver { return NewSGD() },
	"momentum": func() Solver { return NewMomentum() },
	"nesterov": func() Solver { return NewNesterov() },
	"adagrad":  func() Solver { return NewAdaGrad() },
	"rmsprop":  func() Solver { return NewRMSProp() },
	"adadelta": func() Solver { return NewAdadelta() },
	"adam":     func() Solver { return NewAdam() },
	"amsgrad":  func() Solver { return NewAMSGrad() },
	"adamw":    func() Solver { return NewAdamW() },
	"adamax":   func() Solver { return NewAdamax() },
	"nadam":    func() Solver { return NewNAdam() },
	"lion":     func() Solver { return NewLion() },
}

// Names returns the names New accepts, sorted.
func Names() []string {
	out := make([]string, 0, len(constructors))
	for n := range constructors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New returns the solver called name (case-insensitive; see Names) configured
// by cfg. An unknown name wraps ErrUnknown; an invalid or unused field wraps
// ErrConfig and names the solver and the field.
func New(name string, cfg Config) (Solver, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	mk, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	s := mk()
	c := cfgSetter{name: name, cfg: &cfg}
	switch s := s.(type) {
	case *SGD:
		c.set("LR", cfg.LR, &s.LearningRate)
		s.Options = cfg.Options
	case *Momentum:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Momentum", cfg.Momentum, &s.Momentum)
		s.Options = cfg.Options
	case *AdaGrad:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Eps", cfg.Eps, &s.Eps)
		c.set("LRDecay", cfg.LRDecay, &s.LRDecay)
		c.flag("EpsInsideSqrt", cfg.EpsInsideSqrt, &s.EpsInsideSqrt)
		s.Options = cfg.Options
	case *RMSProp:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Rho", cfg.Rho, &s.Rho)
		c.set("Eps", cfg.Eps, &s.Eps)
		c.set("Momentum", cfg.Momentum, &s.Momentum)
		c.flag("EpsInsideSqrt", cfg.EpsInsideSqrt, &s.EpsInsideSqrt)
		c.flag("Centered", cfg.Centered, &s.Centered)
		s.Options = cfg.Options
	case *Adadelta:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Rho", cfg.Rho, &s.Rho)
		c.set("Eps", cfg.Eps, &s.Eps)
		s.Options = cfg.Options
	case *Adam:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Beta1", cfg.Beta1, &s.Beta1)
		c.set("Beta2", cfg.Beta2, &s.Beta2)
		c.set("Eps", cfg.Eps, &s.Eps)
		c.set("DecoupledDecay", cfg.DecoupledDecay, &s.DecoupledDecay)
		s.Options = cfg.Options
	case *Adamax:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Beta1", cfg.Beta1, &s.Beta1)
		c.set("Beta2", cfg.Beta2, &s.Beta2)
		c.set("Eps", cfg.Eps, &s.Eps)
		s.Options = cfg.Options
	case *NAdam:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Beta1", cfg.Beta1, &s.Beta1)
		c.set("Beta2", cfg.Beta2, &s.Beta2)
		c.set("Eps", cfg.Eps, &s.Eps)
		c.set("MomentumDecay", cfg.MomentumDecay, &s.MomentumDecay)
		s.Options = cfg.Options
	case *Lion:
		c.set("LR", cfg.LR, &s.LearningRate)
		c.set("Beta1", cfg.Beta1, &s.Beta1)
		c.set("Beta2", cfg.Beta2, &s.Beta2)
		c.set("DecoupledDecay", cfg.DecoupledDecay, &s.DecoupledDecay)
		s.Options = cfg.Options
	}
	if err := c.unused(); err != nil {
		return nil, err
	}
	if err := s.(interface{ validate() error }).validate(); err != nil {
		return nil, err
	}
	if err := cfg.Options.check(name); err != nil {
		return nil, err
	}
	return s, nil
}

type cfgSetter struct {
	name string
	cfg  *Config
	used map[string]bool
}

func (c *cfgSetter) mark(field string) {
	if c.used == nil {
		c.used = make(map[string]bool)
	}
	c.used[field] = true
}

func (c *cfgSetter) set(field string, v float64, dst *float64) {
	c.mark(field)
	if v != 0 {
		*dst = v
	}
}

func (c *cfgSetter) flag(field string, v bool, dst *bool) {
	c.mark(field)
	if v {
		*dst = v
	}
}

// unused returns an error for the first non-zero Config field the solver does not use.
func (c *cfgSetter) unused() error {
	fields := []struct {
		name string
		set  bool
	}{
		{"LR", c.cfg.LR != 0}, {"Momentum", c.cfg.Momentum != 0},
		{"Beta1", c.cfg.Beta1 != 0}, {"Beta2", c.cfg.Beta2 != 0},
		{"Rho", c.cfg.Rho != 0}, {"Eps", c.cfg.Eps != 0},
		{"EpsInsideSqrt", c.cfg.EpsInsideSqrt}, {"Centered", c.cfg.Centered},
		{"LRDecay", c.cfg.LRDecay != 0}, {"MomentumDecay", c.cfg.MomentumDecay != 0},
		{"DecoupledDecay", c.cfg.DecoupledDecay != 0},
	}
	for _, f := range fields {
		if f.set && !c.used[f.name] {
			return fmt.Errorf("%w: %s: field %s is not used by this solver", ErrConfig, c.name, f.name)
		}
	}
	return nil
}
