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
// one generic entry point for both. For float32 the columns of C are cut
// into blocks small enough that internal/sgemm runs each on the calling
// goroutine; every element of C is computed exactly as in one call.
func serialGemm[T float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	if unsafe.Sizeof(beta) == 8 {
		gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
		return
	}
	a32, b32, c32 := as32(a), as32(b), as32(c)
	step := n
	if mk := m * k; mk > 0 && mk*n >= sgemmSerialFlops {
		step = max(16, (sgemmSerialFlops-1)/mk/16*16)
	}
	for j0 := 0; j0 < n; j0 += step {
		cols := min(step, n-j0)
		bj := b32[j0:]
		if tB {
			bj = b32[j0*ldb:]
		}
		sgemmFn(ta, tb, m, cols, k, 1, a32, lda, bj, ldb, float32(beta), c32[j0:], ldc)
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
