package benchmarks_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/benchmarks"
	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/train"
)

// recorder is a data set that records the indices of every Gather.
type recorder struct {
	datasets.Dataset
	seen [][]int
}

func (r *recorder) Gather(idx []int, x, y *tensor.Dense) error {
	r.seen = append(r.seen, append([]int(nil), idx...))
	return r.Dataset.Gather(idx, x, y)
}

func int64s(t *testing.T, d *tensor.Dense) []int {
	t.Helper()
	v, ok := d.Data().([]int64)
	require.True(t, ok, "%v tensor", d.Dtype())
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// TestTwinIsTheRun writes a twin file for a short run of the default model
// and checks it against train.Train on the same configuration: the order of
// each epoch is exactly the batches Train gathered, the initial weights are
// the ones the run starts from, and check/x is the data as the model sees it.
func TestTwinIsTheRun(t *testing.T) {
	cfg, err := benchmarks.DefaultTwinConfig()
	require.NoError(t, err)
	cfg.Epochs, cfg.TrainLimit, cfg.TestLimit = 2, 677, 100 // 11 steps, the last of 37 examples
	path := filepath.Join(t.TempDir(), "twin.safetensors")
	require.NoError(t, benchmarks.WriteTwin(path, cfg, ""))
	f, err := checkpoint.Read(path)
	require.NoError(t, err)
	assert.Equal(t, "677", f.Metadata["train_n"])
	assert.Equal(t, "100", f.Metadata["test_n"])
	got, err := train.ReadConfig([]byte(f.Metadata["config"]))
	require.NoError(t, err)
	assert.Equal(t, cfg, got)

	// The run, built as cmd/gradlab builds it.
	m, err := models.Build(cfg.Model.Name, cfg.Model.Config, cfg.Seed)
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Program(cfg.Batch)
	require.NoError(t, err)
	initial, err := train.ModelTensors(m)
	require.NoError(t, err)
	for name, w := range initial {
		require.Contains(t, f.Tensors, name)
		assert.Equal(t, w.Shape(), f.Tensors[name].Shape(), name)
		assert.Equal(t, w.Data(), f.Tensors[name].Data(), "initial %s", name)
	}
	tr, te, err := mnist.LoadDefault()
	require.NoError(t, err)
	tr.Scaling, te.Scaling = mnist.Standardize, mnist.Standardize
	rec := &recorder{Dataset: tr}
	_, err = train.Train(context.Background(), cfg, m, train.Data{Train: rec, Test: te}, train.Options{})
	require.NoError(t, err)
	const steps = 11
	require.Len(t, rec.seen, cfg.Epochs*steps)
	for e := 1; e <= cfg.Epochs; e++ {
		var batches []int
		order := int64s(t, f.Tensors[benchmarks.TwinOrderPrefix+strconv.Itoa(e)])
		for s, idx := range rec.seen[(e-1)*steps : e*steps] {
			require.Equal(t, order[s*cfg.Batch:min((s+1)*cfg.Batch, len(order))], idx, "epoch %d step %d", e, s)
			batches = append(batches, idx...)
		}
		assert.Len(t, batches, 677)
	}
	_, extra := f.Tensors[benchmarks.TwinOrderPrefix+"3"]
	assert.False(t, extra, "one order per epoch")

	x := f.Tensors[benchmarks.TwinCheckX].Data().([]float32)
	require.Len(t, x, benchmarks.TwinChecks*784)
	for i, p := range tr.Pixels[:len(x)] {
		assert.Equal(t, float32((float64(p)/255-mnist.Mean)/mnist.Std), x[i])
	}
	assert.Equal(t, []int{5, 0, 4, 1}, int64s(t, f.Tensors[benchmarks.TwinCheckY]))

	cfg.Validation = 100
	assert.ErrorIs(t, benchmarks.WriteTwin(path, cfg, ""), benchmarks.ErrTwin)
}

// TestDefaultTwinConfigIsGradlabTrain checks that the twin's default
// configuration is the one `gradlab train` runs without flags (apart from
// the flags that make the run short).
func TestDefaultTwinConfigIsGradlabTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/gradlab")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "../cmd/gradlab", "train", "-out", dir, "-epochs", "1", "-train-limit", "64", "-test-limit", "64")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	got, err := train.ReadConfig(b)
	require.NoError(t, err)
	want, err := benchmarks.DefaultTwinConfig()
	require.NoError(t, err)
	want.Epochs, want.TrainLimit, want.TestLimit = 1, 64, 64
	assert.Equal(t, want, got)
}
