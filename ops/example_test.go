package ops_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// A dense layer with ReLU, then the stable softmax cross-entropy, mixed with
// a plain Gorgonia op (gorgonia.Square) on the same nodes.
func Example() {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 1, 2)
	y, _ := b.Input("y", tensor.Int, 1)
	w, _ := b.Param("w", tensor.Float64, graph.FromInitWFn(gorgonia.Ones()), 2, 3)
	bias, _ := b.Param("b", tensor.Float64, graph.FromInitWFn(gorgonia.Zeroes()), 3)

	h, _ := ops.MatMul(x, w)
	h, _ = ops.BiasAdd(h, bias)
	h, _ = ops.ReLU(h)
	sq, _ := gorgonia.Square(h) // plain Gorgonia
	loss, _ := ops.SoftmaxCrossEntropy(sq, y)
	prog, err := b.Compile(loss, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = prog.Run(graph.Feeds{
		"x": tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, -3})),
		"y": tensor.New(tensor.WithShape(1), tensor.WithBacking([]int{2})),
	})
	fmt.Println(err, prog.Output(0).Data(), fmt.Sprintf("%.4f", prog.Loss()))

	// Shapes are checked when the node is made.
	_, err = ops.BiasAdd(h, w)
	fmt.Println(err)
	// Output:
	// <nil> [0 0 0] 1.0986
	// ops: shape mismatch: BiasAdd: x (1, 3) and b (2, 3): want (batch, n) and (n), or (N, C, …) and (C)
}
