package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // decoders of the formats predict reads
	_ "image/png"
	"io"
	"sort"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/train"
)

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
	inv, err := mnist.ParseInvert(*invert)
	if err != nil {
		return fmt.Errorf("predict: -invert: %w", err)
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
		file string
		img  *image.Gray
		how  mnist.Prepared
		err  error
	}
	items := make([]item, fs.NArg())
	var ok []int
	for i, file := range fs.Args() {
		img, how, err := mnist.ReadImage(file, inv, *raw)
		items[i] = item{file, img, how, err}
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
		if it.how.Inverted {
			note = " [black on white: inverted]"
		}
		if it.how.Blank {
			note += " [blank: no ink, the prediction means nothing]"
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
