//go:build openblas

package graph_test

import (
	"strings"
	"testing"

	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// TestOpenBLASInUse checks that the openblas tag switched Gorgonia (and the
// tensor package under it) to the netlib binding, that the library linked is
// OpenBLAS, and that a matrix product through it is right.
func TestOpenBLASInUse(t *testing.T) {
	if _, ok := gorgonia.WhichBLAS().(netlib.Implementation); !ok {
		t.Fatalf("gorgonia uses %T, want netlib.Implementation", gorgonia.WhichBLAS())
	}
	info := graph.BLASInfo()
	t.Log(info)
	if !strings.HasPrefix(info, "OpenBLAS (OpenBLAS") {
		t.Fatalf("BLASInfo() = %q, want OpenBLAS's own configuration string", info)
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
