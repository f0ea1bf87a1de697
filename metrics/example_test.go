package metrics_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/metrics"
)

// A metric over two batches: pooled, not averaged per batch.
func ExampleAccuracy() {
	acc := metrics.Accuracy()
	acc.Reset()
	logits := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0.9, 0.1, 0.2, 0.8}))
	acc.Update(metrics.Batch{Output: logits, Target: tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 0})), N: 2})
	logits = tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{0.3, 0.7}))
	acc.Update(metrics.Batch{Output: logits, Target: tensor.New(tensor.WithShape(1), tensor.WithBacking([]int{1})), N: 1})
	fmt.Println(acc.Name(), metrics.Format(acc.Name(), acc.Value()))
	// Output:
	// acc 66.67%
}
