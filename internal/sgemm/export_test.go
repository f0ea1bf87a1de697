package sgemm

import (
	"github.com/gradlab/gradlab/internal/simd"
	"gonum.org/v1/gonum/blas"
)

// OpenBLASSgemm is OpenBLAS's Sgemm under the openblas tag (set by
// openblas_bench_test.go), for BenchmarkSgemm.
var OpenBLASSgemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// setPath makes Sgemm take path p (which the CPU must run) until restore is called.
func setPath(p simd.Path) (restore func()) {
	old := active
	active = p
	return func() { active = old }
}
