package plots

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg"
)

func TestSavePNG(t *testing.T) {
	a, err := Lines("loss", "epoch", "loss", Series{"train", []float64{1, 2, 3}, []float64{1, .5, .2}}, Series{"test", []float64{1, 2, 3}, []float64{1, .6, .4}})
	require.NoError(t, err)
	b, err := Lines("accuracy", "epoch", "accuracy", Series{"train", []float64{1, 2}, []float64{.5, .9}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "c.png")
	require.NoError(t, SavePNG(path, 20*vg.Centimeter, 8*vg.Centimeter, 2, a, b))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), img.Bounds().Dy())

	_, err = Lines("x", "x", "y", Series{"bad", []float64{1}, nil})
	assert.ErrorContains(t, err, `series "bad" has 1 x and 0 y values`)
	assert.Error(t, SavePNG(path, 1, 1, 0, a))
}
