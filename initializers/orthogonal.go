package initializers

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// orthogonal returns, in row-major order, a rows×cols matrix with orthonormal
// columns (rows ≥ cols) or rows (rows < cols), times gain, as PyTorch's
// orthogonal_: it draws a rows×cols standard normal matrix in row-major order,
// factorizes it (or its transpose, so that the factorized matrix A is m×k
// with m ≥ k) as A = QR, and multiplies column j of Q by the sign of R[j][j];
// the sign correction makes the distribution of Q uniform (Haar).
//
// Only the thin m×k Q is formed (Householder QR, then Q applied to the first
// k columns of the identity), so a tall 100000×10 weight needs 100000×10
// floats, not 100000².
func orthogonal(r *rand.Rand, rows, cols int, gain float64) []float64 {
	transposed := rows < cols
	m, k := rows, cols
	if transposed {
		m, k = cols, rows
	}
	a := blas64.General{Rows: m, Cols: k, Stride: k, Data: make([]float64, m*k)}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			z := r.NormFloat64()
			if transposed {
				a.Data[j*k+i] = z
			} else {
				a.Data[i*k+j] = z
			}
		}
	}
	tau := make([]float64, k)
	work := make([]float64, 1)
	lapack64.Geqrf(a, tau, work, -1)
	work = make([]float64, max(int(work[0]), m, k))
	lapack64.Geqrf(a, tau, work, len(work))

	q := blas64.General{Rows: m, Cols: k, Stride: k, Data: make([]float64, m*k)}
	for j := 0; j < k; j++ {
		q.Data[j*k+j] = 1
	}
	lapack64.Ormqr(blas.Left, blas.NoTrans, a, tau, q, work, -1)
	if n := int(work[0]); n > len(work) {
		work = make([]float64, n)
	}
	lapack64.Ormqr(blas.Left, blas.NoTrans, a, tau, q, work, len(work))

	out := make([]float64, rows*cols)
	for j := 0; j < k; j++ {
		s := gain
		if a.Data[j*k+j] < 0 { // R[j][j]
			s = -gain
		}
		for i := 0; i < m; i++ {
			v := s * q.Data[i*k+j]
			if transposed {
				out[j*cols+i] = v // the result is Qᵀ: row j, column i
			} else {
				out[i*cols+j] = v
			}
		}
	}
	return out
}
