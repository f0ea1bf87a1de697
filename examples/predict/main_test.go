package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/train"
)

// TestLoadAndPredict trains a small MLP as gradlab train does, then loads
// its checkpoint with one call and classifies one test image.
func TestLoadAndPredict(t *testing.T) {
	tr, te, err := mnist.LoadDefault()
	require.NoError(t, err)
	tr.Scaling, te.Scaling = mnist.Standardize, mnist.Standardize
	c := mlp.Config{Inputs: 784, Hidden: []int{64}, Classes: 10, Activation: "relu", Init: "he", Dtype: "float32", Seed: 1}
	m, err := mlp.New(c)
	require.NoError(t, err)
	defer m.Close()
	cfg := train.Default()
	cfg.Epochs, cfg.TrainLimit, cfg.TestLimit = 1, 3000, 200
	cfg.Model, err = train.NewSpec("mlp", c)
	require.NoError(t, err)
	cfg.Data, err = train.NewSpec("mnist", struct {
		Scaling string `json:"scaling"`
	}{"standardize"})
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = train.Train(context.Background(), cfg, m, train.Data{Train: tr, Test: te}, train.Options{Out: dir})
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, run(filepath.Join(dir, train.CheckpointFile), 0, &out))
	assert.True(t, strings.HasPrefix(out.String(), "image 0 (label 7): predicted 7 with probability 0."), out.String())
	assert.Error(t, run(filepath.Join(dir, "missing.safetensors"), 0, &out))
	assert.Error(t, run(filepath.Join(dir, train.CheckpointFile), -1, &out))
}
