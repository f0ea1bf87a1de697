package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
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
		"unknown model":       {"-model", "resnet"},
		"conv for mlp":        {"-conv", "8"},
		"act for cnn":         {"-model", "cnn", "-act", "tanh"},
		"init for cnn":        {"-model", "cnn", "-init", "xavier"},
		"even kernel":         {"-model", "cnn", "-kernel", "4"},
		"bad conv":            {"-model", "cnn", "-conv", "8,0"},
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

// cancelOn cancels a context when the output reports the given epoch, and
// keeps the output.
type cancelOn struct {
	bytes.Buffer
	epoch  string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "epoch "+c.epoch+"/") {
		c.cancel()
	}
	return c.Buffer.Write(p)
}

// TestCNNTrainsResumesAndEvaluates: the CNN learns on a small subset (well
// above chance), an interrupted run resumed from its checkpoint writes the
// same metrics as an uninterrupted one, and evaluate rebuilds the CNN from
// the checkpoint.
func TestCNNTrainsResumesAndEvaluates(t *testing.T) {
	args := []string{"train", "-model", "cnn", "-conv", "4,8", "-hidden", "32", "-epochs", "3",
		"-train-limit", "1000", "-test-limit", "300", "-batch", "50"}
	whole, parts := t.TempDir(), t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), append(args, "-out", whole), &out, &errb), errb.String())
	assert.Contains(t, out.String(), "cnn-4-8-32")

	ctx, cancel := context.WithCancel(context.Background())
	log := &cancelOn{epoch: "1", cancel: cancel}
	err := run(ctx, append(args, "-out", parts), log, &errb)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, run(context.Background(), append(args, "-out", parts, "-resume"), &out, &errb), errb.String())
	a, err := os.ReadFile(filepath.Join(whole, "metrics.csv"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(parts, "metrics.csv"))
	require.NoError(t, err)
	la, lb := strings.Split(strings.TrimSpace(string(a)), "\n"), strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lb, 4)
	for i := range la {
		ca, cb := strings.Split(la[i], ","), strings.Split(lb[i], ",")
		assert.Equal(t, ca[:len(ca)-1], cb[:len(cb)-1], "metrics.csv line %d without its seconds", i)
	}
	last := strings.Split(la[3], ",")
	acc, err := strconv.ParseFloat(last[4], 64)
	require.NoError(t, err)
	assert.Greater(t, acc, 0.6, "test accuracy after 3 epochs on 1000 images (chance is 0.1)")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"evaluate", "-model", filepath.Join(parts, "checkpoint.safetensors")}, &out, &errb))
	assert.Contains(t, out.String(), "accuracy")
	assert.Equal(t, 12, len(strings.Split(strings.TrimSpace(out.String()), "\n")))
}

// TestResumeRefusesChangedFlags: -resume continues the saved run; a flag
// that would change it is a named error, -epochs is applied and reported.
func TestResumeRefusesChangedFlags(t *testing.T) {
	dir := t.TempDir()
	base := []string{"train", "-out", dir, "-hidden", "16", "-bn=false", "-epochs", "1", "-train-limit", "300", "-test-limit", "100"}
	_, errb, err := runCmd(base...)
	require.NoError(t, err, errb)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-model", "cnn"}, "-model gives model.name = cnn, the saved run has mlp"},
		{[]string{"-lr", "0.01"}, "-lr gives solver.LR = 0.01, the saved run has 0.002"},
		{[]string{"-batch", "32"}, "-batch gives batch = 32, the saved run has 64"},
		{[]string{"-hidden", "32"}, "-hidden gives model.config.hidden = [32], the saved run has [16]"},
	} {
		_, _, err := runCmd(append([]string{"train", "-resume", "-out", dir, "-epochs", "2"}, c.args...)...)
		require.Error(t, err, "%v", c.args)
		assert.Contains(t, err.Error(), c.says)
	}
	out, errb, err := runCmd("train", "-resume", "-out", dir, "-epochs", "2", "-hidden", "16", "-train-limit", "300")
	require.NoError(t, err, "flags equal to the saved run's are fine: %s", errb)
	assert.Contains(t, out, "resuming "+dir+" with -epochs 2 (the run was started for 1)")
	assert.Contains(t, out, "epoch 2/2")
}

// TestUnderLauncher checks the launcher detection that keeps progress bars
// out of mpirun's logs (its ranks' stdout is a pseudo-terminal even when
// mpirun's output is redirected to a file).
func TestUnderLauncher(t *testing.T) {
	t.Setenv("OMPI_COMM_WORLD_SIZE", "")
	t.Setenv("PMI_SIZE", "")
	require.False(t, underLauncher(), "no launcher variables")
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	require.True(t, underLauncher(), "under OpenMPI's mpirun")
	t.Setenv("OMPI_COMM_WORLD_SIZE", "")
	t.Setenv("PMI_SIZE", "4")
	require.True(t, underLauncher(), "under a PMI launcher")
}
