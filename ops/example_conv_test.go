package ops_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// A 3×3 input, a 2×2 filter of ones with padding 1 (every 2×2 window sum),
// a per-channel bias, then a 2×2 max pool; shapes are known before
// building, and bad options are named errors.
func ExampleConv2D() {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 1, 1, 3, 3)
	w, _ := b.Param("w", tensor.Float64, graph.InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking([]float64{1, 1, 1, 1})), nil
	}), 1, 1, 2, 2)
	bias, _ := b.Param("b", tensor.Float64, graph.InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking([]float64{100})), nil
	}), 1)

	opt := ops.ConvOptions{Padding: [2]int{1, 1}}
	shape, _ := ops.ConvOutputShape([]int{1, 1, 3, 3}, []int{1, 1, 2, 2}, opt)
	fmt.Println("conv output", shape)

	y, _ := ops.Conv2D(x, w, opt)
	y, _ = ops.BiasAdd(y, bias)
	p, _ := ops.MaxPool2D(y, ops.PoolOptions{Kernel: [2]int{2, 2}})
	prog, err := b.Compile(nil, y, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer prog.Close()
	err = prog.Forward(graph.Feeds{"x": tensor.New(tensor.WithShape(1, 1, 3, 3),
		tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}))})
	fmt.Println(err)
	fmt.Println(prog.Output(0).Data())
	fmt.Println(prog.Output(1).Data())

	_, err = ops.Conv2D(x, w, ops.ConvOptions{Stride: [2]int{0, -1}})
	fmt.Println(err)
	// Output:
	// conv output [1 1 4 4]
	// <nil>
	// [101 103 105 103 105 112 116 109 111 124 128 115 107 115 117 109]
	// [112 116 124 128]
	// ops: bad hyperparameter: Conv2D: Stride[1] (width) = -1, want ≥ 1
}
