package ops_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// Token ids through an embedding table, then an LSTM over the sequence:
// its three results y, hT and cT are selector nodes of one fused op.
func ExampleLSTM() {
	b := graph.NewBuilder(1)
	ids, _ := b.Input("ids", tensor.Int, 2, 3) // (N, T)
	table, _ := b.Param("table", tensor.Float64, graph.FromInitWFn(gorgonia.Ones()), 5, 4)
	x, _ := ops.Embedding(ids, table) // (N, T, I)
	const h = 2
	zero := graph.FromInitWFn(gorgonia.Zeroes())
	w := graph.FromInitWFn(gorgonia.Ones())
	h0, _ := b.Param("h0", tensor.Float64, zero, 2, h)
	c0, _ := b.Param("c0", tensor.Float64, zero, 2, h)
	wih, _ := b.Param("weight_ih_l0", tensor.Float64, w, 4*h, 4)
	whh, _ := b.Param("weight_hh_l0", tensor.Float64, w, 4*h, h)
	bih, _ := b.Param("bias_ih_l0", tensor.Float64, zero, 4*h)
	bhh, _ := b.Param("bias_hh_l0", tensor.Float64, zero, 4*h)
	y, hT, cT, err := ops.LSTM(x, h0, c0, wih, whh, bih, bhh)
	fmt.Println(err, x.Shape(), y.Shape(), hT.Shape(), cT.Shape())

	loss, _ := gorgonia.Sum(hT)
	prog, err := b.Compile(loss, hT)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = prog.Run(graph.Feeds{"ids": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, 4, 4}))})
	fmt.Println(err, fmt.Sprintf("%.4f", prog.Output(0).Data()))

	// An id outside the table is an error of the run, naming where it is.
	err = prog.Run(graph.Feeds{"ids": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, 9, 4}))})
	fmt.Println(err != nil)
	// Output:
	// <nil> (2, 3, 4) (2, 3, 2) (2, 2) (2, 2)
	// <nil> [0.9920 0.9920 0.9920 0.9920]
	// true
}

// Causal self-attention over heads split from a model dimension.
func ExampleAttention() {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float32, 1, 3, 4) // (N, T, E)
	q, err := ops.SplitHeads(x, 2)                // (N, heads, T, Dh)
	fmt.Println(err, q.Shape())
	a, _ := ops.Attention(q, q, q, ops.AttentionOptions{Causal: true})
	y, _ := ops.MergeHeads(a)
	fmt.Println(y.Shape())
	_, err = ops.SplitHeads(x, 3)
	fmt.Println(err)
	// Output:
	// <nil> (1, 2, 3, 2)
	// (1, 3, 4)
	// ops: shape mismatch: SplitHeads: 3 heads do not divide the model dimension E = 4 of x (1, 3, 4)
}
