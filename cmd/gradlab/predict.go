package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // decoders of the formats predict reads
	_ "image/png"
	"io"
	"math"
	"os"
	"sort"

	"golang.org/x/image/draw"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/train"
)

// errImage reports a file predict cannot classify: unreadable, not a PNG or
// JPEG image, or too large.
var errImage = errors.New("not a readable PNG or JPEG image")

// maxPixels bounds the size of an image predict decodes.
const maxPixels = 1 << 26

const side = 28 // MNIST's image size

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gradlab predict [-model CKPT] [-invert auto|on|off] [-raw] FILE…\n\nClassifies PNG and JPEG images of any size as MNIST digits; for a model of a table (gradlab train -data FILE.csv),\nwrites the rows of each CSV FILE with the prediction appended as CSV on stdout.")
		fs.PrintDefaults()
	}
	model := fs.String("model", "runs/mnist/"+train.CheckpointFile, "checkpoint to classify with")
	invert := fs.String("invert", "auto", "auto: invert black-on-white images (a light border) to MNIST's white on black; on, off: always, never")
	skip := fs.Int("skip", -1, "a model of a table: leading lines of each file to skip (default: as many as the training file had)")
	raw := fs.Bool("raw", false, "resize the whole image to 28×28; default: as MNIST was made, crop to the digit, fit it in 20×20 and centre its mass in 28×28")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *invert != "auto" && *invert != "on" && *invert != "off" {
		return fmt.Errorf("predict: -invert %q, want auto, on or off", *invert)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("predict: no image files given")
	}
	m, err := models.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg := m.Config
	if spec, ok, err := csvSpec(cfg.Data); err != nil {
		return err
	} else if ok {
		return predictTable(m, spec, fs.Args(), *skip, stdout, stderr)
	}
	s, err := scalingOf(cfg.Data)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	if len(m.Params()) == 0 {
		return fmt.Errorf("%s: the model has no parameters", *model)
	}
	dt := m.Params()[0].Dtype()

	type item struct {
		file     string
		img      *image.Gray
		inverted bool
		err      error
	}
	items := make([]item, fs.NArg())
	var ok []int
	for i, file := range fs.Args() {
		img, inv, err := prepareImage(file, *invert, *raw)
		items[i] = item{file, img, inv, err}
		if err == nil {
			ok = append(ok, i)
		}
	}
	var probs [][]float64
	if len(ok) > 0 {
		x := tensor.New(tensor.Of(dt), tensor.WithShape(len(ok), 1, side, side))
		for k, i := range ok {
			for j, p := range items[i].img.Pix {
				v, err := s.Scale(p)
				if err != nil {
					return err
				}
				switch d := x.Data().(type) {
				case []float32:
					d[k*side*side+j] = float32(v)
				case []float64:
					d[k*side*side+j] = v
				}
			}
		}
		p, err := m.Infer(x) // class probabilities
		if err != nil {
			return fmt.Errorf("%s: %w", *model, err)
		}
		if probs, err = rows(p, len(ok)); err != nil {
			return fmt.Errorf("%s: %w", *model, err)
		}
	}
	failed, k := 0, 0
	var first error
	for _, it := range items {
		if it.err != nil {
			failed++
			if first == nil {
				first = it.err
			}
			fmt.Fprintf(stderr, "gradlab predict: %v\n", it.err)
			continue
		}
		p := probs[k]
		k++
		order := make([]int, len(p))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		note := ""
		if it.inverted {
			note = " [black on white: inverted]"
		}
		fmt.Fprintf(stdout, "%s: %d (p=%.2f), runner-up %d (p=%.2f)%s\n", it.file, order[0], p[order[0]], order[1], p[order[1]], note)
	}
	if failed > 0 {
		return fmt.Errorf("predict: %d of %d files could not be classified (the first: %w)", failed, len(items), first)
	}
	return nil
}

// rows returns the n rows of a (n, classes ≥ 2) float tensor in float64.
func rows(t *tensor.Dense, n int) ([][]float64, error) {
	var z []float64
	switch d := t.Data().(type) {
	case []float32:
		for _, v := range d {
			z = append(z, float64(v))
		}
	case []float64:
		z = d
	default:
		return nil, fmt.Errorf("the model's output holds %T", d)
	}
	if n == 0 || len(z)%n != 0 || len(z)/n < 2 {
		return nil, fmt.Errorf("the model's output %v is not (%d, classes ≥ 2)", t.Shape(), n)
	}
	k := len(z) / n
	out := make([][]float64, n)
	for i := range out {
		out[i] = z[i*k : (i+1)*k]
	}
	return out, nil
}

// prepareImage reads a PNG or JPEG image and makes it an MNIST image:
// grayscale (transparency composited over white), white digit on black
// (inverting black-on-white images when invert is "on", or "auto" and the
// border is light), 28×28 — by MNIST's own recipe unless raw: the digit's
// bounding box scaled to fit 20×20 (aspect kept) and placed so that its
// centre of mass is the image's centre.
func prepareImage(file, invert string, raw bool) (*image.Gray, bool, error) {
	fail := func(err error) (*image.Gray, bool, error) {
		return nil, false, fmt.Errorf("%s: %w: %w", file, errImage, err)
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
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return fail(fmt.Errorf("%d×%d pixels, want at most %d", cfg.Width, cfg.Height, maxPixels))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	src, _, err := image.Decode(f)
	if err != nil {
		return fail(err)
	}
	gray := grayOverWhite(src)
	inverted := invert == "on" || (invert == "auto" && borderMean(gray) > 127)
	if inverted {
		for i, p := range gray.Pix {
			gray.Pix[i] = 255 - p
		}
	}
	if raw {
		return resize(gray, gray.Bounds(), side, side), inverted, nil
	}
	return mnistFit(gray), inverted, nil
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

// mnistFit makes a 28×28 image as MNIST's were made: the bounding box of
// the ink (pixels above a threshold that ignores faint noise) scaled to fit
// 20×20, placed with its centre of mass at the centre. An image without
// ink is resized whole.
func mnistFit(g *image.Gray) *image.Gray {
	const threshold = 48
	b := g.Bounds()
	box := image.Rectangle{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g.GrayAt(x, y).Y > threshold {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if box.Empty() {
		return resize(g, b, side, side)
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
	return dst
}
