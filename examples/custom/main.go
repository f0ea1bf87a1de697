// Command custom trains a model gradlab does not ship: go run ./examples/custom
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/train"
)

// residual is h + tanh(h·W + b): plain Gorgonia around a layer of package nn.
// name is its scope ("res" below): the dense layer's parameters are res/w and res/b.
func residual(b *graph.Builder, name string, h *gorgonia.Node) (*gorgonia.Node, error) {
	t, err := nn.Dense(h.Shape()[1]).Apply(b, name, h)
	if err == nil {
		t, err = gorgonia.Tanh(t)
	}
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(h, t)
}

func main() {
	trainSet, testSet, err := mnist.LoadDefault() // the real MNIST, shipped in a Go module
	if err != nil {
		log.Fatal(err)
	}
	trainSet.Scaling, testSet.Scaling = mnist.Standardize, mnist.Standardize
	xavier := nn.Init(initializers.Must(initializers.XavierNormal(5.0 / 3))) // tanh's gain
	model, err := nn.NewClassifier(1, tensor.Float32, []int{1, 28, 28}, nn.NewSequential(
		nn.Flatten(), // images (1, 28, 28) → 784 values
		nn.Dense(256, xavier, nn.NoBias()), nn.BatchNorm(), nn.Tanh(),
		nn.Named("res", nn.LayerFunc(residual)),
		nn.Dense(10, xavier),
	))
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()
	summary, _ := model.Summary()
	fmt.Print(summary)

	cfg := train.Default() // AdamW, cosine schedule, batches of 64, seed 1
	cfg.Epochs = 4
	res, err := train.Train(context.Background(), cfg, model, train.Data{Train: trainSet, Test: testSet}, train.Options{Log: os.Stdout})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy %.2f%%\n", 100*res.Epochs[len(res.Epochs)-1].Test.Get("acc"))
}
