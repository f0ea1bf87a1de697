package mnist

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the decoders ReadImage reads
	_ "image/png"
	"io"
	"math"
	"os"

	"golang.org/x/image/draw"
)

// ErrImage reports a file ReadImage cannot read: unreadable, not a PNG or
// JPEG image, or too large.
var ErrImage = errors.New("mnist: not a readable PNG or JPEG image")

// MaxPixels bounds the size of an image ReadImage decodes.
const MaxPixels = 1 << 26

// side is MNIST's image size.
const side = 28

// Invert says when PrepareImage inverts an image to MNIST's white digit on
// black.
type Invert int

const (
	// InvertAuto inverts an image whose border is light (black on white).
	InvertAuto Invert = iota
	// InvertAlways and InvertNever force the choice.
	InvertAlways
	InvertNever
)

// ParseInvert reads "auto", "on" or "off".
func ParseInvert(s string) (Invert, error) {
	switch s {
	case "auto", "":
		return InvertAuto, nil
	case "on":
		return InvertAlways, nil
	case "off":
		return InvertNever, nil
	}
	return 0, fmt.Errorf("%w: invert %q, want auto, on or off", ErrArgument, s)
}

// Prepared says what PrepareImage did to an image.
type Prepared struct {
	Inverted bool // it was black on white and was inverted
	Blank    bool // it has no ink: no pixel stands out from the background
}

// PrepareImage makes any image an MNIST image: grayscale (transparency
// composited over white), white digit on black (inverting as invert says),
// 28×28 — by MNIST's own recipe unless raw: the digit's bounding box scaled
// to fit 20×20 (aspect kept) and placed so that its centre of mass is the
// image's centre. An image without ink is resized whole and reported Blank.
func PrepareImage(src image.Image, invert Invert, raw bool) (*image.Gray, Prepared) {
	gray := grayOverWhite(src)
	var p Prepared
	p.Inverted = invert == InvertAlways || (invert == InvertAuto && borderMean(gray) > 127)
	if p.Inverted {
		for i, v := range gray.Pix {
			gray.Pix[i] = 255 - v
		}
	}
	if raw {
		out := resize(gray, gray.Bounds(), side, side)
		p.Blank = inkBox(out).Empty()
		return out, p
	}
	out, blank := mnistFit(gray)
	p.Blank = blank
	return out, p
}

// ReadImage reads a PNG or JPEG file (at most MaxPixels) and prepares it
// (PrepareImage). Errors wrap ErrImage and name the file.
func ReadImage(file string, invert Invert, raw bool) (*image.Gray, Prepared, error) {
	fail := func(err error) (*image.Gray, Prepared, error) {
		return nil, Prepared{}, fmt.Errorf("%s: %w: %w", file, ErrImage, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return fail(err)
	}
	if format != "png" && format != "jpeg" {
		return fail(fmt.Errorf("format %s", format))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPixels {
		return fail(fmt.Errorf("%d×%d pixels, want at most %d", cfg.Width, cfg.Height, MaxPixels))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	src, _, err := image.Decode(f)
	if err != nil {
		return fail(err)
	}
	g, p := PrepareImage(src, invert, raw)
	return g, p, nil
}

// grayOverWhite converts any image to 8-bit luminance (ITU-R 601, as
// color.GrayModel), compositing transparent pixels over white: a drawing on
// a transparent background reads as one on paper.
func grayOverWhite(src image.Image) *image.Gray {
	b := src.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, gg, bb, a := src.At(x, y).RGBA() // alpha-premultiplied, 16 bits
			w := 0xffff - a
			lum := (19595*(r+w) + 38470*(gg+w) + 7471*(bb+w) + 1<<15) >> 24
			g.Pix[(y-b.Min.Y)*g.Stride+(x-b.Min.X)] = uint8(lum)
		}
	}
	return g
}

// borderMean is the mean of the outermost pixels.
func borderMean(g *image.Gray) float64 {
	b := g.Bounds()
	sum, n := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if y == b.Min.Y || y == b.Max.Y-1 || x == b.Min.X || x == b.Max.X-1 {
				sum += int(g.GrayAt(x, y).Y)
				n++
			}
		}
	}
	return float64(sum) / float64(n)
}

// resize scales the part r of g to w×h (bilinear, widened when shrinking);
// an image of that size already is copied unchanged.
func resize(g *image.Gray, r image.Rectangle, w, h int) *image.Gray {
	dst := image.NewGray(image.Rect(0, 0, w, h))
	if r.Dx() == w && r.Dy() == h {
		draw.Copy(dst, image.Point{}, g, r, draw.Src, nil)
		return dst
	}
	draw.BiLinear.Scale(dst, dst.Bounds(), g, r, draw.Src, nil)
	return dst
}

// inkThreshold separates ink from faint noise.
const inkThreshold = 48

// inkBox is the bounding box of the pixels brighter than inkThreshold.
func inkBox(g *image.Gray) image.Rectangle {
	b := g.Bounds()
	box := image.Rectangle{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g.GrayAt(x, y).Y > inkThreshold {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

// mnistFit makes a 28×28 image as MNIST's were made: the bounding box of
// the ink scaled to fit 20×20, placed with its centre of mass at the
// centre. An image without ink is resized whole (blank).
func mnistFit(g *image.Gray) (_ *image.Gray, blank bool) {
	b := g.Bounds()
	box := inkBox(g)
	if box.Empty() {
		return resize(g, b, side, side), true
	}
	scale := 20 / float64(max(box.Dx(), box.Dy()))
	w := max(1, int(math.Round(float64(box.Dx())*scale)))
	h := max(1, int(math.Round(float64(box.Dy())*scale)))
	small := resize(g, box, w, h)
	var sx, sy, sm float64
	for y := range h {
		for x := range w {
			v := float64(small.Pix[y*small.Stride+x])
			sx += (float64(x) + 0.5) * v
			sy += (float64(y) + 0.5) * v
			sm += v
		}
	}
	ox, oy := (side-w)/2, (side-h)/2
	if sm > 0 {
		ox = min(max(int(math.Round(side/2-sx/sm)), 0), side-w)
		oy = min(max(int(math.Round(side/2-sy/sm)), 0), side-h)
	}
	dst := image.NewGray(image.Rect(0, 0, side, side))
	draw.Copy(dst, image.Pt(ox, oy), small, small.Bounds(), draw.Src, nil)
	return dst, false
}
