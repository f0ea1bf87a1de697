package ops

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/gradlab/gradlab/internal/sgemm"
)

// sgemmSerialFlops is the product size m·n·k from which internal/sgemm
// splits its work between goroutines (its parallelFlops). The convolution
// kernels are already split across cores by sample, so serialGemm keeps
// each call below it: nested splitting would start goroutines (and
// allocate) on every call for no gain. If the threshold changes only the
// speed changes: results of internal/sgemm do not depend on its split.
const sgemmSerialFlops = 1 << 20

// serialGemm computes C = op(A)·op(B) + beta·C (row-major, op(A) m×k, op(B)
// k×n) for float32 with internal/sgemm and for float64 with gonum's Dgemm,
// one generic entry point for both. For float32, a product of
// sgemmSerialFlops or more is cut into blocks small enough that
// internal/sgemm runs each on the calling goroutine: blocks of rows or of
// columns of C (each packs the other operand again) or blocks of the inner
// dimension accumulated into C (each operand packed once, C read and written
// per block), whichever packs fewest elements. The blocks depend only on the
// shape, so results do not depend on how the caller splits its work.
func serialGemm[T float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blasT(tA), blasT(tB)
	if unsafe.Sizeof(beta) == 8 {
		gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
		return
	}
	a32, b32, c32 := as32(a), as32(b), as32(c)
	if m*n*k < sgemmSerialFlops || k == 0 {
		sgemmFn(ta, tb, m, n, k, 1, a32, lda, b32, ldb, float32(beta), c32, ldc)
		return
	}
	stepN := max(16, (sgemmSerialFlops-1)/(m*k)/16*16) // columns per block
	stepM := max(6, (sgemmSerialFlops-1)/(n*k)/6*6)    // rows per block
	costN := ((n+stepN-1)/stepN)*m*k + k*n             // elements packed
	costM := m*k + ((m+stepM-1)/stepM)*k*n
	if costN <= costM {
		for j0 := 0; j0 < n; j0 += stepN {
			var bj []float32
			if tB {
				bj = b32[j0*ldb:]
			} else {
				bj = b32[j0:]
			}
			sgemmFn(ta, tb, m, min(stepN, n-j0), k, 1, a32, lda, bj, ldb, float32(beta), c32[j0:], ldc)
		}
		return
	}
	for i0 := 0; i0 < m; i0 += stepM {
		var ai []float32
		if tA {
			ai = a32[i0:]
		} else {
			ai = a32[i0*lda:]
		}
		sgemmFn(ta, tb, min(stepM, m-i0), n, k, 1, ai, lda, b32, ldb, float32(beta), c32[i0*ldc:], ldc)
	}
}

// sgemmFn is internal/sgemm.Sgemm; a test replaces it to count the
// allocations of the ops' own code apart from internal/sgemm's.
var sgemmFn = sgemm.Sgemm

// as32 and as64 reinterpret a []T as the slice of its underlying type; the
// caller has checked T's size. (A type switch on any(s) would allocate.)
func as32[T float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func as64[T float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// blasT is the BLAS transpose flag for "transposed" t.
func blasT(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// packedMat is the right operand of many products by one matrix, a
// recurrent layer's W_hh at every time step: for float32 it is packed once
// into internal/sgemm's panels (each step's product then packs only its
// A); float64 (gonum's Dgemm) multiplies by the matrix itself.
type packedMat[T float] struct {
	p    sgemm.Packed
	tB   bool
	k, n int
	b    []T
	ldb  int
}

// pack makes p hold op(B) (k×n, B row-major with leading dimension ldb,
// transposed if tB); B must not change while p is used.
func (p *packedMat[T]) pack(tB bool, k, n int, b []T, ldb int) {
	p.tB, p.k, p.n, p.b, p.ldb = tB, k, n, b, ldb
	if !isF64[T]() {
		p.p.Pack(blasT(tB), k, n, as32(b), ldb)
	}
}

// mul computes C = A·op(B) + beta·C for the op(B) p holds, A m×k.
func (p *packedMat[T]) mul(m int, a []T, lda int, beta T, c []T, ldc int) {
	if isF64[T]() || m == 0 || p.n == 0 || p.k == 0 {
		mm(false, p.tB, m, p.n, p.k, a, lda, p.b, p.ldb, beta, c, ldc)
		return
	}
	sgemm.MulPacked(blas.NoTrans, m, 1, as32(a), lda, &p.p, float32(beta), as32(c), ldc)
}
