package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sklearnDir returns the directory of the data sets Debian's
// python3-sklearn ships ($GRADLAB_SKLEARN_DIR; .ci/run unpacks them), or
// skips the test.
func sklearnDir(t *testing.T) string {
	dir := os.Getenv("GRADLAB_SKLEARN_DIR")
	if dir == "" {
		t.Skip("GRADLAB_SKLEARN_DIR is not set (.ci/run unpacks python3-sklearn's data sets)")
	}
	if _, err := os.Stat(filepath.Join(dir, "iris.csv")); err != nil {
		t.Skipf("no iris.csv in %s", dir)
	}
	return dir
}

func gunzipLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(z)
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestRealTables trains on public data no one here wrote: iris, wine and
// breast cancer (classification; a count line, no header) and diabetes
// (regression; space-separated, its target in a second file).
func TestRealTables(t *testing.T) {
	dir := sklearnDir(t)
	for _, c := range []struct {
		file, metric string
		min          float64
	}{{"iris.csv", "test_acc", 0.85}, {"wine_data.csv", "test_acc", 0.9}, {"breast_cancer.csv", "test_acc", 0.9}} {
		t.Run(c.file, func(t *testing.T) {
			out := t.TempDir()
			_, errb, err := runCmd("train", "-data", filepath.Join(dir, c.file), "-skip", "1", "-no-header", "-target", "-1", "-out", out)
			require.NoError(t, err, errb)
			var v float64
			fmt.Sscan(lastCSV(t, out)[c.metric], &v)
			assert.GreaterOrEqual(t, v, c.min)
		})
	}
	t.Run("diabetes", func(t *testing.T) {
		x, y := gunzipLines(t, filepath.Join(dir, "diabetes_data_raw.csv.gz")), gunzipLines(t, filepath.Join(dir, "diabetes_target.csv.gz"))
		require.Len(t, y, len(x))
		var b strings.Builder
		for i := range x {
			b.WriteString(x[i] + " " + y[i] + "\n")
		}
		data := filepath.Join(t.TempDir(), "diabetes.txt")
		require.NoError(t, os.WriteFile(data, []byte(b.String()), 0o644))
		out := t.TempDir()
		stdout, errb, err := runCmd("train", "-data", data, "-no-header", "-target", "-1", "-out", out)
		require.NoError(t, err, errb)
		assert.Contains(t, stdout, "10-[")
		var r2 float64
		fmt.Sscan(lastCSV(t, out)["test_r2"], &r2)
		assert.Greater(t, r2, 0.3, "a linear model reaches about 0.45 here")
	})
}
