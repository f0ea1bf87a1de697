package experiments

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/solvers"
)

// Bowl is the 2-D function of the optimizer-path figure, f(x, y) = x²/20 + y²:
// an elongated bowl, 20 times steeper along y than along x, with its minimum
// at (0, 0).
func Bowl(x, y float64) float64 { return x*x/20 + y*y }

// bowlGrad is ∇f = (x/10, 2y).
func bowlGrad(x, y float64) (float64, float64) { return x / 10, 2 * y }

// BowlStart is where every path starts, as in the lecture's figure.
var BowlStart = [2]float64{-7, 2}

// PathSpec is one optimizer of the path figure: a solvers.New name and its
// configuration.
type PathSpec struct {
	Name   string // legend and CSV name
	Solver string // solvers.New name
	Config solvers.Config
}

// PathSpecs returns the optimizers of the figure with their learning rates.
// SGD 0.95, Momentum 0.1 (μ 0.9), AdaGrad 1.5 and Adam 0.3 are the rates of
// the well-known figure in Saito's "Deep Learning from Scratch" (ch. 6) that
// lecture-style slides reproduce; Nesterov shares Momentum's; RMSProp 0.3
// (ρ 0.9) and Adadelta (LR 1, ρ 0.9, ε 0.1) are chosen here so that they
// get near the minimum in 30 steps: with PyTorch's ε = 1e-6 Adadelta's first
// steps are about √ε = 1e-3 long and its path would be a dot, and RMSProp's
// steps are about LR long in each coordinate whatever the gradient.
func PathSpecs() []PathSpec {
	return []PathSpec{
		{"SGD", "sgd", solvers.Config{LR: 0.95}},
		{"Momentum", "momentum", solvers.Config{LR: 0.1, Momentum: 0.9}},
		{"Nesterov", "nesterov", solvers.Config{LR: 0.1, Momentum: 0.9}},
		{"AdaGrad", "adagrad", solvers.Config{LR: 1.5}},
		{"RMSProp", "rmsprop", solvers.Config{LR: 0.3, Rho: 0.9}},
		{"Adadelta", "adadelta", solvers.Config{LR: 1, Rho: 0.9, Eps: 0.1}},
		{"Adam", "adam", solvers.Config{LR: 0.3}},
	}
}

// PathOptions configure OptimizerPaths. Zero fields take the defaults:
// PathSpecs() and 30 steps.
type PathOptions struct {
	Specs []PathSpec
	Steps int
}

// Path is the trajectory of one optimizer: X[0], Y[0] is the start, X[i],
// Y[i] the point after step i, F[i] = Bowl(X[i], Y[i]).
type Path struct {
	Spec    PathSpec
	X, Y, F []float64
}

// Dist returns the distance from the minimum after step i.
func (p Path) Dist(i int) float64 { return math.Hypot(p.X[i], p.Y[i]) }

// FirstWithin returns the first step after which the path stays within r
// of the minimum, or -1.
func (p Path) FirstWithin(r float64) int {
	first := -1
	for i := range p.X {
		if p.Dist(i) <= r {
			if first < 0 {
				first = i
			}
		} else {
			first = -1
		}
	}
	return first
}

// ZigZags returns how often the y coordinate changes sign: the oscillation
// across the steep direction of the bowl.
func (p Path) ZigZags() int {
	n := 0
	for i := 1; i < len(p.Y); i++ {
		if p.Y[i]*p.Y[i-1] < 0 {
			n++
		}
	}
	return n
}

// PathsResult is the 2-D optimizer experiment.
type PathsResult struct {
	Steps int
	Paths []Path
}

// OptimizerPaths runs each optimizer on Bowl from BowlStart with gradlab's
// solvers: the point is a 2-element float64 parameter whose gradient
// (x/10, 2y) is written into its gradient tensor before each Step.
func OptimizerPaths(opt PathOptions) (*PathsResult, error) {
	specs, steps := opt.Specs, opt.Steps
	if specs == nil {
		specs = PathSpecs()
	}
	if steps == 0 {
		steps = 30
	}
	if steps < 1 {
		return nil, fmt.Errorf("%w: optimizer paths need Steps ≥ 1, got %d", ErrConfig, steps)
	}
	res := &PathsResult{Steps: steps}
	for _, s := range specs {
		sv, err := solvers.New(s.Solver, s.Config)
		if err != nil {
			return nil, fmt.Errorf("experiments: path %s: %w", s.Name, err)
		}
		w := []float64{BowlStart[0], BowlStart[1]}
		g := make([]float64, 2)
		v := solvers.NewVar("xy", tensor.New(tensor.WithShape(2), tensor.WithBacking(w)), tensor.New(tensor.WithShape(2), tensor.WithBacking(g)))
		p := Path{Spec: s}
		record := func() {
			p.X, p.Y, p.F = append(p.X, w[0]), append(p.Y, w[1]), append(p.F, Bowl(w[0], w[1]))
		}
		record()
		for range steps {
			g[0], g[1] = bowlGrad(w[0], w[1])
			if err := sv.Step([]gorgonia.ValueGrad{v}); err != nil {
				return nil, fmt.Errorf("experiments: path %s: %w", s.Name, err)
			}
			record()
		}
		res.Paths = append(res.Paths, p)
	}
	return res, nil
}
