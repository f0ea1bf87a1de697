package graph_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// A linear classifier: declare inputs and parameters, combine them with ops
// (or plain Gorgonia), compile, feed a batch, read the loss and gradients.
func Example() {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 2, 3)
	y, _ := b.Input("y", tensor.Int, 2)
	w, _ := b.Param("w", tensor.Float64, graph.FromInitWFn(gorgonia.Zeroes()), 3, 4)
	logits, _ := ops.MatMul(x, w)
	loss, err := ops.SoftmaxCrossEntropy(logits, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := b.Compile(loss, logits)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer prog.Close()

	err = prog.Run(graph.Feeds{
		"x": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6})),
		"y": tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 3})),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss = %.4f (log 4 = 1.3863)\n", prog.Loss())
	for _, p := range prog.Params() {
		g, _ := p.Grad()
		fmt.Println(p.Name(), p.Shape(), "grad row 0:", g.Data().([]float64)[:4])
	}

	// A wrong feed is an error that names the input.
	err = prog.Run(graph.Feeds{"x": tensor.New(tensor.WithShape(3, 3), tensor.Of(tensor.Float64))})
	fmt.Println(err)
	// Output:
	// loss = 1.3863 (log 4 = 1.3863)
	// w (3, 4) grad row 0: [0.125 0.625 0.625 -1.375]
	// graph: shape mismatch: input "x": want shape (2, 3), got (3, 3)
}
