package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
)

// The training-step benchmark: one forward pass, one backward pass and one
// Adam step on a batch of 128 float32 examples, for the same network built
// with gradlab and written directly on Gorgonia. See TRAINING.md for the
// results and torch_trainstep.py for the PyTorch counterpart.

const trainBatch = 128

// trainModels are the benchmarked networks, by benchmark name.
var trainModels = []struct {
	name string
	cfg  mlp.Config
}{
	{"mlp-784-256-10", mlp.Config{Inputs: 784, Hidden: []int{256}, Classes: 10, Activation: "relu", Init: "he", Dtype: "float32", Seed: 1}},
	{"default", mlp.Default()},
}

// stepper runs training steps on one fixed batch.
type stepper interface {
	step() error
	loss() float64
	close()
}

// trainData returns a fixed random batch: pixels in [0, 1) and labels in
// [0, classes).
func trainData(cfg mlp.Config, batch int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, batch*cfg.Inputs)
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = r.IntN(cfg.Classes)
	}
	return x, y
}

// gradlabStep is a training step as `gradlab train` runs it: Program.Run and
// the fused Adam.
type gradlabStep struct {
	model  *nn.Model
	prog   *graph.Program
	solver solvers.Solver
	feeds  graph.Feeds
}

func newGradlabStep(cfg mlp.Config, batch int) (*gradlabStep, error) {
	m, err := mlp.New(cfg)
	if err != nil {
		return nil, err
	}
	p, err := m.Program(batch)
	if err != nil {
		return nil, err
	}
	s, err := solvers.New("adam", solvers.Config{})
	if err != nil {
		return nil, err
	}
	x, y := trainData(cfg, batch)
	feeds := graph.Feeds{
		"x": tensor.New(tensor.WithShape(batch, cfg.Inputs), tensor.WithBacking(x)),
		"y": tensor.New(tensor.WithShape(batch), tensor.WithBacking(y)),
	}
	return &gradlabStep{model: m, prog: p, solver: s, feeds: feeds}, nil
}

func (s *gradlabStep) step() error {
	if err := s.prog.Run(s.feeds); err != nil {
		return err
	}
	return s.solver.Step(s.prog.Learnables())
}

func (s *gradlabStep) loss() float64 { return s.prog.Loss() }
func (s *gradlabStep) close()        { s.model.Close() }

// gorgoniaStep is the same network written by hand on Gorgonia: Mul,
// BroadcastAdd, Rectify, LogSoftMax and a one-hot cross-entropy, Gorgonia's
// BatchNorm and Dropout for the default model, a TapeMachine with
// BindDualValues and Gorgonia's AdamSolver.
type gorgoniaStep struct {
	vm     gorgonia.VM
	solver gorgonia.Solver
	x, y   *gorgonia.Node
	xv, yv *tensor.Dense
	lossN  *gorgonia.Node
	params gorgonia.Nodes
}

// newGorgoniaStep builds the network of cfg by hand. init, when not nil,
// gives the initial value of each weight matrix and bias by layer (the
// gradlab model's, to check that both compute the same thing); otherwise
// weights are He-normal and biases zero.
func newGorgoniaStep(cfg mlp.Config, batch int, init []*tensor.Dense) (*gorgoniaStep, error) {
	g := gorgonia.NewGraph()
	dt := tensor.Float32
	s := &gorgoniaStep{}
	s.x = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(batch, cfg.Inputs), gorgonia.WithName("x"))
	s.y = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(batch, cfg.Classes), gorgonia.WithName("y"))
	r := rand.New(rand.NewPCG(1, 2))
	param := func(name string, shape ...int) *gorgonia.Node {
		var v *tensor.Dense
		if len(init) > 0 {
			v, init = init[0].Clone().(*tensor.Dense), init[1:]
		} else {
			v = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
			if len(shape) == 2 {
				std := math.Sqrt(2 / float64(shape[0]))
				for i, d := 0, v.Data().([]float32); i < len(d); i++ {
					d[i] = float32(r.NormFloat64() * std)
				}
			}
		}
		n := gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
		s.params = append(s.params, n)
		return n
	}
	h, in := s.x, cfg.Inputs
	var err error
	must := func(n *gorgonia.Node, e error) *gorgonia.Node {
		if err == nil && e != nil {
			err = e
		}
		return n
	}
	for i, units := range cfg.Hidden {
		w := param(fmt.Sprintf("fc%d/w", i+1), in, units)
		h = must(gorgonia.Mul(h, w))
		if cfg.BatchNorm {
			// γ and β of shape (1, units): Gorgonia's defaults are shaped
			// like the whole input and Glorot-initialised.
			gamma := param(fmt.Sprintf("bn%d/gamma", i+1), 1, units)
			gamma.Value().(*tensor.Dense).Memset(float32(1))
			beta := param(fmt.Sprintf("bn%d/beta", i+1), 1, units)
			var out *gorgonia.Node
			out, _, _, _, e := gorgonia.BatchNorm(h, gamma, beta, 0.1, 1e-5)
			h = must(out, e)
		} else {
			bias := param(fmt.Sprintf("fc%d/b", i+1), units)
			h = must(gorgonia.BroadcastAdd(h, bias, nil, []byte{0}))
		}
		h = must(gorgonia.Rectify(h))
		if cfg.Dropout > 0 {
			h = must(gorgonia.Dropout(h, cfg.Dropout))
		}
		in = units
	}
	w := param("out/w", in, cfg.Classes)
	bias := param("out/b", cfg.Classes)
	logits := must(gorgonia.BroadcastAdd(must(gorgonia.Mul(h, w)), bias, nil, []byte{0}))
	logp := must(gorgonia.LogSoftMax(logits))
	// mean over the batch of −Σ_k y_k log p_k
	s.lossN = must(gorgonia.Neg(must(gorgonia.Mean(must(gorgonia.Sum(must(gorgonia.HadamardProd(s.y, logp)), 1))))))
	if err != nil {
		return nil, err
	}
	if _, err := gorgonia.Grad(s.lossN, s.params...); err != nil {
		return nil, err
	}
	s.vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(s.params...))
	s.solver = gorgonia.NewAdamSolver(gorgonia.WithLearnRate(1e-3))
	x, y := trainData(cfg, batch)
	s.xv = tensor.New(tensor.WithShape(batch, cfg.Inputs), tensor.WithBacking(x))
	onehot := make([]float32, batch*cfg.Classes)
	for i, c := range y {
		onehot[i*cfg.Classes+c] = 1
	}
	s.yv = tensor.New(tensor.WithShape(batch, cfg.Classes), tensor.WithBacking(onehot))
	return s, nil
}

func (s *gorgoniaStep) step() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gorgonia panicked: %v", r)
		}
	}()
	s.vm.Reset()
	if err := gorgonia.Let(s.x, s.xv); err != nil {
		return err
	}
	if err := gorgonia.Let(s.y, s.yv); err != nil {
		return err
	}
	if err := s.vm.RunAll(); err != nil {
		return err
	}
	return s.solver.Step(gorgonia.NodesToValueGrads(s.params))
}

func (s *gorgoniaStep) loss() float64 {
	switch v := s.lossN.Value().Data().(type) {
	case float32:
		return float64(v)
	case []float32:
		return float64(v[0])
	}
	return math.NaN()
}

func (s *gorgoniaStep) close() { s.vm.Close() }

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func newStepper(impl string, cfg mlp.Config, batch int) (stepper, error) {
	switch impl {
	case "gradlab":
		return newGradlabStep(cfg, batch)
	case "gorgonia":
		return newGorgoniaStep(cfg, batch, nil)
	}
	return nil, fmt.Errorf("unknown implementation %q", impl)
}

// BenchmarkTrainStep times one training step (forward, backward, Adam) at
// batch 128, float32. samples/s is batch·iterations / elapsed time; the
// allocations are those of a warmed-up step.
func BenchmarkTrainStep(b *testing.B) {
	for _, m := range trainModels {
		for _, impl := range []string{"gradlab", "gorgonia"} {
			b.Run(m.name+"/"+impl, func(b *testing.B) {
				s, err := newStepper(impl, m.cfg, trainBatch)
				if err != nil {
					b.Fatal(err)
				}
				defer s.close()
				for range 3 { // warm up: solver state, buffers
					if err := s.step(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if err := s.step(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(trainBatch*b.N)/b.Elapsed().Seconds(), "samples/s")
				// CPU time of the process (all threads) per step: the work
				// done, less sensitive than ns/op to other processes on a
				// loaded machine (it includes BLAS threads' spinning).
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// TestTrainStepSameNetwork checks that the hand-written Gorgonia network is
// the gradlab one: from the same weights, both give the same loss for a few
// Adam steps.
func TestTrainStepSameNetwork(t *testing.T) {
	cfg := trainModels[0].cfg
	gl, err := newGradlabStep(cfg, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer gl.close()
	var init []*tensor.Dense
	for _, n := range gl.prog.Params() {
		init = append(init, n.Value().(*tensor.Dense))
	}
	gg, err := newGorgoniaStep(cfg, 16, init)
	if err != nil {
		t.Fatal(err)
	}
	defer gg.close()
	for i := range 5 {
		if err := gl.step(); err != nil {
			t.Fatal(err)
		}
		if err := gg.step(); err != nil {
			t.Fatal(err)
		}
		a, b := gl.loss(), gg.loss()
		t.Logf("step %d: gradlab %.6f gorgonia %.6f", i, a, b)
		if math.Abs(a-b) > 1e-4*math.Max(1, math.Abs(b)) {
			t.Fatalf("step %d: loss gradlab %v, gorgonia %v", i, a, b)
		}
	}
}

// TestTrainStepRuns checks that every benchmarked step runs and its loss
// goes down on a fixed batch.
func TestTrainStepRuns(t *testing.T) {
	for _, m := range trainModels {
		for _, impl := range []string{"gradlab", "gorgonia"} {
			t.Run(m.name+"/"+impl, func(t *testing.T) {
				s, err := newStepper(impl, m.cfg, 32)
				if err != nil {
					t.Fatal(err)
				}
				defer s.close()
				var first float64
				for i := range 20 {
					if err := s.step(); err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = s.loss()
					}
				}
				if last := s.loss(); !(last < first) {
					t.Errorf("loss %v after 20 steps, %v after the first", last, first)
				}
			})
		}
	}
}
