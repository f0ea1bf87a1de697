package ops_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// Batch normalization of a (4, 2) batch: batch statistics and a running
// update in Train mode, the running statistics in Eval mode.
func ExampleBatchNorm() {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 4, 2)
	y, _ := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{}) // momentum 0.1, eps 1e-5
	prog, err := b.Compile(nil, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{1, 10, 2, 20, 3, 30, 4, 40}))}

	_ = prog.Run(feeds) // Train: μ = (2.5, 25), σ² = (1.25, 125)
	fmt.Printf("train %.3f\n", prog.Output(0).Data())
	for _, s := range prog.States() {
		fmt.Printf("%s %.4f\n", s.Name, s.Value.Data())
	}
	prog.SetMode(graph.Eval)
	_ = prog.Run(feeds) // (x − running_mean)/√(running_var + ε); nothing is updated
	fmt.Printf("eval %.3f\n", prog.Output(0).Data())
	// Output:
	// train [-1.342 -1.342 -0.447 -0.447 0.447 0.447 1.342 1.342]
	// bn/running_mean [0.2500 2.5000]
	// bn/running_var [1.0667 17.5667]
	// eval [0.726 1.789 1.694 4.175 2.663 6.561 3.631 8.947]
}

// Inverted dropout with p = 0.5: kept units are doubled, each training run
// draws a new mask from the builder's seed, Eval is the identity.
func ExampleDropout() {
	b := graph.NewBuilder(7)
	x, _ := b.Input("x", tensor.Float64, 2, 5)
	y, _ := ops.Dropout(b, x, 0.5)
	prog, _ := b.Compile(nil, y)
	ones := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(2, 5), tensor.WithBacking(ones))}

	for range 2 {
		_ = prog.Run(feeds)
		fmt.Println("train", prog.Output(0).Data())
	}
	st := prog.States()[0]
	fmt.Println(st.Name, st.Value.Data())
	prog.SetMode(graph.Eval)
	_ = prog.Run(feeds)
	fmt.Println("eval ", prog.Output(0).Data())

	_, err := ops.Dropout(b, x, 1)
	fmt.Println(err)
	// Output:
	// train [0 0 2 0 2 0 2 2 0 0]
	// train [2 0 0 2 2 0 0 0 2 2]
	// dropout#0/step [2]
	// eval  [1 1 1 1 1 1 1 1 1 1]
	// ops: bad hyperparameter: Dropout: p = 1: the drop probability must be in [0, 1)
}
