package solvers

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
)

// configs returns one non-default configuration of every named solver, with all Options on.
func configs() map[string]Config {
	opts := Options{WeightDecay: 0.01, L1: 0.001, BatchSize: 2, ClipValue: 0.8, ClipNorm: 3}
	return map[string]Config{
		"sgd":      {LR: 0.05, Options: opts},
		"momentum": {LR: 0.05, Momentum: 0.8, Options: opts},
		"nesterov": {LR: 0.05, Momentum: 0.8, Options: opts},
		"adagrad":  {LR: 0.05, LRDecay: 0.01, Options: opts},
		"rmsprop":  {LR: 0.01, Momentum: 0.5, Centered: true, Options: opts},
		"adadelta": {LR: 0.5, Options: opts},
		"adam":     {LR: 0.01, Options: opts},
		"amsgrad":  {LR: 0.01, Options: opts},
		"adamw":    {LR: 0.01, DecoupledDecay: 0.1, Options: opts},
		"adamax":   {LR: 0.01, Options: opts},
		"nadam":    {LR: 0.01, Options: opts},
		"lion":     {LR: 0.001, DecoupledDecay: 0.1, Options: opts},
	}
}

func TestNames(t *testing.T) {
	require.Equal(t, []string{"adadelta", "adagrad", "adam", "adamax", "adamw", "amsgrad",
		"lion", "momentum", "nadam", "nesterov", "rmsprop", "sgd"}, Names())
	for _, n := range Names() {
		s, err := New(n, Config{})
		require.NoError(t, err, n)
		require.Greater(t, s.LR(), 0.0, n)
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name   string
		solver string
		cfg    Config
		want   error
		words  []string
	}{
		{"unknown", "adamm", Config{}, ErrUnknown, []string{`"adamm"`}},
		{"negative-lr", "adam", Config{LR: -1}, ErrConfig, []string{"adam", "LR"}},
		{"beta1>=1", "adam", Config{Beta1: 1}, ErrConfig, []string{"adam", "Beta1"}},
		{"beta2<0", "nadam", Config{Beta2: -0.1}, ErrConfig, []string{"nadam", "Beta2"}},
		{"eps<0", "rmsprop", Config{Eps: -1e-8}, ErrConfig, []string{"rmsprop", "Eps"}},
		{"momentum>=1", "momentum", Config{Momentum: 1.5}, ErrConfig, []string{"momentum", "Momentum"}},
		{"rho", "adadelta", Config{Rho: 2}, ErrConfig, []string{"adadelta", "Rho"}},
		{"unused-field", "sgd", Config{Beta1: 0.9}, ErrConfig, []string{"sgd", "Beta1"}},
		{"negative-clip", "lion", Config{Options: Options{ClipNorm: -1}}, ErrConfig, []string{"lion", "ClipNorm"}},
		{"nan-decay", "adamw", Config{DecoupledDecay: math.NaN()}, ErrConfig, []string{"adamw", "DecoupledDecay"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.solver, c.cfg)
			require.ErrorIs(t, err, c.want)
			for _, w := range c.words {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	// A struct built by hand is validated at Step.
	s := &Adam{LearningRate: 0.1, Beta1: 0.9, Beta2: 0.999} // Eps 0
	err := s.Step(nil)
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), "Eps")
}

// TestStepGeneral runs every solver with all options in both dtypes and checks
// it against a float64 run (float32 within 1e-4 after 30 steps), that gradients
// are zeroed and that the weights moved.
func TestStepGeneral(t *testing.T) {
	pr := newProblem(3, 30, []int{9, 4}, []int{5})
	for name, cfg := range configs() {
		var ref [][]float64
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%s/%v/steps=30", name, dt), func(t *testing.T) {
				s, err := New(name, cfg)
				require.NoError(t, err)
				ps := pr.params(dt)
				var traj [][]float64
				for _, g := range pr.grads {
					ps.setGrads(g)
					require.NoError(t, s.Step(ps.model))
					for _, v := range ps.vars {
						for _, x := range getData(v.grad) {
							require.Zero(t, x, "gradient of %s not zeroed", v.name)
						}
					}
					traj = append(traj, concat(ps.values()))
				}
				require.Greater(t, relErr(traj[len(traj)-1], concat(pr.init)), 1e-4, "weights must move")
				if dt == tensor.Float64 {
					ref = traj
				} else {
					require.LessOrEqual(t, worstErr(traj, ref), 1e-4)
				}
			})
		}
	}
}

// TestClipNorm compares global-norm clipping with a plain float64 loop.
func TestClipNorm(t *testing.T) {
	pr := newProblem(5, 10, []int{30}, []int{20})
	s := NewSGD()
	s.LearningRate, s.ClipNorm, s.WeightDecay = 0.1, 2, 0.05
	got := run(t, s, pr, tensor.Float64)
	w := [][]float64{append([]float64(nil), pr.init[0]...), append([]float64(nil), pr.init[1]...)}
	for step, gs := range pr.grads {
		var sq float64
		pg := make([][]float64, 2)
		for p := range w {
			for i, g := range gs[p] {
				x := g + 0.05*w[p][i]
				pg[p] = append(pg[p], x)
				sq += x * x
			}
		}
		scale := 1.0
		if n := math.Sqrt(sq); n > 2 {
			scale = 2 / n
		}
		for p := range w {
			for i := range w[p] {
				w[p][i] -= 0.1 * pg[p][i] * scale
			}
		}
		require.LessOrEqual(t, relErr(got[step], concat(w)), 1e-13, "step %d", step)
	}
}

// TestParallelBitIdentical checks that splitting the work over 1, 2, 3 or 5
// goroutines gives bit-identical weights, including the global norm.
func TestParallelBitIdentical(t *testing.T) {
	pr := newProblem(17, 3, []int{3*grain + 123}, []int{1000})
	defer parallel.SetParallelism(parallel.SetParallelism(0))
	for name, cfg := range configs() {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v", name, dt), func(t *testing.T) {
				var first [][]float64
				for _, p := range []int{1, 2, 3, 5} {
					parallel.SetParallelism(p)
					s, err := New(name, cfg)
					require.NoError(t, err)
					got := run(t, s, pr, dt)
					if first == nil {
						first = got
						continue
					}
					require.Equal(t, first, got, "parallelism %d", p)
				}
			})
		}
	}
}

// TestStateRoundTrip exports the state after some steps, restores it into a
// fresh solver and checks both continue identically.
func TestStateRoundTrip(t *testing.T) {
	pr := newProblem(19, 20, []int{4, 3}, []int{3})
	for name, cfg := range configs() {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v", name, dt), func(t *testing.T) {
				a, err := New(name, cfg)
				require.NoError(t, err)
				pa := pr.params(dt)
				for _, g := range pr.grads[:10] {
					pa.setGrads(g)
					require.NoError(t, a.Step(pa.model))
				}
				st := a.State()
				require.Contains(t, st, "a/step")
				require.Equal(t, []float64{10}, st["a/step"].Float64s())
				b, err := New(name, cfg)
				require.NoError(t, err)
				require.NoError(t, b.SetState(st))
				require.Equal(t, st, b.State())
				pb := pr.params(dt)
				for i, v := range pb.vars {
					setData(v.value, getData(pa.vars[i].value))
				}
				for _, g := range pr.grads[10:] {
					pa.setGrads(g)
					pb.setGrads(g)
					require.NoError(t, a.Step(pa.model))
					require.NoError(t, b.Step(pb.model))
				}
				require.Equal(t, pa.values(), pb.values())
			})
		}
	}
}

func TestSetStateErrors(t *testing.T) {
	s := NewAdam()
	m := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32))
	step := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{3}))
	cases := []struct {
		name string
		st   map[string]*tensor.Dense
		key  string
	}{
		{"unknown-slot", map[string]*tensor.Dense{"w/momentum": m}, "w/momentum"},
		{"no-slash", map[string]*tensor.Dense{"step": step}, "step"},
		{"shape", map[string]*tensor.Dense{"w/m": m, "w/v": tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Float32))}, "w/v"},
		{"dtype", map[string]*tensor.Dense{"w/m": tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int))}, "w/m"},
		{"step-dtype", map[string]*tensor.Dense{"w/m": m, "w/step": tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float32))}, "w/step"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.SetState(c.st)
			require.ErrorIs(t, err, ErrState)
			require.Contains(t, err.Error(), c.key)
		})
	}
	// A restored state fixes the parameter's shape and dtype.
	require.NoError(t, s.SetState(map[string]*tensor.Dense{"w/m": m, "w/v": m, "w/step": step}))
	v := NewVar("w", tensor.New(tensor.WithShape(6), tensor.Of(tensor.Float32)), tensor.New(tensor.WithShape(6), tensor.Of(tensor.Float32)))
	require.ErrorIs(t, s.Step([]gorgonia.ValueGrad{v}), ErrShape)
}

func TestParamErrors(t *testing.T) {
	s := NewAdam()
	mk := func(name string, shape ...int) *Var {
		return NewVar(name, tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float64)), tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float64)))
	}
	require.NoError(t, s.Step([]gorgonia.ValueGrad{mk("w", 2, 3)}))
	err := s.Step([]gorgonia.ValueGrad{mk("w", 3, 2)})
	require.ErrorIs(t, err, ErrShape)
	require.Contains(t, err.Error(), `"w"`)

	err = s.Step([]gorgonia.ValueGrad{mk("", 2)})
	require.ErrorIs(t, err, ErrParam)
	err = s.Step([]gorgonia.ValueGrad{unnamed{mk("x", 2)}})
	require.ErrorIs(t, err, ErrParam)
	require.Contains(t, err.Error(), "Namer")
	err = s.Step([]gorgonia.ValueGrad{mk("d", 2), mk("d", 2)})
	require.ErrorIs(t, err, ErrParam)
	require.Contains(t, err.Error(), "twice")
	bad := NewVar("g", tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float64)), tensor.New(tensor.WithShape(3), tensor.Of(tensor.Float64)))
	err = s.Step([]gorgonia.ValueGrad{bad})
	require.ErrorIs(t, err, ErrParam)
	require.Contains(t, err.Error(), `"g"`)
}

// unnamed hides the Name method.
type unnamed struct{ v *Var }

func (u unnamed) Value() gorgonia.Value         { return u.v.Value() }
func (u unnamed) Grad() (gorgonia.Value, error) { return u.v.Grad() }

func TestSetLR(t *testing.T) {
	for _, n := range Names() {
		s, err := New(n, Config{})
		require.NoError(t, err)
		s.SetLR(0.123)
		require.Equal(t, 0.123, s.LR())
	}
}

// TestZeroAllocs checks that a steady-state Step allocates nothing, single-threaded
// (testing.AllocsPerRun runs with GOMAXPROCS 1) and with the parallel path.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for name, cfg := range configs() {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v", name, dt), func(t *testing.T) {
				s, err := New(name, cfg)
				require.NoError(t, err)
				ps := newParams(dt, []string{"big", "small"}, [][]int{{3 * grain}, {10}}, [][]float64{make([]float64, 3*grain), make([]float64, 10)})
				require.NoError(t, s.Step(ps.model))
				require.Zero(t, testing.AllocsPerRun(5, func() { _ = s.Step(ps.model) }))

				defer parallel.SetParallelism(parallel.SetParallelism(3))
				require.NoError(t, s.Step(ps.model)) // start the pool
				var before, after runtime.MemStats
				const steps = 50
				runtime.ReadMemStats(&before)
				for range steps {
					_ = s.Step(ps.model)
				}
				runtime.ReadMemStats(&after)
				// The runtime may allocate a goroutine-parking record (sudog) now
				// and then when a worker blocks (its per-P cache is emptied at
				// every GC; on a loaded machine 5 in 50 steps were seen); a Step
				// itself allocates nothing, and one that did would count ≥ 1 per step.
				require.Less(t, float64(after.Mallocs-before.Mallocs)/steps, 0.5)
			})
		}
	}
}

// TestErrorsAreSentinels provokes each sentinel from a real call.
func TestErrorsAreSentinels(t *testing.T) {
	_, err := New("adamm", Config{})
	require.ErrorIs(t, err, ErrUnknown)
	_, err = New("adam", Config{LR: -1})
	require.ErrorIs(t, err, ErrConfig)

	a := NewAdam()
	w := newParams(tensor.Float32, []string{"w"}, [][]int{{2}}, [][]float64{{1, 2}})
	require.NoError(t, a.Step(w.model))
	grown := newParams(tensor.Float32, []string{"w"}, [][]int{{3}}, [][]float64{{1, 2, 3}})
	err = a.Step(grown.model)
	require.ErrorIs(t, err, ErrShape, "w's state was made for (2)")
	assert.Contains(t, err.Error(), `parameter "w"`)

	mismatch := NewVar("v", dense(tensor.Float32, []int{2}, []float64{1, 2}), tensor.New(tensor.WithShape(3), tensor.Of(tensor.Float32)))
	err = NewAdam().Step([]gorgonia.ValueGrad{mismatch})
	require.ErrorIs(t, err, ErrParam, "a gradient of another shape")
	assert.Contains(t, err.Error(), `parameter "v"`)

	err = a.SetState(map[string]*tensor.Dense{"w/nonsense": dense(tensor.Float32, []int{2}, []float64{0, 0})})
	require.ErrorIs(t, err, ErrState)
	assert.Contains(t, err.Error(), "w/nonsense")
}

func TestDecayConfig(t *testing.T) {
	for name, decoupled := range map[string]bool{"adamw": true, "lion": true, "adam": false, "sgd": false, "rmsprop": false, "AdamW": true} {
		c, err := DecayConfig(name, 0.05)
		require.NoError(t, err)
		if decoupled {
			require.Equal(t, Config{DecoupledDecay: 0.05}, c, name)
		} else {
			require.Equal(t, Config{Options: Options{WeightDecay: 0.05}}, c, name)
		}
		c.LR = 0.01
		_, err = New(name, c)
		require.NoError(t, err, "%s takes the field DecayConfig chose", name)
	}
	_, err := DecayConfig("adamm", 0.05)
	require.ErrorIs(t, err, ErrUnknown)
}
