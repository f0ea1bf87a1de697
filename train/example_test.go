package train_test

import (
	"context"
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

// Train any model on any data set: here a small network on points labelled
// by the sign of x·y, with a hook that stops the run once it is perfect.
func Example() {
	const n = 200
	x := make([]float64, 2*n)
	labels := make([]int, n)
	for i := range n {
		a, b := float64(i%13)/6-1, float64(i%7)/3-1
		x[2*i], x[2*i+1] = a, b
		if a*b > 0 {
			labels[i] = 1
		}
	}
	data, err := datasets.FromSlices(x, []int{2}, labels, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	model, err := nn.NewClassifier(1, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(16), nn.Tanh(), nn.Dense(2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer model.Close()
	cfg := train.Default()
	cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.Solver = 100, 20, "adam", solvers.Config{LR: 0.05}
	res, err := train.Train(context.Background(), cfg, model, train.Data{Train: data, Test: data}, train.Options{
		OnEpoch: func(e train.Epoch) error {
			if e.Test.Get("acc") == 1 {
				return train.ErrStop
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := res.Epochs[len(res.Epochs)-1]
	fmt.Printf("test accuracy %.2f, stopped early: %v\n", last.Test.Get("acc"), len(res.Epochs) < cfg.Epochs)
	// Output:
	// test accuracy 1.00, stopped early: true
}
