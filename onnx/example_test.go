package onnx_test

import (
	"errors"
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
)

// Export a model trained on standardized MNIST: the exported graph takes
// pixels in [0, 1] and standardizes them itself. A layer written as plain
// Gorgonia has no ONNX mapping and is refused by name.
func Example() {
	model, err := nn.NewClassifier(1, tensor.Float32, []int{784}, nn.NewSequential(
		nn.Named("fc1", nn.Dense(32, nn.NoBias())), nn.BatchNorm(), nn.ReLU(), nn.Dropout(0.3),
		nn.Named("out", nn.Dense(10)),
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer model.Close()
	if _, err := model.Program(64); err != nil { // makes the parameters; a restored checkpoint has them
		fmt.Println(err)
		return
	}
	b, err := onnx.Encode(model, onnx.Options{Mean: mnist.Mean, Std: mnist.Std, Metadata: map[string]string{"source": "example"}})
	fmt.Println(len(b) > 25000, err) // 784·32 + … float32 weights
	// onnx.WriteFile(path, model, opt) writes the same bytes atomically.

	double := nn.LayerFunc(func(_ *graph.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Add(x, x) })
	custom, err := nn.NewClassifier(1, tensor.Float32, []int{784}, nn.NewSequential(nn.Dense(10), double))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer custom.Close()
	if _, err := custom.Program(1); err != nil {
		fmt.Println(err)
		return
	}
	_, err = onnx.Encode(custom, onnx.Options{})
	fmt.Println(errors.Is(err, onnx.ErrUnsupported))
	fmt.Println(err)
	// Output:
	// true <nil>
	// true
	// onnx: no ONNX mapping: layer func1 (func): a LayerFunc is arbitrary Gorgonia code; export needs the layers of package nn
}
