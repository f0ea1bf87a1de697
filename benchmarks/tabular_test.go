package benchmarks

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/models/tabular"
	"github.com/gradlab/gradlab/solvers"
)

// The tabular training-step benchmark (issue 22): one forward pass, one
// backward pass and one AdamW step (lr 0.002, decoupled decay 0.05, the
// tabular defaults) of the tabular MLP 50-[256 256] at batch 256, float32,
// as a regressor (MSE, one output rescaled to the target's units) and as a
// 2-class classifier (cross-entropy). torch_tabular_step.py is the PyTorch
// counterpart, interleaved round by round; TABULAR.md has the results.

const (
	tabStepInputs = 50
	tabStepBatch  = 256
)

// tabStepConfig is the benchmarked network: the standardization fitted on
// data of mean 0 and standard deviation 1 (an identity, computed anyway),
// classes 0 for the regressor.
func tabStepConfig(classes int) tabular.Config {
	c := tabular.Config{Inputs: tabStepInputs, Classes: classes, Hidden: []int{256, 256}, Dtype: "float32", Seed: 1,
		Mean: make([]float64, tabStepInputs), Std: make([]float64, tabStepInputs)}
	for i := range c.Std {
		c.Std[i] = 1
	}
	if classes == 0 {
		c.TargetStd = 1
	}
	return c
}

// tabStepData is a fixed batch: standard normal features; targets a noisy
// linear function of them (regressor) or its sign (classifier).
func tabStepData(classes, batch int) (x []float32, y any) {
	r := rand.New(rand.NewPCG(7, 8))
	x = make([]float32, batch*tabStepInputs)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	w := make([]float64, tabStepInputs)
	for i := range w {
		w[i] = r.NormFloat64() / math.Sqrt(tabStepInputs)
	}
	v := make([]float32, batch)
	labels := make([]int, batch)
	for i := range v {
		s := 0.1 * r.NormFloat64()
		for j, wj := range w {
			s += wj * float64(x[i*tabStepInputs+j])
		}
		v[i] = float32(s)
		if s > 0 {
			labels[i] = 1
		}
	}
	if classes == 0 {
		return x, v
	}
	return x, labels
}

// newTabStep returns a training step as `gradlab train` runs it:
// Program.Run and the fused AdamW.
func newTabStep(classes, batch int) (*gradlabStep, error) {
	m, err := tabular.New(tabStepConfig(classes))
	if err != nil {
		return nil, err
	}
	p, err := m.Program(batch)
	if err != nil {
		m.Close()
		return nil, err
	}
	s, err := solvers.New("adamw", solvers.Config{LR: 0.002, DecoupledDecay: 0.05})
	if err != nil {
		m.Close()
		return nil, err
	}
	x, y := tabStepData(classes, batch)
	feeds := graph.Feeds{
		"x": tensor.New(tensor.WithShape(batch, tabStepInputs), tensor.WithBacking(x)),
		"y": tensor.New(tensor.WithShape(batch), tensor.WithBacking(y)),
	}
	return &gradlabStep{model: m, prog: p, solver: s, feeds: feeds}, nil
}

// tabStepTasks are the benchmarked heads: name and classes.
var tabStepTasks = []struct {
	name    string
	classes int
}{{"regression", 0}, {"classification", 2}}

// BenchmarkTabularTrainStep times one training step of the tabular MLP
// 50-[256 256] at batch 256 (forward, backward, AdamW). samples/s is
// batch·iterations / elapsed time.
func BenchmarkTabularTrainStep(b *testing.B) {
	for _, task := range tabStepTasks {
		b.Run(task.name+"/gradlab", func(b *testing.B) {
			s, err := newTabStep(task.classes, tabStepBatch)
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
			b.ReportMetric(float64(tabStepBatch*b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestTabularTrainStepLearns checks that the benchmarked step trains: on
// its fixed batch the loss falls by at least half in 30 steps.
func TestTabularTrainStepLearns(t *testing.T) {
	for _, task := range tabStepTasks {
		t.Run(task.name, func(t *testing.T) {
			s, err := newTabStep(task.classes, 64)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			var first float64
			for i := range 30 {
				if err := s.step(); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = s.loss()
				}
			}
			if last := s.loss(); !(last < first/2) {
				t.Errorf("loss %v after 30 steps, %v after the first: want less than half", last, first)
			}
		})
	}
}
