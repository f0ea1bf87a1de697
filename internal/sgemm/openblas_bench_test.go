//go:build openblas

package sgemm_test

import (
	"gonum.org/v1/netlib/blas/netlib"

	"github.com/gradlab/gradlab/internal/sgemm"

	_ "github.com/gradlab/gradlab/graph" // links -lopenblas
)

// Under the openblas tag BenchmarkSgemm also times OpenBLAS.
func init() { sgemm.OpenBLASSgemm = netlib.Implementation{}.Sgemm }
