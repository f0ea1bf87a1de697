package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gradlab/gradlab/solvers"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// sizes are the parameter sizes (elements) of every benchmark.
var sizes = []int{10000, 1 << 20, 1 << 24}

var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// solverCase is one algorithm: gradlab's solver, Gorgonia's counterpart (nil if
// it has none), and the number of arrays of n elements one step must read or
// write: each state array and the weights are read and written, the gradient
// is read and zeroed (written).
type solverCase struct {
	name     string
	arrays   int
	gradlab  func() gorgonia.Solver
	gorgonia func() gorgonia.Solver
}

var solverCases = []solverCase{
	{"sgd", 4, func() gorgonia.Solver { return solvers.NewSGD() },
		func() gorgonia.Solver { return gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.01)) }},
	{"momentum", 6, func() gorgonia.Solver { return solvers.NewMomentum() },
		func() gorgonia.Solver { return gorgonia.NewMomentum(gorgonia.WithLearnRate(0.01)) }},
	{"nesterov", 6, func() gorgonia.Solver { return solvers.NewNesterov() }, nil},
	{"adagrad", 6, func() gorgonia.Solver { return solvers.NewAdaGrad() },
		func() gorgonia.Solver { return gorgonia.NewAdaGradSolver() }},
	{"rmsprop", 6, func() gorgonia.Solver { return solvers.NewRMSProp() },
		func() gorgonia.Solver { return gorgonia.NewRMSPropSolver() }},
	{"adadelta", 8, func() gorgonia.Solver { return solvers.NewAdadelta() }, nil},
	{"adam", 8, func() gorgonia.Solver { return solvers.NewAdam() },
		func() gorgonia.Solver { return gorgonia.NewAdamSolver() }},
	{"amsgrad", 10, func() gorgonia.Solver { return solvers.NewAMSGrad() }, nil},
	{"adamw", 8, func() gorgonia.Solver { return solvers.NewAdamW() }, nil},
	{"adamax", 8, func() gorgonia.Solver { return solvers.NewAdamax() }, nil},
	{"nadam", 8, func() gorgonia.Solver { return solvers.NewNAdam() }, nil},
	{"lion", 6, func() gorgonia.Solver { return solvers.NewLion() }, nil},
}

// param is a named parameter with a gradient.
type param struct {
	value, grad *tensor.Dense
	gradInit    *tensor.Dense
}

func (p *param) Name() string                  { return "w" }
func (p *param) Value() gorgonia.Value         { return p.value }
func (p *param) Grad() (gorgonia.Value, error) { return p.grad, nil }

func newParam(dt tensor.Dtype, n int) *param {
	r := rand.New(rand.NewPCG(1, 2))
	p := &param{
		value:    tensor.New(tensor.WithShape(n), tensor.Of(dt)),
		grad:     tensor.New(tensor.WithShape(n), tensor.Of(dt)),
		gradInit: tensor.New(tensor.WithShape(n), tensor.Of(dt)),
	}
	switch dt {
	case tensor.Float32:
		w, g := p.value.Float32s(), p.gradInit.Float32s()
		for i := range w {
			w[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
	default:
		w, g := p.value.Float64s(), p.gradInit.Float64s()
		for i := range w {
			w[i], g[i] = r.NormFloat64(), r.NormFloat64()
		}
	}
	p.refill()
	return p
}

// refill restores the gradient the solver zeroed.
func (p *param) refill() { _ = tensor.Copy(p.grad, p.gradInit) }

// refillEvery is how many steps run on a zeroed gradient before it is
// refilled (with the timer stopped). Every solver does the same arithmetic on
// a zero gradient, but its state decays geometrically (by 0.9 per step at
// worst, 0.9^256 ≈ 2e-12); refilling keeps it away from subnormal numbers,
// which would slow both implementations down. Not more often: with
// ReportAllocs, StopTimer and StartTimer read the memory statistics, which
// costs tens of microseconds.
const refillEvery = 256

// BenchmarkSolvers times one Step of each solver on one parameter of n
// elements: BenchmarkSolvers/<solver>/<impl>/<dtype>/n=<n>, impl gradlab or
// gorgonia (where Gorgonia has the algorithm).
func BenchmarkSolvers(b *testing.B) {
	for _, c := range solverCases {
		impls := []struct {
			name string
			mk   func() gorgonia.Solver
		}{{"gradlab", c.gradlab}, {"gorgonia", c.gorgonia}}
		for _, im := range impls {
			if im.mk == nil {
				continue
			}
			for _, dt := range dtypes {
				for _, n := range sizes {
					b.Run(fmt.Sprintf("%s/%s/%v/n=%d", c.name, im.name, dt, n), func(b *testing.B) {
						p := newParam(dt, n)
						s := im.mk()
						model := []gorgonia.ValueGrad{p}
						if err := s.Step(model); err != nil { // create state
							b.Fatal(err)
						}
						p.refill()
						b.SetBytes(int64(c.arrays * n * int(dt.Size())))
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							if err := s.Step(model); err != nil {
								b.Fatal(err)
							}
							if i++; i%refillEvery == 0 {
								b.StopTimer()
								p.refill()
								b.StartTimer()
							}
						}
					})
				}
			}
		}
	}
}
