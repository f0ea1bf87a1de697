package sgemm

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Block sizes: an A panel is mr rows, a B panel nr columns; kc is the depth
// of one packed block, mc the rows of A packed at once (a multiple of mr),
// nc the columns of B packed at once (a multiple of nr).
const (
	mr, nr = 6, 16
	kc     = 256
	mc     = 96
	nc     = 1024
)

// parallelFlops is the size (m·n·k) from which the rows of C are split
// between goroutines.
const parallelFlops = 1 << 20

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as
// tA, tB say, op(A) is m×k, op(B) is k×n and C is m×n, all row-major with
// leading dimensions lda, ldb, ldc. It panics on bad arguments as gonum's
// Sgemm does (it checks them by delegating when it cannot use the kernel).
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !useKernel || !argsOK(tA, tB, m, n, k, a, lda, b, ldb, c, ldc) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m == 0 || n == 0 {
		return
	}
	if beta != 1 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				for j := range row {
					row[j] *= beta
				}
			}
		}
	}
	if alpha == 0 || k == 0 {
		return
	}
	g := &gemm{tA: tA != blas.NoTrans, tB: tB != blas.NoTrans, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	g.run()
}

// argsOK reports whether the arguments are valid (gonum's checks); invalid
// calls go to gonum, which panics with its usual message.
func argsOK(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) bool {
	okT := func(t blas.Transpose) bool { return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans }
	if !okT(tA) || !okT(tB) || m < 0 || n < 0 || k < 0 {
		return false
	}
	rowsA, colsA := m, k
	if tA != blas.NoTrans {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if tB != blas.NoTrans {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) || ldb < max(1, colsB) || ldc < max(1, n) {
		return false
	}
	need := func(rows, cols, ld, have int) bool { return rows == 0 || cols == 0 || have >= ld*(rows-1)+cols }
	return need(rowsA, colsA, lda, len(a)) && need(rowsB, colsB, ldb, len(b)) && need(m, n, ldc, len(c))
}

type gemm struct {
	tA, tB    bool
	m, n, k   int
	alpha     float32
	a, b, c   []float32
	lda, ldb  int
	ldc       int
	packedB   []float32
	bCols, bK int
	bJ0, bP0  int
	mb        int // rows of A per block, ≤ mc, a multiple of mr
}

var pool = sync.Pool{New: func() any { s := make([]float32, 0); return &s }}

func getBuf(n int) *[]float32 {
	p := pool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

func (g *gemm) run() {
	workers := 1
	if g.m*g.n*g.k >= parallelFlops {
		workers = min(runtime.GOMAXPROCS(0), (g.m+mr-1)/mr)
	}
	// Blocks of at most mc rows, small enough that every worker gets one
	// (m = 128 on two workers: 66 + 62 rows, not 96 + 32).
	per := (g.m + workers - 1) / workers
	g.mb = min(mc, (per+mr-1)/mr*mr)
	bp := getBuf(kc * (nc + nr))
	defer pool.Put(bp)
	for j0 := 0; j0 < g.n; j0 += nc {
		cols := min(nc, g.n-j0)
		for p0 := 0; p0 < g.k; p0 += kc {
			depth := min(kc, g.k-p0)
			g.packB(*bp, p0, depth, j0, cols)
			g.packedB, g.bCols, g.bK, g.bJ0, g.bP0 = *bp, cols, depth, j0, p0
			if workers == 1 {
				ap := getBuf(mc * kc)
				for i0 := 0; i0 < g.m; i0 += g.mb {
					g.block(*ap, i0)
				}
				pool.Put(ap)
				continue
			}
			var wg sync.WaitGroup
			blocks := (g.m + g.mb - 1) / g.mb
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ap := getBuf(mc * kc)
					for blk := w; blk < blocks; blk += workers {
						g.block(*ap, blk*g.mb)
					}
					pool.Put(ap)
				}()
			}
			wg.Wait()
		}
	}
}

// packB packs op(B)[p0:p0+depth, j0:j0+cols] into panels of nr columns:
// panel q holds element (p, j) at q·depth·nr + p·nr + j, zero-padded.
func (g *gemm) packB(dst []float32, p0, depth, j0, cols int) {
	panels := (cols + nr - 1) / nr
	for q := range panels {
		pan := dst[q*depth*nr : (q+1)*depth*nr]
		jn := min(nr, cols-q*nr)
		jb := j0 + q*nr
		for p := range depth {
			row := pan[p*nr : p*nr+nr]
			if !g.tB {
				src := g.b[(p0+p)*g.ldb+jb:]
				copy(row[:jn], src[:jn])
			} else {
				for j := range jn {
					row[j] = g.b[(jb+j)*g.ldb+p0+p]
				}
			}
			clear(row[jn:])
		}
	}
}

// packA packs alpha·op(A)[i0:i0+rows, p0:p0+depth] into panels of mr rows:
// panel r holds element (i, p) at r·depth·mr + p·mr + i, zero-padded.
func (g *gemm) packA(dst []float32, i0, rows, p0, depth int) {
	panels := (rows + mr - 1) / mr
	for r := range panels {
		pan := dst[r*depth*mr : (r+1)*depth*mr]
		in := min(mr, rows-r*mr)
		ib := i0 + r*mr
		if in < mr {
			clear(pan)
		}
		if !g.tA {
			for i := range in {
				src := g.a[(ib+i)*g.lda+p0 : (ib+i)*g.lda+p0+depth]
				for p, v := range src {
					pan[p*mr+i] = g.alpha * v
				}
			}
		} else {
			for p := range depth {
				src := g.a[(p0+p)*g.lda+ib : (p0+p)*g.lda+ib+in]
				dst := pan[p*mr : p*mr+in]
				for i, v := range src {
					dst[i] = g.alpha * v
				}
			}
		}
	}
}

// block multiplies rows [i0, i0+mb) of op(A), for the packed B block, into C.
func (g *gemm) block(ap []float32, i0 int) {
	rows := min(g.mb, g.m-i0)
	depth, cols := g.bK, g.bCols
	g.packA(ap, i0, rows, g.bP0, depth)
	var tmp [mr * nr]float32
	for q := 0; q*nr < cols; q++ {
		bpan := g.packedB[q*depth*nr:]
		jn := min(nr, cols-q*nr)
		j := g.bJ0 + q*nr
		for r := 0; r*mr < rows; r++ {
			apan := ap[r*depth*mr:]
			in := min(mr, rows-r*mr)
			i := i0 + r*mr
			if in == mr && jn == nr {
				kernel(depth, &apan[0], &bpan[0], &g.c[i*g.ldc+j], g.ldc)
				continue
			}
			clear(tmp[:])
			kernel(depth, &apan[0], &bpan[0], &tmp[0], nr)
			for ii := range in {
				crow := g.c[(i+ii)*g.ldc+j : (i+ii)*g.ldc+j+jn]
				for jj := range crow {
					crow[jj] += tmp[ii*nr+jj]
				}
			}
		}
	}
}
