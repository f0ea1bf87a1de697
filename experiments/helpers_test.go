package experiments

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireFiles checks that every file exists, every PNG decodes to a
// non-trivial image and every CSV has a header and rows.
func requireFiles(t *testing.T, dir string, files []string) {
	t.Helper()
	require.NotEmpty(t, files)
	for _, f := range files {
		path := filepath.Join(dir, f)
		switch {
		case strings.HasSuffix(f, ".png"):
			fh, err := os.Open(path)
			require.NoError(t, err, f)
			img, err := png.Decode(fh)
			fh.Close()
			require.NoError(t, err, f)
			require.Greater(t, img.Bounds().Dx(), 200, f)
			require.Greater(t, img.Bounds().Dy(), 200, f)
		case strings.HasSuffix(f, ".csv"):
			b, err := os.ReadFile(path)
			require.NoError(t, err, f)
			require.GreaterOrEqual(t, strings.Count(string(b), "\n"), 2, f)
		default:
			_, err := os.Stat(path)
			require.NoError(t, err, f)
		}
	}
}
