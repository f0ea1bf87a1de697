package nn_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/nn"
)

// A small sequence classifier: an LSTM over (T, features), a causal
// transformer block, the last step of a GRU, and a dense layer; Describe
// (and Summary) show every layer with its output shape.
func ExampleTransformerBlock() {
	m, err := nn.NewClassifier(1, tensor.Float32, []int{6, 5}, nn.NewSequential(
		nn.LSTM(8),
		nn.PositionalEmbedding(16),
		nn.TransformerBlock(2, 0, 0.1, nn.Causal()),
		nn.LayerNorm(),
		nn.GRU(4, nn.LastStep()),
		nn.Dense(3),
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	if _, err := m.Program(2); err != nil {
		fmt.Println(err)
		return
	}
	d, err := m.Describe()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range d.Layers {
		fmt.Println(l.Name, l.Kind, l.Out, len(l.Params))
	}
	// Output:
	// lstm1 lstm [6 8] 4
	// posembed1 posembed [6 8] 1
	// transformer1 transformer [6 8] 16
	// layernorm1 layernorm [6 8] 2
	// gru1 gru [4] 4
	// dense1 dense [3] 2
}
