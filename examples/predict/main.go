// Command predict loads a trained model with one call and classifies one
// MNIST test image: go run ./examples/predict -model runs/mnist/checkpoint.safetensors
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
)

func main() {
	ckpt := flag.String("model", "runs/mnist/checkpoint.safetensors", "checkpoint written by gradlab train")
	image := flag.Int("image", 0, "index of the MNIST test image to classify")
	flag.Parse()
	if err := run(*ckpt, *image, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ckpt string, image int, w io.Writer) error {
	m, err := models.Load(ckpt) // rebuild the model the checkpoint names, restore its weights
	if err != nil {
		return err
	}
	defer m.Close()

	_, test, err := mnist.LoadDefault()
	if err != nil {
		return err
	}
	if image < 0 || image >= test.N {
		return fmt.Errorf("image %d outside 0..%d", image, test.N-1)
	}
	var data struct{ Scaling string } // the pixel scaling the model was trained with
	if err := m.Config.Data.Decode(&data); err != nil {
		return err
	}
	scaling, err := mnist.ParseScaling(data.Scaling)
	if err != nil {
		return err
	}
	x := make([]float32, test.Features())
	if err := mnist.Gather(test, []int{image}, scaling, x, make([]int, 1)); err != nil {
		return err
	}
	p, err := m.Infer(tensor.New(tensor.WithShape(1, 1, test.Rows, test.Cols), tensor.WithBacking(x)))
	if err != nil {
		return err
	}
	probs := p.Data().([]float32)
	best := 0
	for k, v := range probs {
		if v > probs[best] {
			best = k
		}
	}
	fmt.Fprintf(w, "image %d (label %d): predicted %d with probability %.3f\n", image, test.Labels[image], best, probs[best])
	return nil
}
