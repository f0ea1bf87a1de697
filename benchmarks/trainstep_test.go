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
	"github.com/gradlab/gradlab/models/cnn"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
)

// The training-step benchmark: one forward pass, one backward pass and one
// Adam step on a batch of 128 float32 examples, for the same network built
// with gradlab and written directly on Gorgonia. See TRAINING.md for the
// results and torch_trainstep.py for the PyTorch counterpart.

const trainBatch = 128

// trainModel is a benchmarked network: its gradlab model and the same
// network written directly on Gorgonia.
type trainModel struct {
	name     string
	example  []int // shape of one example
	classes  int
	gradlab  func() (*nn.Model, error)
	gorgonia func(g *gorgonia.ExprGraph, x *gorgonia.Node, param paramFunc) (*gorgonia.Node, error) // logits
}

// trainModels are the benchmarked networks, by benchmark name.
var trainModels = []trainModel{
	mlpModel("mlp-784-256-10", mlp.Config{Inputs: 784, Hidden: []int{256}, Classes: 10, Activation: "relu", Init: "he", Dtype: "float32", Seed: 1}),
	mlpModel("default", mlp.Default()),
	cnnModel("cnn-16-32-128", cnnStep),
}

// cnnStep is the CNN of the training-step benchmark: the default
// architecture without batch norm and dropout.
var cnnStep = cnn.Config{Input: []int{1, 28, 28}, Conv: []int{16, 32}, Kernel: 5, Dense: []int{128}, Classes: 10, Dtype: "float32", Seed: 1}

// stepper runs training steps on one fixed batch.
type stepper interface {
	step() error
	loss() float64
	close()
}

// trainData returns a fixed random batch: pixels in [0, 1) and labels in
// [0, classes).
func trainData(m trainModel, batch int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, batch*shapeSize(m.example))
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = r.IntN(m.classes)
	}
	return x, y
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// gradlabStep is a training step as `gradlab train` runs it: Program.Run and
// the fused Adam.
type gradlabStep struct {
	model  *nn.Model
	prog   *graph.Program
	solver solvers.Solver
	feeds  graph.Feeds
}

func newGradlabStep(tm trainModel, batch int) (*gradlabStep, error) {
	m, err := tm.gradlab()
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
	x, y := trainData(tm, batch)
	feeds := graph.Feeds{
		"x": tensor.New(tensor.WithShape(append([]int{batch}, tm.example...)...), tensor.WithBacking(x)),
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

// paramFunc makes a parameter of the hand-written network.
type paramFunc func(name string, shape ...int) *gorgonia.Node

// must keeps the first error of a chain of Gorgonia calls.
type must struct{ err error }

func (m *must) n(n *gorgonia.Node, err error) *gorgonia.Node {
	if m.err == nil && err != nil {
		m.err = err
	}
	return n
}

// mlpModel is an MLP: gradlab's models/mlp, and by hand Mul, BroadcastAdd,
// Rectify, Gorgonia's BatchNorm and Dropout.
func mlpModel(name string, cfg mlp.Config) trainModel {
	return trainModel{name: name, example: []int{cfg.Inputs}, classes: cfg.Classes,
		gradlab: func() (*nn.Model, error) { return mlp.New(cfg) },
		gorgonia: func(g *gorgonia.ExprGraph, x *gorgonia.Node, param paramFunc) (*gorgonia.Node, error) {
			var m must
			h, in := x, cfg.Inputs
			for i, units := range cfg.Hidden {
				w := param(fmt.Sprintf("fc%d/w", i+1), in, units)
				h = m.n(gorgonia.Mul(h, w))
				if cfg.BatchNorm {
					// γ and β of shape (1, units): Gorgonia's defaults are shaped
					// like the whole input and Glorot-initialised.
					gamma := param(fmt.Sprintf("bn%d/gamma", i+1), 1, units)
					gamma.Value().(*tensor.Dense).Memset(float32(1))
					beta := param(fmt.Sprintf("bn%d/beta", i+1), 1, units)
					out, _, _, _, e := gorgonia.BatchNorm(h, gamma, beta, 0.1, 1e-5)
					h = m.n(out, e)
				} else {
					bias := param(fmt.Sprintf("fc%d/b", i+1), units)
					h = m.n(gorgonia.BroadcastAdd(h, bias, nil, []byte{0}))
				}
				h = m.n(gorgonia.Rectify(h))
				if cfg.Dropout > 0 {
					h = m.n(gorgonia.Dropout(h, cfg.Dropout))
				}
				in = units
			}
			w := param("out/w", in, cfg.Classes)
			bias := param("out/b", cfg.Classes)
			return m.n(gorgonia.BroadcastAdd(m.n(gorgonia.Mul(h, w)), bias, nil, []byte{0})), m.err
		}}
}

// cnnModel is a CNN: gradlab's models/cnn, and by hand Gorgonia's Conv2d,
// MaxPool2D, Reshape and Mul, with the biases added by BroadcastAdd.
func cnnModel(name string, cfg cnn.Config) trainModel {
	return trainModel{name: name, example: cfg.Input, classes: cfg.Classes,
		gradlab: func() (*nn.Model, error) { return cnn.New(cfg) },
		gorgonia: func(g *gorgonia.ExprGraph, x *gorgonia.Node, param paramFunc) (*gorgonia.Node, error) {
			var m must
			h, in := x, cfg.Input[0]
			k, p := cfg.Kernel, cfg.Kernel/2
			for i, ch := range cfg.Conv {
				w := param(fmt.Sprintf("conv%d/w", i+1), ch, in, k, k)
				bias := param(fmt.Sprintf("conv%d/b", i+1), ch)
				h = m.n(gorgonia.Conv2d(h, w, tensor.Shape{k, k}, []int{p, p}, []int{1, 1}, []int{1, 1}))
				if m.err != nil {
					return nil, m.err
				}
				b4 := m.n(gorgonia.Reshape(bias, tensor.Shape{1, ch, 1, 1}))
				h = m.n(gorgonia.BroadcastAdd(h, b4, nil, []byte{0, 2, 3}))
				h = m.n(gorgonia.Rectify(h))
				h = m.n(gorgonia.MaxPool2D(h, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
				in = ch
			}
			if m.err != nil {
				return nil, m.err
			}
			s := h.Shape()
			h = m.n(gorgonia.Reshape(h, tensor.Shape{s[0], s[1] * s[2] * s[3]}))
			in = s[1] * s[2] * s[3]
			for i, units := range cfg.Dense {
				w := param(fmt.Sprintf("fc%d/w", i+1), in, units)
				bias := param(fmt.Sprintf("fc%d/b", i+1), units)
				h = m.n(gorgonia.Rectify(m.n(gorgonia.BroadcastAdd(m.n(gorgonia.Mul(h, w)), bias, nil, []byte{0}))))
				in = units
			}
			w := param("out/w", in, cfg.Classes)
			bias := param("out/b", cfg.Classes)
			return m.n(gorgonia.BroadcastAdd(m.n(gorgonia.Mul(h, w)), bias, nil, []byte{0})), m.err
		}}
}

// newGorgoniaStep builds the network of tm by hand on Gorgonia, with a
// one-hot cross-entropy of LogSoftMax, a TapeMachine with BindDualValues and
// Gorgonia's AdamSolver. init, when not nil, gives the initial value of each
// parameter in the order the gradlab model creates them (to check that both
// compute the same thing); otherwise weights are He-normal (fan_in =
// product of all but the first dimension for a filter, the first for a
// matrix) and biases zero.
func newGorgoniaStep(tm trainModel, batch int, init []*tensor.Dense) (s *gorgoniaStep, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("gorgonia panicked: %v", r)
		}
	}()
	g := gorgonia.NewGraph()
	dt := tensor.Float32
	s = &gorgoniaStep{}
	xshape := append([]int{batch}, tm.example...)
	s.x = gorgonia.NewTensor(g, dt, len(xshape), gorgonia.WithShape(xshape...), gorgonia.WithName("x"))
	s.y = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(batch, tm.classes), gorgonia.WithName("y"))
	r := rand.New(rand.NewPCG(1, 2))
	param := func(name string, shape ...int) *gorgonia.Node {
		var v *tensor.Dense
		if len(init) > 0 {
			v, init = init[0].Clone().(*tensor.Dense), init[1:]
		} else {
			v = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
			if len(shape) >= 2 {
				fanIn := shape[0]
				if len(shape) > 2 {
					fanIn = shapeSize(shape[1:])
				}
				std := math.Sqrt(2 / float64(fanIn))
				for i, d := 0, v.Data().([]float32); i < len(d); i++ {
					d[i] = float32(r.NormFloat64() * std)
				}
			}
		}
		n := gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
		s.params = append(s.params, n)
		return n
	}
	logits, err := tm.gorgonia(g, s.x, param)
	if err != nil {
		return nil, err
	}
	var m must
	logp := m.n(gorgonia.LogSoftMax(logits))
	// mean over the batch of −Σ_k y_k log p_k
	s.lossN = m.n(gorgonia.Neg(m.n(gorgonia.Mean(m.n(gorgonia.Sum(m.n(gorgonia.HadamardProd(s.y, logp)), 1))))))
	if m.err != nil {
		return nil, m.err
	}
	if _, err := gorgonia.Grad(s.lossN, s.params...); err != nil {
		return nil, err
	}
	s.vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(s.params...))
	s.solver = gorgonia.NewAdamSolver(gorgonia.WithLearnRate(1e-3))
	x, y := trainData(tm, batch)
	s.xv = tensor.New(tensor.WithShape(xshape...), tensor.WithBacking(x))
	onehot := make([]float32, batch*tm.classes)
	for i, c := range y {
		onehot[i*tm.classes+c] = 1
	}
	s.yv = tensor.New(tensor.WithShape(batch, tm.classes), tensor.WithBacking(onehot))
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

func newStepper(impl string, tm trainModel, batch int) (stepper, error) {
	switch impl {
	case "gradlab":
		return newGradlabStep(tm, batch)
	case "gorgonia":
		return newGorgoniaStep(tm, batch, nil)
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
				s, err := newStepper(impl, m, trainBatch)
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
	for _, tm := range []trainModel{trainModels[0], trainModels[2]} {
		t.Run(tm.name, func(t *testing.T) { sameNetwork(t, tm) })
	}
}

func sameNetwork(t *testing.T, tm trainModel) {
	gl, err := newGradlabStep(tm, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer gl.close()
	var init []*tensor.Dense
	for _, n := range gl.prog.Params() {
		init = append(init, n.Value().(*tensor.Dense))
	}
	gg, err := newGorgoniaStep(tm, 16, init)
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
				s, err := newStepper(impl, m, 32)
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
