//go:build !openblas

package graph_test

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// TestDefaultBLAS checks that the default build routes Gorgonia's and the
// tensor package's float32 matrix products through the project's Sgemm and
// that a product through it is right.
func TestDefaultBLAS(t *testing.T) {
	t.Log(graph.BLASInfo())
	if _, ok := gorgonia.WhichBLAS().(blas.Float32Level3); !ok {
		t.Fatalf("gorgonia uses %T", gorgonia.WhichBLAS())
	}
	// The routing itself: gonum's own implementation is a Float32Level3
	// too, so the assertion above would pass without it.
	if got := fmt.Sprintf("%T", gorgonia.WhichBLAS()); got != "graph.goBLAS" {
		t.Fatalf("gorgonia's BLAS is %s, want graph.goBLAS (the project's Sgemm)", got)
	}
	a := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	b := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{7, 8, 9, 10, 11, 12}))
	c, err := tensor.MatMul(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{58, 64, 139, 154}
	for i, v := range c.Data().([]float32) {
		if v != want[i] {
			t.Fatalf("a·b = %v, want %v", c.Data(), want)
		}
	}
}
