package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadFlagsFailBeforeWork(t *testing.T) {
	cases := map[string][]string{
		"unknown solver":      {"-opt", "adamm"},
		"negative lr":         {"-lr", "-1"},
		"dropout 1":           {"-dropout", "1"},
		"zero batch":          {"-batch", "0"},
		"unknown activation":  {"-act", "gelu"},
		"unknown initializer": {"-init", "glorious"},
		"bad hidden":          {"-hidden", "64,x"},
		"unknown schedule":    {"-schedule", "linear"},
		"extra argument":      {"oops"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var out, errb bytes.Buffer
			err := run(context.Background(), append([]string{"train", "-out", dir, "-data", "/nonexistent"}, args...), &out, &errb)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "nonexistent", "the configuration is checked before the data is read")
			entries, _ := os.ReadDir(dir)
			assert.Empty(t, entries, "nothing written")
		})
	}
}

func TestTrainThenEvaluate(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"train", "-out", dir, "-hidden", "32", "-bn=false", "-dropout", "0",
		"-epochs", "1", "-train-limit", "1000", "-test-limit", "500", "-lr", "0.01"}, &out, &errb)
	require.NoError(t, err, errb.String())
	assert.Contains(t, out.String(), "epoch 1/1")
	for _, f := range []string{"metrics.csv", "curves.png", "config.json", "checkpoint.safetensors"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"evaluate", "-model", filepath.Join(dir, "checkpoint.safetensors")}, &out, &errb))
	assert.Contains(t, out.String(), "accuracy")
	assert.Equal(t, 12, len(strings.Split(strings.TrimSpace(out.String()), "\n")), "a line, a header and 10 rows:\n%s", out.String())

	err = run(context.Background(), []string{"evaluate", "-model", filepath.Join(dir, "missing.safetensors")}, &out, &errb)
	assert.ErrorContains(t, err, "missing.safetensors")
	assert.Error(t, run(context.Background(), []string{"frobnicate"}, &out, &errb))
}

// TestOtherOptimizerDropsDefaultDecay: the default weight decay belongs to
// the default optimizer (adamw); another optimizer without -wd gets none.
func TestOtherOptimizerDropsDefaultDecay(t *testing.T) {
	for _, args := range [][]string{{"-opt", "sgd"}, {"-opt", "momentum", "-wd", "0.001"}, {"-opt", "lion", "-lr", "0.0001"}} {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"train", "-out", dir, "-hidden", "16", "-epochs", "1",
			"-train-limit", "200", "-test-limit", "100"}, args...), &out, &errb)
		require.NoError(t, err, "%v", args)
	}
}
