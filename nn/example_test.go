package nn_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
)

// A classifier of 4 features into 3 classes, with a plain-Gorgonia layer
// in the middle, its table and a prediction for one example.
func Example() {
	double := nn.LayerFunc(func(_ *graph.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) {
		return gorgonia.Add(x, x)
	})
	seq := nn.NewSequential(nn.Dense(8), nn.BatchNorm(), nn.Tanh(), double, nn.Dropout(0.1), nn.Dense(3))
	m, err := nn.NewClassifier(1, tensor.Float64, []int{4}, seq)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	s, err := m.Summary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	out, err := m.Predict(tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{1, 2, 3, 4})))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logits of one example:", out.Shape())
	// Output:
	// layer       kind       output shape  params
	// ───────────────────────────────────────────
	// dense1      dense      (N, 8)            40
	// batchnorm1  batchnorm  (N, 8)            16
	// tanh1       tanh       (N, 8)             0
	// func1       func       (N, 8)             0
	// dropout1    dropout    (N, 8)             0
	// dense2      dense      (N, 3)            27
	// total: 83 learnable parameters in 6 tensors; 17 state values
	// logits of one example: (1, 3)
}
