package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

// Net describes the fully connected ReLU/tanh networks of the MNIST
// experiments: 784 inputs, Hidden layers, 10 logits, built as an MLP
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

// Curve is what a run produced: the mini-batch loss of every step (Train
// mode, as the optimizer saw it) and the metrics after every epoch.
type Curve struct {
	Name     string
	StepLoss []float64
	// Epochs are the metrics after every epoch, measured in Eval mode (no
	// dropout, batch-norm running statistics) on the whole training subset
	// and the test subset (train.Config.EvalTrain).
	Epochs []train.Epoch
	// Diverged reports a NaN or infinite loss; the run stopped there, and its
	// last StepLoss is that loss.
	Diverged bool
}

// Final returns the metrics of the last epoch.
func (c Curve) Final() train.Epoch {
	if len(c.Epochs) == 0 {
		return train.Epoch{}
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
		s += e.Train.Get("acc") - e.Test.Get("acc")
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

// model builds n as an MLP (784 inputs, 10 classes, float32) with the
// weights drawn from n.Init.
func (n Net) model(seed uint64) (*nn.Model, error) {
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

// fit trains r on data with the trainer, seeded by seed: the initial
// weights, the dropout masks and the permutation of every epoch follow from
// it. Each epoch takes ⌊N/Batch⌋ full batches (the remainder of the
// permutation is dropped, so every step has the same batch size), then
// evaluates the training and test subsets in Eval mode. A NaN or infinite
// loss ends the run early; the curve then holds the steps so far and the
// error is nil (diverging is a result, not a failure).
func fit(ctx context.Context, r Setup, data train.Data, seed uint64) (Curve, error) {
	c := Curve{Name: r.Name}
	if data.Train == nil || data.Test == nil {
		return c, fmt.Errorf("%w: %s: training and test data are required", ErrConfig, r.Name)
	}
	if r.Batch < 1 || r.Batch > data.Train.Len() || r.Epochs < 1 {
		return c, fmt.Errorf("%w: %s: batch %d of %d training images, %d epochs", ErrConfig, r.Name, r.Batch, data.Train.Len(), r.Epochs)
	}
	m, err := r.Net.model(seed)
	if err != nil {
		return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
	}
	defer m.Close()
	cfg := train.Config{Epochs: r.Epochs, Batch: r.Batch, DropLast: true, EvalTrain: true,
		Optimizer: r.Solver, Solver: r.Config, Seed: seed}
	res, err := train.Train(ctx, cfg, m, data, train.Options{
		OnStep: func(s train.Step) error { c.StepLoss = append(c.StepLoss, s.Loss); return nil },
	})
	if res != nil {
		c.Epochs = res.Epochs
	}
	if errors.Is(err, train.ErrDiverged) {
		c.Diverged = true
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("experiments: %s: %w", r.Name, err)
	}
	return c, nil
}
