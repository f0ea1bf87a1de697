package train_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

// curve returns n noisy samples of y = sin(2a) + b² on [−1, 1]², split in
// a training and a test set.
func curve(n int) (tr, te datasets.Dataset) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, 2*n), make([]float64, n)
	for i := range n {
		a, b := 2*rng.Float64()-1, 2*rng.Float64()-1
		x[2*i], x[2*i+1] = a, b
		y[i] = math.Sin(2*a) + b*b + 0.05*rng.NormFloat64()
	}
	cut := n * 4 / 5
	tr, _ = datasets.FromValues(x[:2*cut], []int{2}, y[:cut], nil)
	te, _ = datasets.FromValues(x[2*cut:], []int{2}, y[cut:], nil)
	return tr, te
}

// A regressor: float targets, the mean squared error as loss, and RMSE, MAE
// and R² as the metrics (no accuracy).
func ExampleTrain_regression() {
	tr, te := curve(1000)
	model, err := nn.NewRegressor(1, tensor.Float64, []int{2}, nn.NewSequential(
		nn.Dense(32), nn.Tanh(), nn.Dense(32), nn.Tanh(), nn.Dense(1), nn.Reshape()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer model.Close()
	cfg := train.Default()
	cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.Solver = 60, 32, "adam", solvers.Config{LR: 0.01}
	res, err := train.Train(context.Background(), cfg, model, train.Data{Train: tr, Test: te}, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := res.Epochs[len(res.Epochs)-1]
	var names []string
	for _, s := range last.Test {
		names = append(names, s.Name)
	}
	fmt.Println(strings.Join(names, " "))
	fmt.Println("test R² > 0.95:", last.Test.Get("r2") > 0.95, " RMSE < 0.15:", last.Test.Get("rmse") < 0.15)
	// Output:
	// loss rmse mae r2
	// test R² > 0.95: true  RMSE < 0.15: true
}

// A multi-label model: three independent yes/no labels per example (is a
// > 0, is b > 0, is a·b > 0), binary cross-entropy with logits, and the
// binary accuracy over every label.
func ExampleTrain_multilabel() {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 800
	x, y := make([]float32, 2*n), make([]float32, 3*n)
	yes := func(c bool) float32 {
		if c {
			return 1
		}
		return 0
	}
	for i := range n {
		a, b := 2*rng.Float32()-1, 2*rng.Float32()-1
		x[2*i], x[2*i+1] = a, b
		y[3*i], y[3*i+1], y[3*i+2] = yes(a > 0), yes(b > 0), yes(a*b > 0)
	}
	data, err := datasets.FromValues(x, []int{2}, y, []int{3})
	if err != nil {
		fmt.Println(err)
		return
	}
	model, err := nn.NewSupervised(1, tensor.Float32, []int{2}, nn.NewSequential(nn.Dense(32), nn.ReLU(), nn.Dense(3)), nn.BCEWithLogits())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer model.Close()
	cfg := train.Default()
	cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.Solver = 30, 32, "adam", solvers.Config{LR: 0.01}
	res, err := train.Train(context.Background(), cfg, model, train.Data{Train: data}, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	acc := res.Epochs[len(res.Epochs)-1].Train.Get("binary_acc")
	p, err := model.Infer(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{0.5, -0.5})))
	if err != nil {
		fmt.Println(err)
		return
	}
	probs := p.Data().([]float32)
	fmt.Println("binary accuracy > 0.95:", acc > 0.95)
	fmt.Println("(0.5, −0.5): a > 0", probs[0] > 0.5, " b > 0", probs[1] > 0.5, " a·b > 0", probs[2] > 0.5)
	// Output:
	// binary accuracy > 0.95: true
	// (0.5, −0.5): a > 0 true  b > 0 false  a·b > 0 false
}

// maxError is a metric written outside package metrics: the largest
// absolute error of a regressor.
type maxError struct{ worst float64 }

func (*maxError) Name() string { return "max_error" }
func (*maxError) Higher() bool { return false }
func (*maxError) Fits(k nn.TargetKind) error {
	if k != nn.Values {
		return fmt.Errorf("%w: max_error needs values", metrics.ErrFit)
	}
	return nil
}
func (m *maxError) Reset() { m.worst = 0 }
func (m *maxError) Update(b metrics.Batch) error {
	out, t := b.Output.Data().([]float64), b.Target.Data().([]float64)
	for i := range out {
		m.worst = max(m.worst, math.Abs(out[i]-t[i]))
	}
	return nil
}
func (m *maxError) Value() float64 { return m.worst }

// stopBelow is a callback that stops the run once the training loss is
// below a threshold.
type stopBelow struct {
	train.Hooks
	loss float64
}

func (s stopBelow) EpochEnd(_ *train.Run, e train.Epoch) error {
	if l := e.Train.Get("loss"); l < s.loss {
		return fmt.Errorf("%w: train loss %.3f < %g at epoch %d", train.ErrStop, l, s.loss, e.Epoch)
	}
	return nil
}

// sgd is a solver written outside package solvers: w −= lr·g, then g = 0.
type sgd struct{ lr float64 }

func (s *sgd) LR() float64                                { return s.lr }
func (s *sgd) SetLR(lr float64)                           { s.lr = lr }
func (s *sgd) State() map[string]*tensor.Dense            { return map[string]*tensor.Dense{} }
func (s *sgd) SetState(st map[string]*tensor.Dense) error { return nil }
func (s *sgd) Step(params []gorgonia.ValueGrad) error {
	for _, p := range params {
		g, err := p.Grad()
		if err != nil {
			return err
		}
		w, gd := p.Value().Data().([]float64), g.Data().([]float64)
		for i := range w {
			w[i] -= s.lr * gd[i]
			gd[i] = 0
		}
	}
	return nil
}

// A metric, a callback and a solver of one's own: the regressor of the
// example above trained by plain SGD, measured by its largest error, and
// stopped by the callback as soon as its training loss is below 0.05.
func Example_ownMetricCallbackSolver() {
	tr, te := curve(1000)
	model, err := nn.NewRegressor(1, tensor.Float64, []int{2}, nn.NewSequential(
		nn.Dense(32), nn.Tanh(), nn.Dense(1), nn.Reshape()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer model.Close()
	cfg := train.Default()
	cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.Solver, cfg.Schedule = 200, 16, "", solvers.Config{}, train.Schedule{}
	res, err := train.Train(context.Background(), cfg, model, train.Data{Train: tr, Test: te}, train.Options{
		Solver:    &sgd{lr: 0.1},
		Metrics:   []metrics.Metric{metrics.RMSE(), &maxError{}},
		Callbacks: []train.Callback{stopBelow{loss: 0.05}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := res.Epochs[len(res.Epochs)-1]
	fmt.Println("stopped early:", len(res.Epochs) < cfg.Epochs, res.Stopped != "")
	fmt.Println("columns:", last.Test[1].Name, last.Test[2].Name, " max error below 1:", last.Test.Get("max_error") < 1)
	// Output:
	// stopped early: true true
	// columns: rmse max_error  max error below 1: true
}
