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

// TestLegendWhereTheDataIsNot: a falling curve leaves the top right free,
// a rising one the bottom right.
func TestLegendWhereTheDataIsNot(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	falling := []float64{1, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09}
	rising := []float64{0.9, 0.95, 0.97, 0.98, 0.985, 0.99, 0.992, 0.993}
	p, err := Lines("loss", "epoch", "loss", Series{Name: "train", X: x, Y: falling})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Legend.Top || p.Legend.Left {
		t.Errorf("falling: legend top=%v left=%v, want top right", p.Legend.Top, p.Legend.Left)
	}
	p, err = Lines("acc", "epoch", "acc", Series{Name: "train", X: x, Y: rising})
	if err != nil {
		t.Fatal(err)
	}
	if p.Legend.Top || p.Legend.Left {
		t.Errorf("rising: legend top=%v left=%v, want bottom right", p.Legend.Top, p.Legend.Left)
	}
}
