package experiments

import (
	"context"
	"fmt"
	"math"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

// CurvesResult is an MNIST experiment: several training runs on the same
// data, network shape and seed, and what each produced.
type CurvesResult struct {
	Experiment    string // optimizers-mnist, init-mnist, batchnorm, overfit
	TrainN, TestN int    // images used
	Seed          uint64
	Runs          []Setup
	Curves        []Curve // Curves[i] is Runs[i]'s
}

// Curve returns the curve of the named run, or nil.
func (r *CurvesResult) Curve(name string) *Curve {
	for i := range r.Curves {
		if r.Curves[i].Name == name {
			return &r.Curves[i]
		}
	}
	return nil
}

// size is the data and length of an MNIST experiment in one mode.
type size struct{ train, test, epochs int }

func pick(quick bool, full, q size) size {
	if quick {
		return q
	}
	return full
}

// runAll fits every run on the first s.train training and s.test test images.
func runAll(ctx context.Context, name string, data train.Data, s size, opt Options, runs []Setup) (*CurvesResult, error) {
	if data.Train == nil || data.Test == nil {
		return nil, fmt.Errorf("%w: %s: training and test data are required", ErrConfig, name)
	}
	tr, err := datasets.Head(data.Train, s.train)
	if err != nil {
		return nil, err
	}
	te, err := datasets.Head(data.Test, s.test)
	if err != nil {
		return nil, err
	}
	res := &CurvesResult{Experiment: name, TrainN: tr.Len(), TestN: te.Len(), Seed: opt.Seed, Runs: runs}
	for _, r := range runs {
		if r.Epochs == 0 {
			r.Epochs = s.epochs
		}
		c, err := fit(ctx, r, train.Data{Train: tr, Test: te}, opt.Seed)
		if err != nil {
			return nil, err
		}
		res.Curves = append(res.Curves, c)
	}
	for i := range res.Runs {
		if res.Runs[i].Epochs == 0 {
			res.Runs[i].Epochs = s.epochs
		}
	}
	return res, nil
}

var (
	heInit    = initializers.Must(initializers.HeNormal(math.Sqrt2))
	smallInit = initializers.Must(initializers.Normal(0, 0.01))
)

// four100 is the 5-layer network (4 hidden layers of 100 units) of the
// optimizer and initialization comparisons in Saito's "Deep Learning from
// Scratch", which lecture-style slides reproduce.
var four100 = []int{100, 100, 100, 100}

// OptimizerRuns returns the runs of OptimizersMNIST: a 784-100-100-100-100-10
// ReLU network, He initialization, batches of 128, and each optimizer at a
// usual learning rate: SGD 0.01, Momentum and Nesterov 0.01 (μ 0.9), AdaGrad
// 0.01, RMSProp 0.001 (ρ 0.99), Adadelta 1 (ρ 0.9, ε 1e-6: PyTorch's
// defaults) and Adam 0.001.
func OptimizerRuns() []Setup {
	net := Net{Hidden: four100, Activation: "relu", Init: heInit}
	mk := func(name, solver string, cfg solvers.Config) Setup {
		return Setup{Name: name, Net: net, Solver: solver, Config: cfg, Batch: 128}
	}
	return []Setup{
		mk("SGD", "sgd", solvers.Config{LR: 0.01}),
		mk("Momentum", "momentum", solvers.Config{LR: 0.01, Momentum: 0.9}),
		mk("Nesterov", "nesterov", solvers.Config{LR: 0.01, Momentum: 0.9}),
		mk("AdaGrad", "adagrad", solvers.Config{LR: 0.01}),
		mk("RMSProp", "rmsprop", solvers.Config{LR: 0.001, Rho: 0.99}),
		mk("Adadelta", "adadelta", solvers.Config{LR: 1}),
		mk("Adam", "adam", solvers.Config{LR: 0.001}),
	}
}

// OptimizersMNIST trains OptimizerRuns on MNIST from the same initial
// weights and batch order: the first 10 000 training images for 12 epochs
// (936 steps), evaluated on the first 2 000 test images; Quick: 2 000
// images, 3 epochs (45 steps), 500 test images.
func OptimizersMNIST(ctx context.Context, data train.Data, opt Options) (*CurvesResult, error) {
	s := pick(opt.Quick, size{10000, 2000, 12}, size{2000, 500, 3})
	return runAll(ctx, "optimizers-mnist", data, s, opt, OptimizerRuns())
}

// InitRuns returns the runs of InitMNIST: the 5-layer ReLU network of
// OptimizerRuns trained by SGD (lr 0.01, batches of 128) from N(0, 0.01²),
// Xavier (randn/√fan_in) and He (randn/√(fan_in/2)) weights.
func InitRuns() []Setup {
	mk := func(name string, in initializers.Init) Setup {
		return Setup{Name: name, Net: Net{Hidden: four100, Activation: "relu", Init: in}, Solver: "sgd", Config: solvers.Config{LR: 0.01}, Batch: 128}
	}
	return []Setup{
		mk("std=0.01", smallInit),
		mk("Xavier", initializers.LeCunNormal()),
		mk("He", heInit),
	}
}

// InitMNIST trains InitRuns on MNIST: 10 000 training images for 12
// epochs, 2 000 test images; Quick: 2 000 images, 4 epochs, 500 test images.
func InitMNIST(ctx context.Context, data train.Data, opt Options) (*CurvesResult, error) {
	s := pick(opt.Quick, size{10000, 2000, 12}, size{2000, 500, 4})
	return runAll(ctx, "init-mnist", data, s, opt, InitRuns())
}

// BatchNormScales are the weight standard deviations of the batch-norm
// experiment, from far too large to far too small for a 100-unit ReLU layer
// (He would be √(2/100) ≈ 0.14).
var BatchNormScales = []float64{1, 0.3, 0.1, 0.03, 0.01}

// BatchNormRuns returns two runs per weight scale s — with and without batch
// norm — of a 784-(100×5)-10 ReLU network with N(0, s²) weights, SGD lr
// 0.01, batches of 100: the setting of Saito's batch-norm figure. Run names
// are "bn std=<s>" and "plain std=<s>"; Group is the scale.
func BatchNormRuns(scales []float64) ([]Setup, error) {
	var runs []Setup
	for _, s := range scales {
		in, err := initializers.Normal(0, s)
		if err != nil {
			return nil, fmt.Errorf("%w: weight scale %g: %w", ErrConfig, s, err)
		}
		for _, bn := range []bool{true, false} {
			name := fmt.Sprintf("plain std=%g", s)
			if bn {
				name = fmt.Sprintf("bn std=%g", s)
			}
			runs = append(runs, Setup{Name: name, Group: fmt.Sprintf("weight std %g", s),
				Net:    Net{Hidden: []int{100, 100, 100, 100, 100}, Activation: "relu", Init: in, BatchNorm: bn},
				Solver: "sgd", Config: solvers.Config{LR: 0.01}, Batch: 100})
		}
	}
	return runs, nil
}

// BatchNormMNIST trains BatchNormRuns(BatchNormScales): 1 000 training
// images for 20 epochs (200 steps), 1 000 test images; Quick: scales 1 and
// 0.01 only, 500 images, 10 epochs, 300 test images.
func BatchNormMNIST(ctx context.Context, data train.Data, opt Options) (*CurvesResult, error) {
	scales := BatchNormScales
	s := size{1000, 1000, 20}
	if opt.Quick {
		scales, s = []float64{1, 0.01}, size{500, 300, 10}
	}
	runs, err := BatchNormRuns(scales)
	if err != nil {
		return nil, err
	}
	return runAll(ctx, "batchnorm", data, s, opt, runs)
}

// OverfitRuns returns the runs of Overfit: a 7-layer network (6 hidden
// layers of 100 ReLU units, He initialization), SGD lr 0.01, batches of 100,
// trained on 300 images without regularization, with weight decay λ = 0.1
// (coupled L2: g += λ·w on every parameter) and with dropout p = 0.3 (the
// lecture's keep probability 0.7).
func OverfitRuns() []Setup {
	net := Net{Hidden: []int{100, 100, 100, 100, 100, 100}, Activation: "relu", Init: heInit}
	drop := net
	drop.Dropout = 0.3
	return []Setup{
		{Name: "no regularization", Net: net, Solver: "sgd", Config: solvers.Config{LR: 0.01}, Batch: 100},
		{Name: "weight decay 0.1", Net: net, Solver: "sgd", Config: solvers.Config{LR: 0.01, Options: solvers.Options{WeightDecay: 0.1}}, Batch: 100},
		{Name: "dropout 0.3", Net: drop, Solver: "sgd", Config: solvers.Config{LR: 0.01}, Batch: 100},
	}
}

// Overfit trains OverfitRuns on the first 300 training images for 200
// epochs (600 steps), measuring train and test accuracy (2 000 test images)
// after every epoch; Quick: 100 epochs, 500 test images.
func Overfit(ctx context.Context, data train.Data, opt Options) (*CurvesResult, error) {
	s := pick(opt.Quick, size{300, 2000, 200}, size{300, 500, 100})
	return runAll(ctx, "overfit", data, s, opt, OverfitRuns())
}
