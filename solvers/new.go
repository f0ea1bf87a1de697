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

// constructors holds every solver New knows, by name; each solver's file
// registers its own (init), so adding a solver is a change to one file.
var constructors = map[string]func() registered{}

func register(name string, mk func() registered) {
	if _, dup := constructors[name]; dup {
		panic("solvers: " + name + " registered twice")
	}
	constructors[name] = mk
}

// registered is what a solver implements in its own file besides Solver:
// configure takes its fields from the Config (cfgSetter.set marks a field
// used), validate checks them.
type registered interface {
	Solver
	configure(c *cfgSetter)
	validate() error
}

// DecayConfig returns the Config field that carries weight decay λ for the
// named solver: DecoupledDecay for the solvers whose decay is decoupled by
// design (adamw, lion), WeightDecay (coupled L2) for the others.
func DecayConfig(name string, lambda float64) (Config, error) {
	mk, ok := constructors[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Config{}, fmt.Errorf("%w: %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	if a, ok := mk().(algorithm); ok && a.meta().decoupled {
		return Config{DecoupledDecay: lambda}, nil
	}
	return Config{Options: Options{WeightDecay: lambda}}, nil
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
	s.configure(&c)
	if err := c.unused(); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
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
