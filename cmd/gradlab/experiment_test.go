package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/experiments"
)

func TestExperimentCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"experiment", "batchnorm", "-quick", "-out", dir, "-seed", "2"}, &out, &errb))
	assert.Contains(t, out.String(), "batchnorm: ")
	for _, f := range []string{"batchnorm.png", "batchnorm_steps.csv", "batchnorm_epochs.csv"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}
	// Flags before the name work too.
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"experiment", "-quick", "-out", dir, "batchnorm"}, &out, &errb))
	assert.Contains(t, out.String(), "batchnorm: ")

	err := run(context.Background(), []string{"experiment", "nope", "-out", dir}, &out, &errb)
	assert.ErrorIs(t, err, experiments.ErrUnknown)
	assert.ErrorContains(t, err, "init-stats")
	assert.Error(t, run(context.Background(), []string{"experiment"}, &out, &errb))
	assert.Error(t, run(context.Background(), []string{"experiment", "overfit", "extra"}, &out, &errb))
}
