package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/checkpoint"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	assert.ErrorContains(t, run(nil, &out, &errb), "-o FILE is required")
	assert.ErrorContains(t, run([]string{"-o", "x", "extra"}, &out, &errb), "unexpected arguments")
	assert.Error(t, run([]string{"-config", filepath.Join(dir, "missing.json"), "-o", "x"}, &out, &errb))

	cfg := filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"model":{"name":"mlp","config":{"inputs":784,"hidden":[8],"classes":10,
		"activation":"relu","init":"he","batch_norm":true,"dropout":0.3,"dtype":"float32","seed":3}},
		"data":{"name":"mnist","config":{"scaling":"unit"}},"epochs":2,"batch":32,"optimizer":"adamw",
		"solver":{"LR":0.002,"DecoupledDecay":0.05},"schedule":{"kind":"cosine"},"train_limit":100,"test_limit":50,"seed":3}`), 0o644))
	path := filepath.Join(dir, "twin.safetensors")
	require.NoError(t, run([]string{"-config", cfg, "-o", path}, &out, &errb))
	assert.Contains(t, out.String(), "2 epochs of batch 32, seed 3")
	f, err := checkpoint.Read(path)
	require.NoError(t, err)
	assert.Equal(t, []int{8}, []int(f.Tensors["param/bn1/gamma"].Shape()))
	assert.Equal(t, []int{100}, []int(f.Tensors["order/2"].Shape()))
	assert.Equal(t, "50", f.Metadata["test_n"])
}
