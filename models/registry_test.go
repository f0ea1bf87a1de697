package models_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/models/cnn"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/train"
)

func TestBuild(t *testing.T) {
	c := mlp.Config{Inputs: 4, Hidden: []int{3}, Classes: 2, Activation: "tanh", Init: "xavier", Dtype: "float64", Seed: 99}
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	m, err := models.Build("mlp", raw, 7)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, uint64(7), m.Seed(), "the run's seed replaces the config's")
	_, err = m.Program(2)
	require.NoError(t, err)
	assert.Equal(t, c.ParamCount(), m.ParamCount())

	_, err = models.Build("resnet", raw, 1)
	assert.ErrorIs(t, err, models.ErrUnknown)
	assert.ErrorContains(t, err, "mlp")
	_, err = models.Build("mlp", json.RawMessage(`{"inputs": 4, "hiden": [3]}`), 1)
	assert.ErrorIs(t, err, models.ErrConfig, "an unknown field")
	assert.ErrorContains(t, err, "hiden")
	_, err = models.Build("mlp", json.RawMessage(`{"inputs": 0}`), 1)
	assert.ErrorIs(t, err, mlp.ErrConfig)
}

func ExampleBuild() {
	cfg, _ := json.Marshal(mlp.Config{Inputs: 784, Hidden: []int{64}, Classes: 10, Activation: "relu", Init: "he"})
	m, err := models.Build("mlp", cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	s, _ := m.Summary()
	fmt.Print(s)
	fmt.Println(models.Names())
	// Output:
	// layer  kind   output shape  params
	// ──────────────────────────────────
	// fc1    dense  (N, 64)       50,240
	// relu1  relu   (N, 64)            0
	// out    dense  (N, 10)          650
	// total: 50,890 learnable parameters in 4 tensors; 0 state values
	// [mlp cnn tabular charlm]
}

// TestFlags: every model's flags come from its configuration's tags; a flag
// set for a model that does not take it is an error; the defaults give the
// model's Default configuration, seeded.
func TestFlags(t *testing.T) {
	parse := func(args ...string) (func(string, uint64) (json.RawMessage, error), error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg := models.Flags(fs)
		return cfg, fs.Parse(args)
	}
	cfg, err := parse()
	require.NoError(t, err)
	raw, err := cfg("mlp", 9)
	require.NoError(t, err)
	want := mlp.Default()
	want.Seed = 9
	wantJSON, _ := json.Marshal(want)
	assert.JSONEq(t, string(wantJSON), string(raw))

	cfg, err = parse("-hidden", "64,32", "-bn=false", "-act", "tanh", "-dropout", "0.1")
	require.NoError(t, err)
	raw, err = cfg("mlp", 1)
	require.NoError(t, err)
	var got mlp.Config
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, []int{64, 32}, got.Hidden)
	assert.False(t, got.BatchNorm)
	assert.Equal(t, "tanh", got.Activation)
	assert.Equal(t, 0.1, got.Dropout)
	_, err = cfg("cnn", 1)
	assert.ErrorContains(t, err, "-act does not apply to -model cnn")

	cfg, err = parse("-kernel", "five")
	require.NoError(t, err)
	_, err = cfg("cnn", 1)
	assert.ErrorContains(t, err, `-kernel: "five" is not an integer`)
	_, err = cfg("resnet", 1)
	assert.ErrorIs(t, err, models.ErrUnknown)
	assert.Equal(t, "cnn-16-32-128", models.Describe("cnn", mustJSON(t, cnn.Default())))
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestLoadErrors: a checkpoint that is missing, or whose model this build
// does not know, is an error, not a panic.
func TestLoadErrors(t *testing.T) {
	_, err := models.Load(filepath.Join(t.TempDir(), "missing.safetensors"))
	assert.Error(t, err)
	cfg := train.Default()
	cfg.Model = train.Spec{Name: "resnet", Config: json.RawMessage(`{}`)}
	c, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "c.safetensors")
	require.NoError(t, checkpoint.Write(path, &checkpoint.File{
		Tensors:  map[string]*tensor.Dense{"param/x": tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{1}))},
		Metadata: map[string]string{"config": string(c)}}))
	_, err = models.Load(path)
	assert.ErrorIs(t, err, models.ErrUnknown)
}
