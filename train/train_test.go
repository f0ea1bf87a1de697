package train_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
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

// setup is a run: the training configuration and the MLP it trains.
type setup struct {
	cfg   train.Config
	model mlp.Config
}

// small is a setup that trains in about a second: 1950 training examples
// (so the last batch of 100 is partial), 1000 test examples.
func small() setup {
	c := train.Default()
	c.Epochs = 3
	c.Batch = 100
	c.TrainLimit = 1950
	c.TestLimit = 1000
	c.Optimizer = "adam"
	c.Solver = solvers.Config{LR: 0.01}
	return setup{c, mlp.Config{Inputs: 784, Hidden: []int{32}, Classes: 10, Activation: "relu", Init: "he", Dtype: "float32"}}
}

// config returns the run configuration with the model's spec filled in.
func (s setup) config(t *testing.T) train.Config {
	s.model.Seed = s.cfg.Seed
	var err error
	s.cfg.Model, err = train.NewSpec("mlp", s.model)
	require.NoError(t, err)
	return s.cfg
}

// run builds the model (seeded by the run's seed) and trains it.
func (s setup) run(t *testing.T, ctx context.Context, d train.Data, opt train.Options) (*train.Result, error) {
	t.Helper()
	s.model.Seed = s.cfg.Seed
	m, err := mlp.New(s.model)
	require.NoError(t, err)
	defer m.Close()
	return train.Train(ctx, s.config(t), m, d, opt)
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
	s := small()
	res, err := s.run(t, context.Background(), data(t), train.Options{Out: dir, Log: &log})
	require.NoError(t, err)
	require.Len(t, res.Epochs, 3)
	last := res.Epochs[2]
	assert.Greater(t, last.Test.Get("acc"), 0.8, "test accuracy after 3 epochs on 1950 examples")
	assert.Less(t, last.Train.Get("loss"), res.Epochs[0].Train.Get("loss"))
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
	assert.Equal(t, s.config(t), cfg)
	var mc mlp.Config
	require.NoError(t, cfg.Model.Decode(&mc))
	assert.Equal(t, []int{32}, mc.Hidden, "the model's configuration is in config.json")

	ck, err := checkpoint.Read(filepath.Join(dir, train.CheckpointFile))
	require.NoError(t, err)
	assert.Equal(t, "3", ck.Metadata["epoch"])
	assert.Contains(t, ck.Tensors, "param/fc1/w")
	assert.Contains(t, ck.Tensors, "solver/fc1/w/m", "Adam's first moment is saved")
}

func TestSameSeedSameMetrics(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	s := small()
	s.cfg.Epochs = 2
	for _, dir := range []string{a, b} {
		_, err := s.run(t, context.Background(), data(t), train.Options{Out: dir})
		require.NoError(t, err)
	}
	assert.Equal(t, metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, b))
	s.cfg.Seed = 2
	_, err := s.run(t, context.Background(), data(t), train.Options{Out: c})
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
			s := small()
			s.cfg.Optimizer = name
			s.cfg.Solver.LR = 0.01
			// Batch-norm statistics and dropout counters must survive the interruption too.
			s.model.BatchNorm, s.model.Dropout = true, 0.3
			whole, parts := t.TempDir(), t.TempDir()
			_, err := s.run(t, context.Background(), data(t), train.Options{Out: whole})
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(context.Background())
			res, err := s.run(t, ctx, data(t), train.Options{Out: parts, Log: cancelAfter{"1", cancel}})
			require.ErrorIs(t, err, context.Canceled)
			require.Len(t, res.Epochs, 1, "interrupted after epoch 1")

			res, err = s.run(t, context.Background(), data(t), train.Options{Out: parts, Resume: true})
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
	s := small()
	s.cfg.Optimizer = "sgd"
	s.cfg.Solver.LR = 0.1
	s.cfg.Schedule = train.Schedule{Kind: "step", StepEpochs: 1, Gamma: 1e30} // epoch 2 runs at lr 1e29
	dir := t.TempDir()
	var last train.Step
	res, err := s.run(t, context.Background(), data(t), train.Options{Out: dir, OnStep: func(st train.Step) error { last = st; return nil }})
	require.ErrorIs(t, err, train.ErrDiverged)
	assert.Contains(t, err.Error(), "epoch 2")
	assert.Len(t, res.Epochs, 1)
	assert.True(t, last.Loss != last.Loss || last.Loss > 1e300, "the step hook saw the diverged loss %v", last.Loss)
	ck, err := checkpoint.Read(filepath.Join(dir, train.CheckpointFile))
	require.NoError(t, err)
	assert.Equal(t, "1", ck.Metadata["epoch"], "the checkpoint of the last good epoch is kept")
}

func TestEarlyStopping(t *testing.T) {
	s := small()
	s.cfg.Epochs = 5
	s.cfg.Validation = 500
	s.cfg.Patience = 1
	// After epoch 1 the rate is 1e-300 of the base: nothing changes, the
	// validation loss cannot improve, and patience 1 stops the run.
	s.cfg.Schedule = train.Schedule{Kind: "step", StepEpochs: 1, Gamma: 1e-300}
	res, err := s.run(t, context.Background(), data(t), train.Options{})
	require.NoError(t, err)
	assert.Len(t, res.Epochs, 2)
	assert.Contains(t, res.Stopped, "early stopping")
	assert.False(t, res.Epochs[0].Val.Get("acc") != res.Epochs[0].Val.Get("acc"), "validation accuracy is measured")
}

func TestHooks(t *testing.T) {
	s := small()
	s.cfg.Epochs = 4
	var steps []train.Step
	var epochs []int
	res, err := s.run(t, context.Background(), data(t), train.Options{
		OnStep: func(st train.Step) error { steps = append(steps, st); return nil },
		OnEpoch: func(e train.Epoch) error {
			epochs = append(epochs, e.Epoch)
			if e.Epoch == 2 {
				return fmt.Errorf("%w: enough at epoch %d", train.ErrStop, e.Epoch)
			}
			return nil
		},
	})
	require.NoError(t, err, "a hook's ErrStop ends the run without failing it")
	assert.Len(t, res.Epochs, 2)
	assert.Equal(t, []int{1, 2}, epochs)
	assert.Contains(t, res.Stopped, "enough at epoch 2")
	require.Len(t, steps, 2*20, "1950 examples in batches of 100: 20 steps per epoch")
	assert.Equal(t, 50, steps[19].Examples, "the last batch is partial")
	for i, st := range steps {
		assert.Equal(t, i, st.Step)
		assert.Equal(t, 1+i/20, st.Epoch)
	}

	// A step hook stops at once: the unfinished epoch is not recorded.
	n := 0
	res, err = s.run(t, context.Background(), data(t), train.Options{OnStep: func(train.Step) error {
		if n++; n == 25 {
			return train.ErrStop
		}
		return nil
	}})
	require.NoError(t, err)
	assert.Len(t, res.Epochs, 1)
	assert.Equal(t, 25, n)

	// Any other error of a hook fails the run.
	boom := errors.New("boom")
	_, err = s.run(t, context.Background(), data(t), train.Options{OnEpoch: func(train.Epoch) error { return boom }})
	assert.ErrorIs(t, err, boom)
}

func TestDropLastAndEvalTrain(t *testing.T) {
	s := small()
	s.cfg.Epochs = 1
	s.cfg.DropLast, s.cfg.EvalTrain = true, true
	var steps []train.Step
	res, err := s.run(t, context.Background(), data(t), train.Options{OnStep: func(st train.Step) error { steps = append(steps, st); return nil }})
	require.NoError(t, err)
	require.Len(t, steps, 19, "the partial batch of 50 is dropped")
	for _, st := range steps {
		assert.Equal(t, 100, st.Examples)
	}
	// EvalTrain reports the whole training set in Eval mode: the same as Evaluate.
	d := data(t)
	head, err := datasets.Head(d.Train, 1950)
	require.NoError(t, err)
	s.model.Seed = s.cfg.Seed
	m, err := mlp.New(s.model)
	require.NoError(t, err)
	defer m.Close()
	res2, err := train.Train(context.Background(), s.config(t), m, d, train.Options{})
	require.NoError(t, err)
	// An independent reference: the model's logits for all 1950 images
	// through Predict, and the cross-entropy and accuracy computed here.
	n := head.Len()
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n, 784))
	y := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(n))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	require.NoError(t, head.Gather(idx, x, y))
	logits, err := m.Predict(x)
	require.NoError(t, err)
	z := logits.Float32s()
	var sum float64
	correct := 0
	for i, label := range y.Ints() {
		row := z[i*10 : (i+1)*10]
		hi, arg := math.Inf(-1), 0
		for j, v := range row {
			if float64(v) > hi {
				hi, arg = float64(v), j
			}
		}
		var e float64
		for _, v := range row {
			e += math.Exp(float64(v) - hi)
		}
		sum += hi + math.Log(e) - float64(row[label])
		if arg == label {
			correct++
		}
	}
	assert.InDelta(t, sum/float64(n), res2.Epochs[0].Train.Get("loss"), 1e-5)
	assert.InDelta(t, float64(correct)/float64(n), res2.Epochs[0].Train.Get("acc"), 1.0/float64(n))
	assert.Equal(t, withSeconds(res.Epochs[0], 0), withSeconds(res2.Epochs[0], 0))

	s.cfg.TrainLimit, s.cfg.Batch = 50, 100
	_, err = s.run(t, context.Background(), data(t), train.Options{})
	assert.ErrorIs(t, err, train.ErrConfig, "drop_last with fewer examples than a batch leaves no step")
}

// withSeconds returns e with the given seconds.
func withSeconds(e train.Epoch, s float64) train.Epoch {
	e.Seconds = s
	return e
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
		{"schedule", func(c *train.Config) { c.Schedule.Kind = "linear" }, `schedule "linear"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := small()
			c.edit(&s.cfg)
			err := s.cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
			_, err = s.run(t, context.Background(), train.Data{}, train.Options{})
			require.ErrorIs(t, err, train.ErrConfig, "Train validates before touching data")
		})
	}
	s := small()
	s.cfg.Patience = 2
	_, err := s.run(t, context.Background(), data(t), train.Options{})
	require.ErrorIs(t, err, train.ErrConfig)
	assert.Contains(t, err.Error(), "patience = 2 needs a validation set")
}

// TestDataMustFitModel: data whose examples have another size than the
// model's input is a named error before any step; an image may feed a
// model that reads it as a vector.
func TestDataMustFitModel(t *testing.T) {
	s := small()
	x := make([]float32, 40*10)
	labels := make([]int, 40)
	for i := range labels {
		labels[i] = i % 3
	}
	other, err := datasets.FromSlices(x, []int{2, 5}, labels, 3)
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = s.run(t, context.Background(), train.Data{Train: other, Test: other}, train.Options{Out: dir})
	require.ErrorIs(t, err, train.ErrData)
	assert.Contains(t, err.Error(), `training examples are (2, 5) (10 values), the model's input "x" takes (784) (784 values)`)
	entries, _ := os.ReadDir(dir)
	assert.Empty(t, entries, "nothing written")

	// The test set is optional: no test columns then.
	noTest := t.TempDir()
	s.cfg.Epochs = 1
	res, err := s.run(t, context.Background(), train.Data{Train: data(t).Train}, train.Options{Out: noTest})
	require.NoError(t, err)
	assert.Nil(t, res.Epochs[0].Test)
	csv, err := os.ReadFile(filepath.Join(noTest, "metrics.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(csv), "epoch,train_loss,train_acc,lr,seconds\n"), "%s", csv)

	// More classes than the model has logits.
	many, err := datasets.FromSlices(make([]float32, 40*784), []int{784}, labels, 12)
	require.NoError(t, err)
	_, err = s.run(t, context.Background(), train.Data{Train: many, Test: many}, train.Options{})
	require.ErrorIs(t, err, train.ErrData)
	assert.Contains(t, err.Error(), "training data has 12 classes, the model's output 0 is (40, 10)")
}

// TestTrainsAnyModelOnMemoryData: a model of the layer API (not an MLP
// config) learns from a dataset made from slices.
func TestTrainsAnyModelOnMemoryData(t *testing.T) {
	const n = 300
	x := make([]float64, n*2)
	labels := make([]int, n)
	for i := range n { // two interleaved half-moons would do; quadrants suffice
		a, b := float64(i%17)/8-1, float64(i%23)/11-1
		x[2*i], x[2*i+1] = a, b
		if a*b > 0 {
			labels[i] = 1
		}
	}
	d, err := datasets.FromSlices(x, []int{2}, labels, 2)
	require.NoError(t, err)
	m, err := nn.NewClassifier(3, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(16), nn.Tanh(), nn.Dense(2)))
	require.NoError(t, err)
	defer m.Close()
	cfg := train.Default()
	cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.Solver = 40, 32, "adam", solvers.Config{LR: 0.03}
	res, err := train.Train(context.Background(), cfg, m, train.Data{Train: d, Test: d}, train.Options{})
	require.NoError(t, err)
	assert.Greater(t, res.Epochs[len(res.Epochs)-1].Test.Get("acc"), 0.95, "x·y > 0 is learned")
}

func TestRestoreIntoDifferentModel(t *testing.T) {
	dir := t.TempDir()
	s := small()
	s.cfg.Epochs = 1
	_, err := s.run(t, context.Background(), data(t), train.Options{Out: dir})
	require.NoError(t, err)
	ck, err := checkpoint.Read(filepath.Join(dir, train.CheckpointFile))
	require.NoError(t, err)

	other := s.model
	other.Hidden = []int{16}
	m, err := mlp.New(other)
	require.NoError(t, err)
	err = train.RestoreModel(m, ck)
	require.ErrorIs(t, err, train.ErrCheckpoint, "no program yet: no tensors to restore into")
	_, err = m.Program(4)
	require.NoError(t, err)
	err = train.RestoreModel(m, ck)
	require.ErrorIs(t, err, train.ErrCheckpoint)
	assert.Contains(t, err.Error(), "param/fc1/b is float32 (32) in the checkpoint, float32 (16) in the model")

	// Resuming with another configuration is refused, naming both.
	s2 := s
	s2.model.Hidden = []int{16}
	_, err = s2.run(t, context.Background(), data(t), train.Options{Out: dir, Resume: true})
	require.ErrorIs(t, err, train.ErrCheckpoint)
	assert.Contains(t, err.Error(), `"hidden":[32]`)

	// A corrupt checkpoint is an error, not a panic.
	path := filepath.Join(dir, train.CheckpointFile)
	b, _ := os.ReadFile(path)
	require.NoError(t, os.WriteFile(path, b[:len(b)/2], 0o644))
	_, err = s.run(t, context.Background(), data(t), train.Options{Out: dir, Resume: true})
	require.Error(t, err)
	assert.True(t, errors.Is(err, checkpoint.ErrChecksum) || errors.Is(err, checkpoint.ErrCorrupt), "%v", err)
}

// TestImportsNoConcreteModelOrDataset: train works over interfaces.
func TestImportsNoConcreteModelOrDataset(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		assert.False(t, strings.HasPrefix(dep, "github.com/gradlab/gradlab/models"), "train imports %s", dep)
		assert.NotEqual(t, "github.com/gradlab/gradlab/datasets/mnist", dep)
	}
}
