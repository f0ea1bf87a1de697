package train_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

func regressor(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.NewRegressor(1, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(16), nn.Tanh(), nn.Dense(1), nn.Reshape()))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func quick() train.Config {
	cfg := train.Default()
	cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.Solver = 3, 32, "adam", solvers.Config{LR: 0.01}
	return cfg
}

// TestValidationColumns: a run with a validation split writes val_ columns
// to metrics.csv, the log line and the history; a regressor reports no
// accuracy anywhere; resuming it reproduces the uninterrupted run.
func TestValidationColumns(t *testing.T) {
	tr, te := curve(400)
	cfg := quick()
	cfg.Validation = 60
	dir := t.TempDir()
	var log strings.Builder
	res, err := train.Train(context.Background(), cfg, regressor(t), train.Data{Train: tr, Test: te}, train.Options{Out: dir, Log: &log})
	require.NoError(t, err)
	csv, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	header := strings.SplitN(string(csv), "\n", 2)[0]
	assert.Equal(t, "epoch,train_loss,train_rmse,train_mae,train_r2,test_loss,test_rmse,test_mae,test_r2,val_loss,val_rmse,val_mae,val_r2,lr,seconds", header)
	assert.NotContains(t, string(csv)+log.String(), "acc")
	assert.Contains(t, log.String(), "val loss")
	e := res.Epochs[2]
	assert.Equal(t, math.Sqrt(e.Val.Get("loss")), e.Val.Get("rmse"), "RMSE is the root of the MSE loss, over the same examples")

	// Stop after one epoch, resume: the same numbers.
	dir2 := t.TempDir()
	_, err = train.Train(context.Background(), cfg, regressor(t), train.Data{Train: tr, Test: te}, train.Options{Out: dir2,
		OnEpoch: func(train.Epoch) error { return train.ErrStop }})
	require.NoError(t, err)
	res2, err := train.Train(context.Background(), cfg, regressor(t), train.Data{Train: tr, Test: te}, train.Options{Out: dir2, Resume: true})
	require.NoError(t, err)
	require.Len(t, res2.Epochs, 3)
	for i := range res.Epochs {
		assert.Equal(t, withSeconds(res.Epochs[i], 0), withSeconds(res2.Epochs[i], 0), "epoch %d", i+1)
	}
}

// TestEarlyStoppingMonitor: early stopping watches any column, in its
// metric's direction.
func TestEarlyStoppingMonitor(t *testing.T) {
	s := small()
	s.cfg.Epochs, s.cfg.Validation, s.cfg.Patience, s.cfg.Monitor = 6, 300, 1, "val_acc"
	s.cfg.Solver.LR = 0.05 // noisy enough to stop
	res, err := s.run(t, context.Background(), data(t), train.Options{})
	require.NoError(t, err)
	if len(res.Epochs) < s.cfg.Epochs {
		assert.Contains(t, res.Stopped, "val_acc has not improved")
		h := res.Epochs
		last, prev := h[len(h)-1].Val.Get("acc"), h[len(h)-2].Val.Get("acc")
		assert.LessOrEqual(t, last, prev, "accuracy must rise to count as better")
	}
	s.cfg.Monitor = "val_r2"
	_, err = s.run(t, context.Background(), data(t), train.Options{})
	require.ErrorIs(t, err, train.ErrConfig)
	assert.Contains(t, err.Error(), `monitors "val_r2", want one of`)
}

// nanTargets is a dataset whose 3rd target is NaN (Memory refuses one).
type nanTargets struct{ datasets.Dataset }

func (d nanTargets) Gather(idx []int, x, y *tensor.Dense) error {
	if err := d.Dataset.Gather(idx, x, y); err != nil {
		return err
	}
	for k, i := range idx {
		if i == 2 {
			y.Float64s()[k] = math.NaN()
		}
	}
	return nil
}

// TestTaskMismatches: data and metrics that do not fit the model's loss are
// named errors before the first step.
func TestTaskMismatches(t *testing.T) {
	tr, _ := curve(100)
	labels := make([]int, 80)
	x := make([]float64, 160)
	classes, err := datasets.FromSlices(x, []int{2}, labels, 2)
	require.NoError(t, err)
	wide, err := datasets.FromValues(x, []int{2}, make([]float64, 160), []int{2})
	require.NoError(t, err)
	clf, err := nn.NewClassifier(1, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(2)))
	require.NoError(t, err)
	defer clf.Close()
	cases := []struct {
		name  string
		model train.Model
		data  datasets.Dataset
		opt   train.Options
		is    error
		says  string
	}{
		{"float-targets-for-cross-entropy", clf, tr, train.Options{}, train.ErrData, `training targets are float64 (), the model's input "y" takes int ()`},
		{"labels-for-a-regressor", regressor(t), classes, train.Options{}, train.ErrData, `training targets are int () in [0, 2), the model's input "y" takes float64 ()`},
		{"target-shape", regressor(t), wide, train.Options{}, train.ErrData, `training targets are (2) (2 values), the model's input "y" takes () (1 values) per example`},
		{"accuracy-for-a-regressor", regressor(t), tr, train.Options{Metrics: []metrics.Metric{metrics.Accuracy()}}, metrics.ErrFit, "acc needs classes targets, the model's loss takes values targets"},
		{"nan-target", regressor(t), nanTargets{tr}, train.Options{}, train.ErrData, "training data: target 0 of example 2 is NaN"},
		{"two-solvers", regressor(t), tr, train.Options{Solver: &sgd{lr: 0.1}}, train.ErrConfig, "set one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.opt.Out = dir
			steps := 0
			c.opt.OnStep = func(train.Step) error { steps++; return nil }
			_, err := train.Train(context.Background(), quick(), c.model, train.Data{Train: c.data}, c.opt)
			require.ErrorIs(t, err, c.is)
			assert.Contains(t, err.Error(), c.says)
			assert.Zero(t, steps, "no step ran")
			entries, _ := os.ReadDir(dir)
			assert.Empty(t, entries, "nothing written")
		})
	}
}

// TestSequenceTargets: logits (N, T, V) against labels (N, T), one class
// per position, train through the same loop; accuracy counts positions.
func TestSequenceTargets(t *testing.T) {
	const n, T, V = 300, 4, 3
	x := make([]float64, n*T)
	y := make([]int, n*T)
	for i := range x {
		v := (i*7 + i/T) % V
		x[i], y[i] = float64(v), (v+1)%V // predict the next class of each position
	}
	d, err := datasets.New(x, datasets.Field{Dtype: tensor.Float64, Shape: []int{T}}, y, datasets.Field{Dtype: tensor.Int, Shape: []int{T}, Classes: V})
	require.NoError(t, err)
	m, err := nn.NewClassifier(1, tensor.Float64, []int{T}, nn.NewSequential(nn.Dense(32), nn.Tanh(), nn.Dense(T*V), nn.Reshape(T, V)))
	require.NoError(t, err)
	defer m.Close()
	cfg := quick()
	cfg.Epochs = 30
	res, err := train.Train(context.Background(), cfg, m, train.Data{Train: d, Test: d}, train.Options{Metrics: []metrics.Metric{metrics.Accuracy(), metrics.BitsPerToken()}})
	require.NoError(t, err)
	last := res.Epochs[len(res.Epochs)-1]
	assert.Greater(t, last.Test.Get("acc"), 0.95)
	assert.InDelta(t, last.Test.Get("loss")/math.Ln2, last.Test.Get("bits_per_token"), 1e-12)
	p, err := m.Infer(tensor.New(tensor.WithShape(1, T), tensor.WithBacking([]float64{0, 1, 2, 0})))
	require.NoError(t, err)
	assert.Equal(t, tensor.Shape{1, T, V}, p.Shape())
	sum := 0.0
	for _, v := range p.Float64s()[:V] {
		sum += v
	}
	assert.InDelta(t, 1, sum, 1e-12, "probabilities over the last dimension")
}

// TestScheduleFunction: Options.Schedule sets every step's rate, and a
// Config.Schedule beside it is an error.
func TestScheduleFunction(t *testing.T) {
	tr, _ := curve(200)
	cfg := quick()
	cfg.Schedule = train.Schedule{}
	var lrs []float64
	_, err := train.Train(context.Background(), cfg, regressor(t), train.Data{Train: tr}, train.Options{
		Schedule: func(step int) float64 { return 0.01 / float64(step+1) },
		OnStep:   func(s train.Step) error { lrs = append(lrs, s.LR); return nil },
	})
	require.NoError(t, err)
	require.Len(t, lrs, 3*5)
	for i, lr := range lrs {
		assert.Equal(t, 0.01/float64(i+1), lr)
	}
	cfg.Schedule = train.Schedule{Kind: "cosine"}
	_, err = train.Train(context.Background(), cfg, regressor(t), train.Data{Train: tr}, train.Options{Schedule: func(int) float64 { return 1 }})
	assert.ErrorIs(t, err, train.ErrConfig)
}

// TestTokenInputs: integer token ids reach an embedding through the trainer
// (the feeder gathers int inputs), with one class per position.
func TestTokenInputs(t *testing.T) {
	const n, T, V = 200, 6, 5
	ids := make([]int, n*T)
	next := make([]int, n*T)
	for i := range ids {
		ids[i] = (i*3 + i/T) % V
		next[i] = (ids[i] + 1) % V // predict the next token of a cycle
	}
	d, err := datasets.FromTokens(ids, []int{T}, V, next, []int{T}, V)
	require.NoError(t, err)
	m, err := nn.NewClassifier(1, tensor.Int, []int{T}, nn.NewSequential(nn.Embedding(V, 8), nn.Dense(16), nn.Tanh(), nn.Dense(V)))
	require.NoError(t, err)
	defer m.Close()
	cfg := quick()
	cfg.Epochs = 20
	res, err := train.Train(context.Background(), cfg, m, train.Data{Train: d, Test: d}, train.Options{Metrics: []metrics.Metric{metrics.Accuracy(), metrics.Perplexity()}})
	require.NoError(t, err)
	last := res.Epochs[len(res.Epochs)-1]
	assert.Greater(t, last.Test.Get("acc"), 0.99)
	assert.Less(t, last.Test.Get("perplexity"), 1.2)
	// A float dataset for a model of token ids is named before the first step.
	tr, _ := curve(100)
	_, err = train.Train(context.Background(), cfg, m, train.Data{Train: tr}, train.Options{})
	require.ErrorIs(t, err, train.ErrData)
	assert.Contains(t, err.Error(), `training examples are float64 (2), the model's input "x" takes int (6)`)
}
