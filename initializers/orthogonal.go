package initializers

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// orthogonal returns, in row-major order, a rows×cols matrix with orthonormal
// columns (rows ≥ cols) or rows (rows < cols), times gain. It draws a
// rows×cols standard normal matrix in row-major order, factorizes it (or its
// transpose, so that the factorized matrix is tall) as QR, and multiplies
// column j of Q by the sign of R[j][j], as PyTorch's orthogonal_ does; the
// sign correction makes the distribution of Q uniform.
func orthogonal(r *rand.Rand, rows, cols int, gain float64) []float64 {
	g := make([]float64, rows*cols)
	for i := range g {
		g[i] = r.NormFloat64()
	}
	a := mat.NewDense(rows, cols, g)
	transposed := rows < cols
	var src mat.Matrix = a
	m, k := rows, cols // src is m×k with m ≥ k
	if transposed {
		src = a.T()
		m, k = cols, rows
	}
	var qr mat.QR
	qr.Factorize(src)
	var q, rr mat.Dense
	qr.QTo(&q)  // m×m
	qr.RTo(&rr) // m×k
	out := make([]float64, rows*cols)
	for j := 0; j < k; j++ {
		s := gain
		if rr.At(j, j) < 0 {
			s = -gain
		}
		for i := 0; i < m; i++ {
			v := s * q.At(i, j)
			if transposed {
				out[j*cols+i] = v // the result is Qᵀ: row j, column i
			} else {
				out[i*cols+j] = v
			}
		}
	}
	return out
}
