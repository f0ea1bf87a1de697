package mnist_test

import (
	"fmt"
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/datasets/mnist"
)

// stroke draws a black vertical bar (a "1") on a white w×h image, its
// left edge at x0.
func stroke(w, h, x0 int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if x >= x0 && x < x0+w/10 && y > h/5 && y < 4*h/5 {
				c = color.RGBA{0, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func TestPrepareImage(t *testing.T) {
	g, p := mnist.PrepareImage(stroke(200, 200, 20), mnist.InvertAuto, false)
	assert.True(t, p.Inverted, "black on white is inverted")
	assert.False(t, p.Blank)
	require.Equal(t, image.Rect(0, 0, 28, 28), g.Bounds())
	var sx, sy, sm float64
	for y := range 28 {
		for x := range 28 {
			v := float64(g.GrayAt(x, y).Y)
			sx, sy, sm = sx+(float64(x)+0.5)*v, sy+(float64(y)+0.5)*v, sm+v
		}
	}
	assert.InDelta(t, 14, sx/sm, 1, "the ink's centre of mass is the image's centre, though the bar was at the left")
	assert.InDelta(t, 14, sy/sm, 1)
	assert.Greater(t, g.GrayAt(14, 14).Y, uint8(128), "white ink at the centre")
	assert.Zero(t, g.GrayAt(1, 1).Y, "black background")

	_, p = mnist.PrepareImage(stroke(50, 50, 10), mnist.InvertNever, false)
	assert.False(t, p.Inverted, "never")
	white := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range white.Pix {
		white.Pix[i] = 250
	}
	_, p = mnist.PrepareImage(white, mnist.InvertAuto, false)
	assert.True(t, p.Inverted)
	assert.True(t, p.Blank, "an empty white page has no ink")

	_, p = mnist.PrepareImage(image.NewGray(image.Rect(0, 0, 30, 30)), mnist.InvertAuto, true)
	assert.True(t, p.Blank, "an all-black image has no ink")
	_, err := mnist.ParseInvert("sometimes")
	assert.ErrorIs(t, err, mnist.ErrArgument)
	_, _, err = mnist.ReadImage("no-such-file.png", mnist.InvertAuto, false)
	assert.ErrorIs(t, err, mnist.ErrImage)
}

// A digit drawn black on white at any size becomes a 28×28 MNIST image:
// inverted, its ink fitted in 20×20 and centred by its mass.
func ExamplePrepareImage() {
	g, p := mnist.PrepareImage(stroke(120, 90, 30), mnist.InvertAuto, false)
	fmt.Println(g.Bounds().Size(), p.Inverted, p.Blank)
	// Output:
	// (28,28) true false
}
