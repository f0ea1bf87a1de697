package mnist_test

import (
	"fmt"

	"github.com/gradlab/gradlab/datasets/mnist"
)

// Load the real MNIST files shipped in the GoMNIST module, hold out a
// validation set, and gather a training batch.
func Example() {
	train, test, err := mnist.LoadDefault()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("train: %d images of %d×%d, first label %d\n", train.N, train.Rows, train.Cols, train.Labels[0])
	fmt.Printf("test: %d images, first label %d\n", test.N, test.Labels[0])

	fit, val, err := train.Split(10000, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("split: %d for fitting, %d for validation\n", fit.N, val.N)

	batch := []int{0, 1, 2, 3}
	x := make([]float32, len(batch)*train.Features())
	y := make([]int, len(batch))
	if err := mnist.Gather(train, batch, mnist.Unit, x, y); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("batch labels:", y)
	// Output:
	// train: 60000 images of 28×28, first label 5
	// test: 10000 images, first label 7
	// split: 50000 for fitting, 10000 for validation
	// batch labels: [5 0 4 1]
}

// Gather fills a float batch from pixel bytes and labels; here with a tiny
// hand-made data set of two 1×2 images.
func ExampleGather() {
	d, err := mnist.NewDataset(mnist.Images{N: 2, Rows: 1, Cols: 2, Pixels: []uint8{0, 255, 51, 102}}, []uint8{3, 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float64, 2*d.Features())
	y := make([]int, 2)
	for _, s := range []mnist.Scaling{mnist.Unit, mnist.Symmetric} {
		if err := mnist.Gather(d, []int{1, 0}, s, x, y); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-9s x=%.1f y=%v\n", s, x, y)
	}
	// Output:
	// unit      x=[0.2 0.4 0.0 1.0] y=[8 3]
	// symmetric x=[-0.6 -0.2 -1.0 1.0] y=[8 3]
}
