package experiments

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/train"
)

func TestRunAndReport(t *testing.T) {
	d := loadMNIST(t)
	calls := 0
	data := func() (train.Data, error) { calls++; return d, nil }
	dir := t.TempDir()
	opt := Options{Seed: 1, Quick: true}
	o, err := Run(context.Background(), "batchnorm", dir, data, opt)
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Equal(t, "batchnorm", o.Name)
	requireFiles(t, dir, o.Files)
	assert.Contains(t, o.Report, "![batch norm](batchnorm.png)")
	assert.Contains(t, o.Report, "| 1 | ")
	assert.Contains(t, o.Report, "diverged (step")

	require.NoError(t, WriteReport(filepath.Join(dir, "report.md"), []*Outcome{o}, opt))
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "gradlab experiment all -seed 1 -quick")
	assert.Contains(t, string(md), "## Batch normalization")

	_, err = Run(context.Background(), "nope", dir, data, opt)
	assert.ErrorIs(t, err, ErrUnknown)
	assert.Equal(t, []string{"init-stats", "optimizers", "init-mnist", "batchnorm", "overfit"}, Names())
}
