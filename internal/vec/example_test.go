package vec_test

import (
	"fmt"

	"github.com/gradlab/gradlab/internal/vec"
)

// Affine is the element-wise pass of batch normalization: with a = 0 it is
// the forward pass y = b·(x − m) + k.
func ExampleAffine() {
	x := []float32{1, 2, 3, 4}
	zero, scale, mean, shift := make([]float32, 4), []float32{2, 2, 2, 2}, []float32{2.5, 2.5, 2.5, 2.5}, []float32{1, 1, 1, 1}
	y := make([]float32, 4)
	vec.Affine(y, x, x, zero, scale, mean, shift)
	fmt.Println(y)
	// Output: [-2 0 2 4]
}
