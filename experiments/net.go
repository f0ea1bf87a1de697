package experiments

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

// Net describes the fully connected ReLU/tanh networks of the MNIST
// experiments: 784 inputs, Hidden layers, 10 logits, built as an mlp.Model
// (hidden layers x·W + b, or x·W then batch norm) from any initializer value
// (the batch-norm experiment sweeps the weight scale).
type Net struct {
	Hidden     []int
	Activation string // relu or tanh
	Init       initializers.Init
	BatchNorm  bool
	Dropout    float64 // drop probability after each hidden activation
}

// Setup is one training run of a Net on MNIST.
type Setup struct {
	Name   string
	Group  string // panel of the figure, when runs are compared in groups
	Net    Net
	Solver string // solvers.New name
	Config solvers.Config
	Batch  int
	Epochs int
}

// EpochMetrics are a run's numbers after an epoch, measured in Eval mode
// (no dropout, batch-norm running statistics) on the whole training subset
// and the test subset.
type EpochMetrics struct {
	Epoch               int
	TrainLoss, TrainAcc float64
	TestLoss, TestAcc   float64
}

// Curve is what a run produced: the mini-batch loss of every step (Train
// mode, as the optimizer saw it) and the metrics after every epoch.
type Curve struct {
	Name     string
	StepLoss []float64
	Epochs   []EpochMetrics
	// Diverged reports a NaN or infinite loss; the run stopped there, and its
	// last StepLoss is that loss.
	Diverged bool
}

// Final returns the metrics of the last epoch.
func (c Curve) Final() EpochMetrics {
	if len(c.Epochs) == 0 {
		return EpochMetrics{TrainLoss: math.NaN(), TrainAcc: math.NaN(), TestLoss: math.NaN(), TestAcc: math.NaN()}
	}
	return c.Epochs[len(c.Epochs)-1]
}

// GapTail returns the mean of train minus test accuracy over the last k
// epochs.
func (c Curve) GapTail(k int) float64 {
	k = min(k, len(c.Epochs))
	if k == 0 {
		return math.NaN()
	}
	var s float64
	for _, e := range c.Epochs[len(c.Epochs)-k:] {
		s += e.TrainAcc - e.TestAcc
	}
	return s / float64(k)
}

// MeanLoss returns the mean step loss over steps [lo, hi).
func (c Curve) MeanLoss(lo, hi int) float64 {
	lo, hi = max(lo, 0), min(hi, len(c.StepLoss))
	if hi <= lo {
		return math.NaN()
	}
	var s float64
	for _, v := range c.StepLoss[lo:hi] {
		s += v
	}
	return s / float64(hi-lo)
}

// model builds n as an mlp.Model (784 inputs, 10 classes, float32) with
// the weights drawn from n.Init.
func (n Net) model(seed uint64) (*mlp.Model, error) {
	act := n.Activation
	if act == "" {
		act = "relu"
	}
	cfg := mlp.Config{Inputs: 784, Hidden: n.Hidden, Classes: 10, Activation: act, Init: n.Init.String(),
		BatchNorm: n.BatchNorm, Dropout: n.Dropout, Dtype: "float32", Seed: seed}
	m, err := mlp.NewWithInit(cfg, n.Init)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return m, nil
}

// batchBuf is a reusable batch of float32 images and labels.
type batchBuf struct {
	x     []float32
	y     []int
	pred  []int
	feeds graph.Feeds
}

func newBatchBuf(n int) *batchBuf {
	b := &batchBuf{x: make([]float32, n*784), y: make([]int, n), pred: make([]int, n)}
	b.feeds = graph.Feeds{
		"x": tensor.New(tensor.WithShape(n, 784), tensor.WithBacking(b.x)),
		"y": tensor.New(tensor.WithShape(n), tensor.WithBacking(b.y)),
	}
	return b
}

// fit trains r on data, seeded by seed: the permutation of epoch e, the
// initial weights and the dropout masks all follow from it. Each epoch takes
// ⌊N/Batch⌋ full batches (the remainder of the permutation is skipped, so
// every step has the same batch size), then evaluates. A NaN or infinite
// loss ends the run early; the curve then holds the steps so far and the
// error is nil (diverging is a result, not a failure).
func fit(ctx context.Context, r Setup, data train.Data, seed uint64) (Curve, error) {
	c := Curve{Name: r.Name}
	if data.Train == nil || data.Test == nil {
		return c, fmt.Errorf("%w: %s: training and test data are required", ErrConfig, r.Name)
	}
	if r.Batch < 1 || r.Batch > data.Train.N || r.Epochs < 1 {
		return c, fmt.Errorf("%w: %s: batch %d of %d training images, %d epochs", ErrConfig, r.Name, r.Batch, data.Train.N, r.Epochs)
	}
	if data.Train.Features() != 784 {
		return c, fmt.Errorf("%w: %s: images have %d pixels, want 784", ErrConfig, r.Name, data.Train.Features())
	}
	sv, err := solvers.New(r.Solver, r.Config)
	if err != nil {
		return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
	}
	n, err := r.Net.model(seed)
	if err != nil {
		return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
	}
	defer n.Close()
	prog, err := n.Program(r.Batch)
	if err != nil {
		return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
	}
	buf := newBatchBuf(r.Batch)
	steps := data.Train.N / r.Batch
	for epoch := 1; epoch <= r.Epochs; epoch++ {
		n.SetMode(graph.Train)
		perm := rand.New(rand.NewPCG(seed, 0xe90c+uint64(epoch))).Perm(data.Train.N)
		for s := range steps {
			if err := ctx.Err(); err != nil {
				return c, err
			}
			if err := mnist.Gather(data.Train, perm[s*r.Batch:(s+1)*r.Batch], mnist.Unit, buf.x, buf.y); err != nil {
				return c, err
			}
			if err := prog.Run(buf.feeds); err != nil {
				return c, fmt.Errorf("experiments: %s: epoch %d step %d: %w", r.Name, epoch, s, err)
			}
			loss := prog.Loss()
			c.StepLoss = append(c.StepLoss, loss)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				c.Diverged = true
				return c, nil
			}
			if err := sv.Step(prog.Learnables()); err != nil {
				return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
			}
		}
		e := EpochMetrics{Epoch: epoch}
		if e.TrainLoss, e.TrainAcc, err = evaluate(n, data.Train); err != nil {
			return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
		}
		if e.TestLoss, e.TestAcc, err = evaluate(n, data.Test); err != nil {
			return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
		}
		c.Epochs = append(c.Epochs, e)
	}
	return c, nil
}

// evaluate returns the mean loss and accuracy of n on d in Eval mode.
func evaluate(n *mlp.Model, d *mnist.Dataset) (loss, acc float64, err error) {
	n.SetMode(graph.Eval)
	defer n.SetMode(graph.Train)
	const eb = 500
	bufs := map[int]*batchBuf{}
	idx := make([]int, eb)
	correct := 0
	for lo := 0; lo < d.N; lo += eb {
		m := min(eb, d.N-lo)
		for i := range m {
			idx[i] = lo + i
		}
		buf, ok := bufs[m]
		if !ok {
			buf = newBatchBuf(m)
			bufs[m] = buf
		}
		if err := mnist.Gather(d, idx[:m], mnist.Unit, buf.x, buf.y); err != nil {
			return 0, 0, err
		}
		p, err := n.Program(m)
		if err != nil {
			return 0, 0, err
		}
		if err := p.Run(buf.feeds); err != nil {
			return 0, 0, err
		}
		loss += p.Loss() * float64(m)
		if err := mlp.Predict(p.Output(0), buf.pred); err != nil {
			return 0, 0, err
		}
		for i, y := range buf.y {
			if buf.pred[i] == y {
				correct++
			}
		}
	}
	if d.N == 0 {
		return math.NaN(), math.NaN(), nil
	}
	return loss / float64(d.N), float64(correct) / float64(d.N), nil
}
