package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// bnRun is one Train step of a batch-norm layer: its output, gradients of
// sum(y ⊙ r), and running statistics afterwards.
type bnRun struct{ y, dx, dgamma, dbeta, mean, vr []float64 }

// gorgoniaBN builds Gorgonia's BatchNorm on an (n, c) input with explicit
// (1, c) γ and β (the sound way to use it) and returns a step function.
func gorgoniaBN(t *testing.T, n, c int, mom, eps float64, gamma, beta []float64) func(x, r []float64) bnRun {
	t.Helper()
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(n, c), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(n, c), tensor.WithBacking(make([]float64, n*c)))))
	scale := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(1, c), gorgonia.WithName("scale"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, c), tensor.WithBacking(append([]float64(nil), gamma...)))))
	bias := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(1, c), gorgonia.WithName("bias"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, c), tensor.WithBacking(append([]float64(nil), beta...)))))
	r := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(n, c), gorgonia.WithName("r"))
	y, _, _, op, err := gorgonia.BatchNorm(x, scale, bias, mom, eps)
	require.NoError(t, err)
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	prod, err := gorgonia.HadamardProd(y, r)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(prod)
	require.NoError(t, err)
	_, err = gorgonia.Grad(loss, x, scale, bias)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(x, scale, bias))
	t.Cleanup(func() { m.Close() })
	return func(xs, rs []float64) bnRun {
		copy(f64s(x.Value()), xs)
		for _, p := range []*gorgonia.Node{x, scale, bias} {
			if gv, err := p.Grad(); err == nil {
				if gt, ok := gv.(tensor.Tensor); ok {
					gt.Zero()
				}
			}
		}
		m.Reset()
		require.NoError(t, gorgonia.Let(r, tensor.New(tensor.WithShape(n, c), tensor.WithBacking(append([]float64(nil), rs...)))))
		require.NoError(t, m.RunAll())
		mean, vr := op.Stats()
		return bnRun{
			y: append([]float64(nil), f64s(yv)...), dx: append([]float64(nil), gradOf(t, x)...),
			dgamma: append([]float64(nil), gradOf(t, scale)...), dbeta: append([]float64(nil), gradOf(t, bias)...),
			mean: append([]float64(nil), mean.Data().([]float64)...), vr: append([]float64(nil), vr.Data().([]float64)...),
		}
	}
}

// oursBN builds ops.BatchNorm the same way.
func oursBN(t *testing.T, shape []int, mom, eps float64, gamma, beta []float64) (func(x, r []float64) bnRun, *graph.Builder, *graph.Program) {
	t.Helper()
	b := graph.NewBuilder(1)
	x, err := b.Param("x", tensor.Float64, constantInit(0), shape...)
	require.NoError(t, err)
	y, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{Momentum: mom, Eps: eps})
	require.NoError(t, err)
	gm, bt := param(t, b, "bn/gamma"), param(t, b, "bn/beta")
	copy(f64s(gm.Value()), gamma)
	copy(f64s(bt.Value()), beta)
	loss, err := weightedSum(b, y)
	require.NoError(t, err)
	p, err := b.Compile(loss, y)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return func(xs, rs []float64) bnRun {
		copy(f64s(x.Value()), xs)
		require.NoError(t, p.ZeroGrads())
		require.NoError(t, p.Run(graph.Feeds{"r": tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), rs...)))}))
		return bnRun{
			y: append([]float64(nil), f64s(p.Output(0))...), dx: append([]float64(nil), gradOf(t, x)...),
			dgamma: append([]float64(nil), gradOf(t, gm)...), dbeta: append([]float64(nil), gradOf(t, bt)...),
			mean: append([]float64(nil), f64s(state(t, p, "bn/running_mean"))...),
			vr:   append([]float64(nil), f64s(state(t, p, "bn/running_var"))...),
		}
	}, b, p
}

// TestBatchNormMatchesGorgonia compares Train-mode outputs, gradients and
// running statistics with Gorgonia's BatchNorm given explicit (1, C) γ and β,
// over several steps.
func TestBatchNormMatchesGorgonia(t *testing.T) {
	cases := []struct {
		n, c     int
		mom, eps float64
	}{{2, 3, 0.1, 1e-5}, {8, 5, 0.1, 1e-5}, {16, 4, 0.3, 1e-3}}
	var worst float64
	for _, cs := range cases {
		t.Run(fmt.Sprintf("%dx%d/momentum=%v/eps=%v", cs.n, cs.c, cs.mom, cs.eps), func(t *testing.T) {
			gamma, beta := f64s(randTensor(21, cs.c)), f64s(randTensor(22, cs.c))
			theirs := gorgoniaBN(t, cs.n, cs.c, cs.mom, cs.eps, gamma, beta)
			ours, _, _ := oursBN(t, []int{cs.n, cs.c}, cs.mom, cs.eps, gamma, beta)
			for step := range 3 {
				x := f64s(randTensor(uint64(100+step), cs.n, cs.c))
				for i := range x {
					x[i] = 2*x[i] + float64(step+1)
				}
				r := f64s(randTensor(uint64(200+step), cs.n, cs.c))
				want, got := theirs(x, r), ours(x, r)
				for _, c := range []struct {
					what      string
					want, got []float64
				}{
					{"y", want.y, got.y}, {"dx", want.dx, got.dx}, {"dgamma", want.dgamma, got.dgamma},
					{"dbeta", want.dbeta, got.dbeta}, {"running_mean", want.mean, got.mean}, {"running_var", want.vr, got.vr},
				} {
					e := maxRelErr(t, c.want, c.got, 1e-3)
					worst = max(worst, e)
					assert.LessOrEqual(t, e, 1e-6, "step %d %s", step, c.what)
				}
			}
		})
	}
	t.Logf("Gorgonia: max relative error %.3g", worst)
}

// TestGorgoniaDefects demonstrates each Gorgonia v0.9.18 defect the project
// works around, and that ours does not have it.
func TestGorgoniaDefects(t *testing.T) {
	t.Run("batchnorm/default-gamma-beta-shaped-like-input-and-glorot", func(t *testing.T) {
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(8, 5), gorgonia.WithName("x"))
		_, gamma, beta, _, err := gorgonia.BatchNorm(x, nil, nil, 0.1, 1e-5)
		require.NoError(t, err)
		assert.Equal(t, tensor.Shape{8, 5}, gamma.Shape(), "Gorgonia: γ has the batch dimension")
		assert.Equal(t, tensor.Shape{8, 5}, beta.Shape(), "Gorgonia: β has the batch dimension")
		assert.NotEqual(t, allOf(40, 1), f64s(gamma.Value()), "Gorgonia: γ is random (GlorotN), not 1")
		assert.NotEqual(t, allOf(40, 0), f64s(beta.Value()), "Gorgonia: β is random (GlorotN), not 0")

		b := graph.NewBuilder(1)
		xo, _ := b.Input("x", tensor.Float64, 8, 5)
		_, err = ops.BatchNorm(b, "bn", xo, ops.BatchNormOptions{})
		require.NoError(t, err)
		assert.Equal(t, tensor.Shape{5}, param(t, b, "bn/gamma").Shape())
		assert.Equal(t, allOf(5, 1), f64s(param(t, b, "bn/gamma").Value()))
		assert.Equal(t, allOf(5, 0), f64s(param(t, b, "bn/beta").Value()))
	})

	t.Run("batchnorm/new-machine-wipes-running-statistics", func(t *testing.T) {
		gamma, beta := allOf(3, 1), allOf(3, 0)
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(4, 3), gorgonia.WithName("x"),
			gorgonia.WithValue(randTensor(5, 4, 3)))
		scale := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(1, 3), gorgonia.WithName("s"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking(gamma))))
		bias := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(1, 3), gorgonia.WithName("b"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking(beta))))
		_, _, _, op, err := gorgonia.BatchNorm(x, scale, bias, 0.5, 1e-5)
		require.NoError(t, err)
		m := gorgonia.NewTapeMachine(g)
		require.NoError(t, m.RunAll())
		mean, _ := op.Stats()
		assert.NotEqual(t, allOf(3, 0), mean.Data(), "one step moved the running mean")
		m2 := gorgonia.NewTapeMachine(g) // e.g. an evaluation machine, or a second program
		defer m.Close()
		defer m2.Close()
		mean, vr := op.Stats()
		assert.Equal(t, allOf(3, 0), mean.Data(), "Gorgonia: a new machine reset the running mean")
		assert.Equal(t, allOf(3, 1), vr.Data(), "Gorgonia: a new machine reset the running variance")

		step, b, p := oursBN(t, []int{4, 3}, 0.5, 1e-5, gamma, beta)
		got := step(f64s(randTensor(5, 4, 3)), f64s(randTensor(6, 4, 3)))
		assert.NotEqual(t, allOf(3, 0), got.mean)
		ev, err := b.Compile(nil, b.Params()[0]) // another program on the same builder
		require.NoError(t, err)
		defer ev.Close()
		raw := gorgonia.NewTapeMachine(b.Graph()) // and a plain Gorgonia machine
		defer raw.Close()
		p.SetMode(graph.Eval)
		require.NoError(t, p.Run(graph.Feeds{"r": randTensor(6, 4, 3)}))
		p.SetMode(graph.Train)
		assert.Equal(t, got.mean, f64s(state(t, p, "bn/running_mean")))
		assert.Equal(t, got.vr, f64s(state(t, p, "bn/running_var")))
	})

	t.Run("batchnorm/eval-mode-backward-4d", func(t *testing.T) {
		// Gorgonia's eval-mode backward for (batch, channels, h, w) inputs
		// divides by √ε instead of √(running_var + ε): it reads the batch
		// variance, which the eval forward pass zeroed. (For 2-D inputs its
		// eval backward is right: dx = g/√(running_var + ε).)
		shape := []int{2, 3, 2, 2}
		const eps = 1e-5
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(shape...), gorgonia.WithName("x"),
			gorgonia.WithValue(randTensor(8, shape...)))
		y, gamma, _, op, err := gorgonia.BatchNorm(x, nil, nil, 0.1, eps)
		require.NoError(t, err)
		loss, err := gorgonia.Sum(y)
		require.NoError(t, err)
		_, err = gorgonia.Grad(loss, x)
		require.NoError(t, err)
		m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(x)) // resets: running mean 0, var 1
		defer m.Close()
		require.NoError(t, op.SetTraining(false))
		require.NoError(t, m.RunAll())
		// y = γ·x/√(1 + ε) + β with γ the (Glorot) scale node, so dx = γ/√(1 + ε).
		gv, got := f64s(gamma.Value()), gradOf(t, x)
		for i := range got {
			ratio := got[i] / (gv[i] / math.Sqrt(1+eps))
			require.InDelta(t, math.Sqrt((1+eps)/eps), ratio, 1e-6*ratio, "Gorgonia: eval-mode dx[%d] is off by √((1+ε)/ε) ≈ 316", i)
		}

		// The same set-up with a 2-D input gets it right.
		g2 := gorgonia.NewGraph()
		x2 := gorgonia.NewTensor(g2, tensor.Float64, 2, gorgonia.WithShape(4, 3), gorgonia.WithName("x"),
			gorgonia.WithValue(randTensor(8, 4, 3)))
		y2, gamma2, _, op2, err := gorgonia.BatchNorm(x2, nil, nil, 0.1, eps)
		require.NoError(t, err)
		loss2, err := gorgonia.Sum(y2)
		require.NoError(t, err)
		_, err = gorgonia.Grad(loss2, x2)
		require.NoError(t, err)
		m2 := gorgonia.NewTapeMachine(g2, gorgonia.BindDualValues(x2))
		defer m2.Close()
		require.NoError(t, op2.SetTraining(false))
		require.NoError(t, m2.RunAll())
		gv2 := f64s(gamma2.Value())
		for i, v := range gradOf(t, x2) {
			require.InDelta(t, gv2[i]/math.Sqrt(1+eps), v, 1e-12, "2-D eval dx[%d]", i)
		}

		// Ours: a backward pass in eval mode treats the running statistics as constants.
		b := graph.NewBuilder(1)
		xo, _ := b.Param("x", tensor.Float64, randn(1, 0), shape...)
		yo, err := ops.BatchNorm(b, "bn", xo, ops.BatchNormOptions{Eps: eps})
		require.NoError(t, err)
		lo, err := gorgonia.Sum(yo)
		require.NoError(t, err)
		_, err = gorgonia.Grad(lo, xo)
		require.NoError(t, err)
		mo := gorgonia.NewTapeMachine(b.Graph(), gorgonia.BindDualValues(xo))
		defer mo.Close()
		require.NoError(t, yo.Op().(gorgonia.TrainModeOp).SetTraining(false))
		require.NoError(t, mo.RunAll())
		for i, v := range gradOf(t, xo) {
			require.InDelta(t, 1/math.Sqrt(1+eps), v, 1e-15, "dx[%d]", i)
		}
	})

	t.Run("dropout/backward-scales-by-1/p", func(t *testing.T) {
		const p = 0.2
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(20, 10), gorgonia.WithName("x"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(20, 10), tensor.WithBacking(allOf(200, 1)))))
		y, err := gorgonia.Dropout(x, p)
		require.NoError(t, err)
		var yv gorgonia.Value
		gorgonia.Read(y, &yv)
		loss, err := gorgonia.Sum(y)
		require.NoError(t, err)
		_, err = gorgonia.Grad(loss, x)
		require.NoError(t, err)
		m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(x))
		defer m.Close()
		require.NoError(t, m.RunAll())
		kept := 0
		for i, v := range f64s(yv) {
			if v != 0 {
				kept++
				assert.InDelta(t, 1/(1-p), v, 1e-12, "forward scales by 1/(1−p)")
				assert.InDelta(t, 1/p, gradOf(t, x)[i], 1e-12, "Gorgonia: backward scales by 1/p")
			}
		}
		require.Positive(t, kept)

		b := graph.NewBuilder(1)
		xo, _ := b.Param("x", tensor.Float64, constantInit(1), 20, 10)
		yo, err := ops.Dropout(b, xo, p)
		require.NoError(t, err)
		lo, err := gorgonia.Sum(yo)
		require.NoError(t, err)
		prog, err := b.Compile(lo)
		require.NoError(t, err)
		defer prog.Close()
		require.NoError(t, prog.Run(graph.Feeds{}))
		for i, keep := range ops.DropoutMask(yo) {
			want := 0.0
			if keep {
				want = 1 / (1 - p)
			}
			require.Equal(t, want, gradOf(t, xo)[i])
		}
	})

	t.Run("dropout/seeded-from-the-clock", func(t *testing.T) {
		mask := func() []float64 {
			g := gorgonia.NewGraph()
			x := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(20, 10), gorgonia.WithName("x"),
				gorgonia.WithValue(tensor.New(tensor.WithShape(20, 10), tensor.WithBacking(allOf(200, 1)))))
			y, err := gorgonia.Dropout(x, 0.5)
			require.NoError(t, err)
			m := gorgonia.NewTapeMachine(g)
			defer m.Close()
			require.NoError(t, m.RunAll())
			return append([]float64(nil), f64s(y.Value())...)
		}
		// Two identical graphs: Gorgonia seeds each dropout with time.Now().
		assert.NotEqual(t, mask(), mask(), "Gorgonia: identical graphs draw different masks")
		// Ours: same builder seed, same masks (see also TestDropoutSeeds).
		var ours [][]bool
		for range 2 {
			prog, y := dropoutProgram(t, 3, tensor.Float64, 0.5, 20, 10)
			require.NoError(t, prog.Run(graph.Feeds{}))
			ours = append(ours, ops.DropoutMask(y))
		}
		assert.Equal(t, ours[0], ours[1])
	})

	t.Run("dropout/hash-ignores-p", func(t *testing.T) {
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(4, 4), gorgonia.WithName("x"))
		d1, err := gorgonia.Dropout(x, 0.3)
		require.NoError(t, err)
		d2, err := gorgonia.Dropout(x, 0.6)
		require.NoError(t, err)
		assert.Same(t, d1, d2, "Gorgonia: dropouts with p 0.3 and 0.6 on one input merged into one node")

		b := graph.NewBuilder(1)
		xo, _ := b.Param("x", tensor.Float64, constantInit(1), 4, 4)
		o1, err := ops.Dropout(b, xo, 0.3)
		require.NoError(t, err)
		o2, err := ops.Dropout(b, xo, 0.6)
		require.NoError(t, err)
		assert.NotSame(t, o1, o2)
	})
}

func allOf(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}
