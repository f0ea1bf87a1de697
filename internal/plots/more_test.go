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

func TestHistogramContourPlain(t *testing.T) {
	h, err := Histogram("layer 1", "activation", "count", []float64{-1, 0, 1}, []float64{3, 5})
	require.NoError(t, err)
	c, err := Contour("bowl", "x", "y", func(x, y float64) float64 { return x*x/20 + y*y }, -10, 10, -5, 5, []float64{1, 4},
		Series{"path", []float64{-7, -3, 100}, []float64{2, 1, 0}}) // 100 is clipped to the frame
	require.NoError(t, err)
	p, err := Plain("loss", "step", "loss", Series{"a", []float64{1, 2, 3}, []float64{3, 2, 1}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "g.png")
	require.NoError(t, SavePNG(path, 30*vg.Centimeter, 10*vg.Centimeter, 3, h, c, p))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = png.Decode(f)
	require.NoError(t, err)

	_, err = Histogram("bad", "x", "y", []float64{0, 1}, []float64{1, 2})
	assert.ErrorContains(t, err, "2 edges for 2 counts")
	_, err = Contour("bad", "x", "y", func(x, y float64) float64 { return 0 }, 0, 1, 0, 1, nil, Series{"s", []float64{1}, nil})
	assert.ErrorContains(t, err, `series "s"`)
	_, err = Plain("bad", "x", "y", Series{"s", nil, []float64{1}})
	assert.ErrorContains(t, err, `series "s"`)
}
