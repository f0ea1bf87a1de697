package solvers

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

func tolerance(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 1e-5
	}
	return 1e-12
}

// run steps s over pr's gradients and returns the weights after every step.
func run(t *testing.T, s gorgonia.Solver, pr *problem, dt tensor.Dtype) [][]float64 {
	t.Helper()
	ps := pr.params(dt)
	var traj [][]float64
	for _, g := range pr.grads {
		ps.setGrads(g)
		require.NoError(t, s.Step(ps.model))
		traj = append(traj, concat(ps.values()))
	}
	return traj
}

func worstErr(a, b [][]float64) float64 {
	w := 0.0
	for i := range a {
		w = max(w, relErr(a[i], b[i]))
	}
	return w
}

// TestAgainstGorgonia compares with Gorgonia's built-in solvers where they are
// sound, mapping conventions: Gorgonia's RMSProp and AdaGrad put ε inside the
// square root (EpsInsideSqrt), its RMSProp ρ defaults to 0.999 and its AdaGrad
// runs only at its defaults (lr 0.001, ε 1e-8) because it ignores its options.
func TestAgainstGorgonia(t *testing.T) {
	const steps = 100
	pr := newProblem(7, steps, []int{7, 5}, []int{11})
	cases := []struct {
		name   string
		ours   func() Solver
		theirs func() gorgonia.Solver
	}{
		{"sgd-l1-l2-batch-clip", func() Solver {
			s := NewSGD()
			s.LearningRate, s.L1, s.WeightDecay, s.BatchSize, s.ClipValue = 0.1, 0.01, 0.02, 4, 0.3
			return s
		}, func() gorgonia.Solver {
			return gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.1), gorgonia.WithL1Reg(0.01),
				gorgonia.WithL2Reg(0.02), gorgonia.WithBatchSize(4), gorgonia.WithClip(0.3))
		}},
		{"momentum-batch-clip", func() Solver {
			s := NewMomentum()
			s.LearningRate, s.Momentum, s.BatchSize, s.ClipValue = 0.05, 0.9, 2, 1
			return s
		}, func() gorgonia.Solver {
			return gorgonia.NewMomentum(gorgonia.WithLearnRate(0.05), gorgonia.WithMomentum(0.9),
				gorgonia.WithBatchSize(2), gorgonia.WithClip(1))
		}},
		{"rmsprop", func() Solver {
			s := NewRMSProp()
			s.LearningRate, s.Rho, s.Eps, s.EpsInsideSqrt = 0.01, 0.9, 1e-6, true
			return s
		}, func() gorgonia.Solver {
			return gorgonia.NewRMSPropSolver(gorgonia.WithLearnRate(0.01), gorgonia.WithRho(0.9), gorgonia.WithEps(1e-6))
		}},
		{"rmsprop-defaults", func() Solver {
			s := NewRMSProp()
			s.LearningRate, s.Rho, s.Eps, s.EpsInsideSqrt = 0.001, 0.999, 1e-8, true
			return s
		}, func() gorgonia.Solver { return gorgonia.NewRMSPropSolver() }},
		{"adagrad-defaults", func() Solver {
			s := NewAdaGrad()
			s.LearningRate, s.Eps, s.EpsInsideSqrt = 0.001, 1e-8, true
			return s
		}, func() gorgonia.Solver { return gorgonia.NewAdaGradSolver() }},
		{"adam-l1-l2-batch-clip", func() Solver {
			s := NewAdam()
			s.LearningRate, s.Beta1, s.Beta2, s.Eps = 0.01, 0.8, 0.99, 1e-7
			s.L1, s.WeightDecay, s.BatchSize, s.ClipValue = 0.01, 0.02, 4, 0.3
			return s
		}, func() gorgonia.Solver {
			return gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01), gorgonia.WithBeta1(0.8), gorgonia.WithBeta2(0.99),
				gorgonia.WithEps(1e-7), gorgonia.WithL1Reg(0.01), gorgonia.WithL2Reg(0.02), gorgonia.WithBatchSize(4),
				gorgonia.WithClip(0.3))
		}},
		{"adam-defaults", func() Solver { return NewAdam() }, func() gorgonia.Solver { return gorgonia.NewAdamSolver() }},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v/steps=%d", c.name, dt, steps), func(t *testing.T) {
				ours := run(t, c.ours(), pr, dt)
				theirs := run(t, c.theirs(), pr, dt)
				e := worstErr(ours, theirs)
				t.Logf("max relative error %.3g", e)
				require.LessOrEqual(t, e, tolerance(dt))
				require.Greater(t, relErr(ours[steps-1], concat(pr.init)), 1e-4, "weights must move")
			})
		}
	}
}

// TestGorgoniaMomentumRegularizesVelocity shows that Gorgonia's Momentum with L2
// adds λ·v (the velocity) to the gradient instead of λ·w: its trajectory is not
// SGD with momentum on the L2-regularized loss, ours is.
func TestGorgoniaMomentumRegularizesVelocity(t *testing.T) {
	const steps, lr, mu, l2 = 100, 0.05, 0.9, 0.1
	pr := newProblem(11, steps, []int{6, 4})
	s := NewMomentum()
	s.LearningRate, s.Momentum, s.WeightDecay = lr, mu, l2
	ours := run(t, s, pr, tensor.Float64)
	theirs := run(t, gorgonia.NewMomentum(gorgonia.WithLearnRate(lr), gorgonia.WithMomentum(mu), gorgonia.WithL2Reg(l2)), pr, tensor.Float64)

	// Reference: the textbook loop on L(w) + λ/2·‖w‖².
	w := append([]float64(nil), pr.init[0]...)
	b := make([]float64, len(w))
	var ref [][]float64
	for _, g := range pr.grads {
		for i := range w {
			b[i] = mu*b[i] + g[0][i] + l2*w[i]
			w[i] -= lr * b[i]
		}
		ref = append(ref, append([]float64(nil), w...))
	}
	require.LessOrEqual(t, worstErr(ours, ref), 1e-12)
	require.Greater(t, worstErr(theirs, ref), 1e-3, "Gorgonia's Momentum regularizes the velocity")
}

// TestGorgoniaAdaGradIgnoresOptions shows that Gorgonia's AdaGradSolver runs at
// its defaults whatever options it is given; ours uses the learning rate set.
func TestGorgoniaAdaGradIgnoresOptions(t *testing.T) {
	pr := newProblem(13, 20, []int{10})
	def := run(t, gorgonia.NewAdaGradSolver(), pr, tensor.Float64)
	opt := run(t, gorgonia.NewAdaGradSolver(gorgonia.WithLearnRate(0.1), gorgonia.WithEps(1e-3)), pr, tensor.Float64)
	require.Equal(t, def, opt, "Gorgonia's AdaGrad ignores WithLearnRate and WithEps")

	s := NewAdaGrad()
	s.LearningRate, s.Eps, s.EpsInsideSqrt = 0.1, 1e-3, true
	ours := run(t, s, pr, tensor.Float64)
	require.Greater(t, worstErr(ours, def), 1e-2)
	// The first step of AdaGrad is w −= lr·g/√(g²+ε): check it directly.
	for i, w0 := range pr.init[0] {
		g := pr.grads[0][0][i]
		require.InDelta(t, w0-0.1*g/sqrtf(g*g+1e-3), ours[0][i], 1e-12)
	}
}

func sqrtf(x float64) float64 { return sqrt(x) }

// TestGorgoniaAdamWNeverMoves shows that Gorgonia's AdamW leaves the weights
// unchanged (on *gorgonia.Node parameters, which it requires); ours follows
// torch.optim.AdamW (see TestPyTorchGolden).
func TestGorgoniaAdamWNeverMoves(t *testing.T) {
	g := gorgonia.NewGraph()
	init := []float64{0.5, -1, 2, 0.25}
	w := gorgonia.NewTensor(g, tensor.Float64, 1, gorgonia.WithShape(4), gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4), tensor.WithBacking(append([]float64(nil), init...)))))
	c := gorgonia.NewTensor(g, tensor.Float64, 1, gorgonia.WithShape(4), gorgonia.WithName("c"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, -2, 0.5, 3}))))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(w, c))))
	_, err := gorgonia.Grad(cost, w)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w))
	defer vm.Close()
	solver := gorgonia.NewAdamW(gorgonia.WithLearnRate(0.1))
	for range 5 {
		require.NoError(t, vm.RunAll())
		require.NoError(t, solver.Step(gorgonia.NodesToValueGrads(gorgonia.Nodes{w})))
		vm.Reset()
	}
	require.Equal(t, init, w.Value().Data(), "Gorgonia's AdamW does not change the weights")

	ours := NewAdamW()
	ours.LearningRate = 0.1
	for range 5 {
		require.NoError(t, vm.RunAll())
		require.NoError(t, ours.Step(gorgonia.NodesToValueGrads(gorgonia.Nodes{w})))
		vm.Reset()
	}
	require.NotEqual(t, init, w.Value().Data())
}
