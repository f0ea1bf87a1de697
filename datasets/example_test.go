package datasets_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
)

// Bring your own data: three examples of two features, two classes.
func Example() {
	d, err := datasets.FromSlices([]float64{0.1, 0.2, 0.9, 0.8, 0.2, 0.1}, []int{2}, []int{0, 1, 0}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 2))
	y := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2))
	if err := d.Gather([]int{1, 2}, x, y); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), d.Input(), d.Target(), x.Data(), y.Data())
	_, err = datasets.FromSlices([]float64{0, 1}, []int{1}, []int{0, 3}, 2)
	fmt.Println(err)
	// Output:
	// 3 float64 (2) int () in [0, 2) [0.9 0.8 0.2 0.1] [1 0]
	// datasets: invalid argument: label of example 1 is 3, outside [0, 2)
}
