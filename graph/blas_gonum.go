//go:build !openblas

package graph

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/internal/sgemm"
)

// In the default build Gorgonia (and package ops) use gonum's pure-Go BLAS,
// except for the float32 matrix product, which goes to internal/sgemm: an
// AVX-512 or AVX2/FMA kernel in Go assembly where the CPU has one (chosen at
// run time), gonum's Sgemm otherwise. Importing package graph installs it
// for every Gorgonia graph in the process, not only gradlab's (Gorgonia's
// BLAS is process-wide: gorgonia.Use); BLASInfo says which runs.
func init() { gorgonia.Use(goBLAS{}) }

type goBLAS struct{ gonum.Implementation }

func (goBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BLASInfo names the BLAS that matrix products use: in the default build,
// gonum's pure-Go implementation, with gradlab's own float32 matrix product
// when the CPU has AVX-512 or AVX2 and FMA (build with -tags openblas for
// OpenBLAS).
func BLASInfo() string {
	if sgemm.Accelerated() {
		return "gonum (pure Go), float32 matrix product: gradlab " + sgemm.Kernel() + " kernel"
	}
	return "gonum (pure Go)"
}
