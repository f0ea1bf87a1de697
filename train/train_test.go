package train_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

var (
	loadOnce    sync.Once
	trainSet    *mnist.Dataset
	testSet     *mnist.Dataset
	errLoadData error
)

func data(t *testing.T) train.Data {
	t.Helper()
	loadOnce.Do(func() { trainSet, testSet, errLoadData = mnist.LoadDefault() })
	require.NoError(t, errLoadData)
	return train.Data{Train: trainSet, Test: testSet}
}

// small is a configuration that trains in about a second: 1950 training
// examples (so the last batch of 100 is partial), 1000 test examples.
func small() train.Config {
	c := train.Default()
	c.Model = mlp.Config{Inputs: 784, Hidden: []int{32}, Classes: 10, Activation: "relu", Init: "he", Dtype: "float32"}
	c.Epochs = 3
	c.Batch = 100
	c.TrainLimit = 1950
	c.TestLimit = 1000
	c.Optimizer = "adam"
	c.Solver = solvers.Config{LR: 0.01}
	return c
}

// metricsWithoutSeconds returns metrics.csv with the seconds column removed.
func metricsWithoutSeconds(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		cols := strings.Split(line, ",")
		out = append(out, strings.Join(cols[:len(cols)-1], ","))
	}
	return strings.Join(out, "\n")
}

func TestTrainLearnsAndWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	res, err := train.Train(context.Background(), small(), data(t), train.Options{Out: dir, Log: &log})
	require.NoError(t, err)
	require.Len(t, res.Epochs, 3)
	last := res.Epochs[2]
	assert.Greater(t, last.TestAcc, 0.8, "test accuracy after 3 epochs on 1950 examples")
	assert.Less(t, last.TrainLoss, res.Epochs[0].TrainLoss)
	assert.Contains(t, log.String(), "epoch 3/3")

	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	assert.Equal(t, "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds", lines[0])
	assert.Len(t, lines, 4)

	f, err := os.Open(filepath.Join(dir, "curves.png"))
	require.NoError(t, err)
	_, err = png.Decode(f)
	f.Close()
	require.NoError(t, err)

	cj, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	cfg, err := train.ReadConfig(cj)
	require.NoError(t, err)
	want := small()
	want.Model.Seed = want.Seed
	assert.Equal(t, want, cfg)

	ck, err := checkpoint.Read(filepath.Join(dir, train.CheckpointFile))
	require.NoError(t, err)
	assert.Equal(t, "3", ck.Metadata["epoch"])
	assert.Contains(t, ck.Tensors, "param/fc1/w")
	assert.Contains(t, ck.Tensors, "solver/fc1/w/m", "Adam's first moment is saved")
}

func TestSameSeedSameMetrics(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	cfg := small()
	cfg.Epochs = 2
	for _, dir := range []string{a, b} {
		_, err := train.Train(context.Background(), cfg, data(t), train.Options{Out: dir})
		require.NoError(t, err)
	}
	assert.Equal(t, metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, b))
	cfg.Seed = 2
	_, err := train.Train(context.Background(), cfg, data(t), train.Options{Out: c})
	require.NoError(t, err)
	assert.NotEqual(t, metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, c))
}

// cancelAfter cancels a context when the log reports the given epoch.
type cancelAfter struct {
	epoch  string
	cancel context.CancelFunc
}

func (c cancelAfter) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "epoch "+c.epoch+"/") {
		c.cancel()
	}
	return len(p), nil
}

func TestResumeIsBitIdentical(t *testing.T) {
	for _, name := range []string{"adam", "momentum"} {
		t.Run(name, func(t *testing.T) {
			cfg := small()
			cfg.Optimizer = name
			cfg.Solver.LR = 0.01
			// Batch-norm statistics and dropout counters must survive the interruption too.
			cfg.Model.BatchNorm, cfg.Model.Dropout = true, 0.3
			whole, parts := t.TempDir(), t.TempDir()
			_, err := train.Train(context.Background(), cfg, data(t), train.Options{Out: whole})
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(context.Background())
			res, err := train.Train(ctx, cfg, data(t), train.Options{Out: parts, Log: cancelAfter{"1", cancel}})
			require.ErrorIs(t, err, context.Canceled)
			require.Len(t, res.Epochs, 1, "interrupted after epoch 1")

			res, err = train.Train(context.Background(), cfg, data(t), train.Options{Out: parts, Resume: true})
			require.NoError(t, err)
			require.Len(t, res.Epochs, 3)
			assert.Equal(t, metricsWithoutSeconds(t, whole), metricsWithoutSeconds(t, parts))
			a, err := checkpoint.Read(filepath.Join(whole, train.CheckpointFile))
			require.NoError(t, err)
			b, err := checkpoint.Read(filepath.Join(parts, train.CheckpointFile))
			require.NoError(t, err)
			for name, ta := range a.Tensors {
				assert.Equal(t, ta.Data(), b.Tensors[name].Data(), name)
			}
		})
	}
}

func TestDivergenceKeepsLastGoodCheckpoint(t *testing.T) {
	cfg := small()
	cfg.Optimizer = "sgd"
	cfg.Solver.LR = 0.1
	cfg.Schedule = train.Schedule{Kind: "step", StepEpochs: 1, Gamma: 1e30} // epoch 2 runs at lr 1e29
	dir := t.TempDir()
	res, err := train.Train(context.Background(), cfg, data(t), train.Options{Out: dir})
	require.ErrorIs(t, err, train.ErrDiverged)
	assert.Contains(t, err.Error(), "epoch 2")
	assert.Len(t, res.Epochs, 1)
	ck, err := checkpoint.Read(filepath.Join(dir, train.CheckpointFile))
	require.NoError(t, err)
	assert.Equal(t, "1", ck.Metadata["epoch"], "the checkpoint of the last good epoch is kept")
}

func TestEarlyStopping(t *testing.T) {
	cfg := small()
	cfg.Epochs = 5
	cfg.Validation = 500
	cfg.Patience = 1
	// After epoch 1 the rate is 1e-300 of the base: nothing changes, the
	// validation loss cannot improve, and patience 1 stops the run.
	cfg.Schedule = train.Schedule{Kind: "step", StepEpochs: 1, Gamma: 1e-300}
	res, err := train.Train(context.Background(), cfg, data(t), train.Options{})
	require.NoError(t, err)
	assert.Len(t, res.Epochs, 2)
	assert.Contains(t, res.Stopped, "early stopping")
	assert.False(t, res.Epochs[0].ValAcc != res.Epochs[0].ValAcc, "validation accuracy is measured")
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *train.Config)
		says string
	}{
		{"epochs", func(c *train.Config) { c.Epochs = 0 }, "epochs = 0"},
		{"batch", func(c *train.Config) { c.Batch = 0 }, "batch = 0"},
		{"optimizer", func(c *train.Config) { c.Optimizer = "adamm" }, `"adamm"`},
		{"lr", func(c *train.Config) { c.Solver.LR = -1 }, "lr = -1"},
		{"dropout", func(c *train.Config) { c.Model.Dropout = 1 }, "dropout = 1"},
		{"activation", func(c *train.Config) { c.Model.Activation = "gelu" }, `activation "gelu"`},
		{"init", func(c *train.Config) { c.Model.Init = "glorious" }, `"glorious"`},
		{"schedule", func(c *train.Config) { c.Schedule.Kind = "linear" }, `schedule "linear"`},
		{"patience-without-validation", func(c *train.Config) { c.Patience = 2 }, "needs a validation set"},
		{"scaling", func(c *train.Config) { c.Scaling = "zscore" }, "zscore"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := small()
			c.edit(&cfg)
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
			_, err = train.Train(context.Background(), cfg, train.Data{}, train.Options{})
			require.Error(t, err, "Train validates before touching data")
		})
	}
}

func TestRestoreIntoDifferentModel(t *testing.T) {
	dir := t.TempDir()
	cfg := small()
	cfg.Epochs = 1
	_, err := train.Train(context.Background(), cfg, data(t), train.Options{Out: dir})
	require.NoError(t, err)
	ck, err := checkpoint.Read(filepath.Join(dir, train.CheckpointFile))
	require.NoError(t, err)

	other := cfg.Model
	other.Hidden = []int{16}
	m, err := mlp.New(other)
	require.NoError(t, err)
	_, err = m.Program(4)
	require.NoError(t, err)
	err = train.RestoreModel(m, ck)
	require.ErrorIs(t, err, train.ErrCheckpoint)
	assert.Contains(t, err.Error(), "param/fc1/b is float32 (32) in the checkpoint, float32 (16) in the model")

	// Resuming with another configuration is refused, naming both.
	cfg.Model.Hidden = []int{16}
	_, err = train.Train(context.Background(), cfg, data(t), train.Options{Out: dir, Resume: true})
	require.ErrorIs(t, err, train.ErrCheckpoint)
	assert.Contains(t, err.Error(), `"hidden":[32]`)

	// A corrupt checkpoint is an error, not a panic.
	path := filepath.Join(dir, train.CheckpointFile)
	b, _ := os.ReadFile(path)
	require.NoError(t, os.WriteFile(path, b[:len(b)/2], 0o644))
	cfg.Model.Hidden = []int{32}
	_, err = train.Train(context.Background(), cfg, data(t), train.Options{Out: dir, Resume: true})
	require.Error(t, err)
	assert.True(t, errors.Is(err, checkpoint.ErrChecksum) || errors.Is(err, checkpoint.ErrCorrupt), "%v", err)
}
