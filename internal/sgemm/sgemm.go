package sgemm

import (
	"fmt"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/simd"
)

// Block sizes: kc is the depth of one packed block, mc the rows of A packed
// at once (a multiple of every kernel's mr), nc the columns of B packed at
// once (a multiple of every kernel's nr). An A panel is mr rows, a B panel nr
// columns, as the kernel of the active path says.
const (
	kc = 256
	mc = 96
	nc = 1024
	// maxMR, maxNR bound the kernels' blocks (for buffers).
	maxMR, maxNR = 24, 32
	// narrowN: products with n ≤ narrowN use the path's narrow kernel.
	narrowN = 16
)

// parallelFlops is the size (m·n·k) from which the rows of C are split
// between goroutines.
const parallelFlops = 1 << 20

// kern is a micro-kernel; spec its block. Each adds the product of a packed
// mr×k panel of A (a[p·mr+i]) and a packed k×nr panel of B (b[p·nr+j]) into
// the mr×nr block of C at c, whose rows are ldc floats apart (or, with add
// false, stores it there without reading C).
type kern uint8

const (
	k6x16  kern = iota // AVX2 + FMA
	k12x32             // AVX-512F
	k24x16             // AVX-512F, for n ≤ narrowN
)

type spec struct{ mr, nr int }

var kernels = [...]spec{k6x16: {mr: 6, nr: 16}, k12x32: {mr: 12, nr: 32}, k24x16: {mr: 24, nr: 16}}

// kernelFor returns the kernel path p uses for a product with n columns.
func kernelFor(p simd.Path, n int) kern {
	switch {
	case p == simd.AVX512 && n <= narrowN:
		return k24x16
	case p == simd.AVX512:
		return k12x32
	}
	return k6x16
}

// kernel calls kernel kn (direct calls, not a func value: through a func
// value the block buffers given to it would escape to the heap).
func kernel(kn kern, k int, a, b, c *float32, ldc int, add bool) {
	switch kn {
	case k12x32:
		kernel12x32(k, a, b, c, ldc, add)
	case k24x16:
		kernel24x16(k, a, b, c, ldc, add)
	default:
		kernel6x16(k, a, b, c, ldc, add)
	}
}

// active is the path Sgemm takes: the fastest the CPU runs (run-time
// dispatch, so one binary serves CPUs with and without AVX-512). Tests force
// each path in turn (setPath in export_test.go).
var active = simd.Paths()[0]

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as
// tA, tB say, op(A) is m×k, op(B) is k×n and C is m×n, all row-major with
// leading dimensions lda, ldb, ldc. It panics on bad arguments as gonum's
// Sgemm does (it checks them by delegating when it cannot use the kernel).
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	product(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// product is Sgemm, with B's panels taken from pre when pre is not nil
// (pre holds op(B) = b packed for the active path).
func product(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, pre *Packed) {
	p := active
	if p == simd.Go || !argsOK(tA, tB, m, n, k, a, lda, b, ldb, c, ldc) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m == 0 || n == 0 {
		return
	}
	// β = 0 with work to do: the first block of k overwrites C (the kernels
	// store without reading it), which saves a pass over C; gonum's Sgemm
	// likewise never reads C when β = 0.
	overwrite := beta == 0 && alpha != 0 && k != 0
	if beta != 1 && !overwrite {
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
	kn := kernelFor(p, n)
	ks := kernels[kn]
	g := gemms.Get().(*gemm)
	r := g.r // kept: a task of an earlier call may still hold it
	if r == nil {
		r = new(parallel.Runner)
	}
	*g = gemm{tA: tA != blas.NoTrans, tB: tB != blas.NoTrans, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, kn: kn, mr: ks.mr, nr: ks.nr, overwrite: overwrite, pre: pre, r: r}
	g.run()
	*g = gemm{r: r} // drop the references to the matrices
	gemms.Put(g)
}

// Packed is a right operand op(B) packed once for many products by it (a
// recurrent layer multiplies by the same weights at every time step), in
// the panels the active path's kernel reads: MulPacked then skips Sgemm's
// packing of B. The zero value is empty; Pack reuses its buffer. B must not
// change while its packed copy is used.
type Packed struct {
	tB   blas.Transpose
	k, n int
	b    []float32 // B itself (the pure-Go path, and products on a path other than the packing one, use it)
	ldb  int
	path simd.Path
	data []float32 // for each block of nc columns j0, each block of kc rows p0: at j0·k + p0·(the block's padded width)
}

// Pack packs op(B) (k×n; B row-major with leading dimension ldb, transposed
// if tB says so) into p. It panics on bad arguments, as Sgemm does.
func (p *Packed) Pack(tB blas.Transpose, k, n int, b []float32, ldb int) {
	if !argsOK(blas.NoTrans, tB, 0, n, k, nil, max(1, k), b, ldb, nil, max(1, n)) {
		panic(fmt.Sprintf("sgemm: Pack: bad arguments: op(B) %d×%d, transpose %c, ldb %d, %d elements", k, n, tB, ldb, len(b)))
	}
	*p = Packed{tB: tB, k: k, n: n, b: b, ldb: ldb, path: active, data: p.data[:0]}
	if active == simd.Go {
		return
	}
	kn := kernelFor(active, n)
	nr := kernels[kn].nr
	g := gemm{tB: tB != blas.NoTrans, n: n, k: k, b: b, ldb: ldb, kn: kn, nr: nr}
	p.data = slices.Grow(p.data, k*roundUp(n, nr))[:k*roundUp(n, nr)]
	for j0 := 0; j0 < n; j0 += nc {
		cols := min(nc, n-j0)
		for p0 := 0; p0 < k; p0 += kc {
			g.packB(p.data[j0*k+p0*roundUp(cols, nr):], p0, min(kc, k-p0), j0, cols)
		}
	}
}

// MulPacked computes C = alpha·op(A)·op(B) + beta·C for the op(B) packed in
// p: Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) with the
// tB, k, n, b and ldb given to Pack, without packing B again.
func MulPacked(tA blas.Transpose, m int, alpha float32, a []float32, lda int, p *Packed, beta float32, c []float32, ldc int) {
	pre := p
	if p.path != active { // packed for another path's kernel (tests force paths)
		pre = nil
	}
	product(tA, p.tB, m, p.n, p.k, alpha, a, lda, p.b, p.ldb, beta, c, ldc, pre)
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// gemms recycles the per-call state, so a call allocates nothing.
var gemms = sync.Pool{New: func() any { return new(gemm) }}

// Run computes the items [lo, hi) of C for the current B block: item i is
// the rows of row block i / g.blockChunks and the B panels of column chunk
// i % g.blockChunks. The items are those of a parallel.Worker, run across the
// cores by internal/parallel's pool (no goroutine or closure per call).
func (g *gemm) Run(_, lo, hi int) {
	ap := getBuf(aBufs, mc*kc)
	packed := -1 // the row block whose A panels ap holds
	panels := (g.bCols + g.nr - 1) / g.nr
	for it := lo; it < hi; it++ {
		blk, ch := it/g.blockChunks, it%g.blockChunks
		i0 := blk * g.mb
		if blk != packed {
			g.packA(*ap, i0, min(g.mb, g.m-i0), g.bP0, g.bK)
			packed = blk
		}
		g.block(*ap, i0, ch*g.chunkPanels, min(panels, (ch+1)*g.chunkPanels))
	}
	putBuf(aBufs, ap)
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
	tA, tB      bool
	m, n, k     int
	alpha       float32
	a, b, c     []float32
	lda, ldb    int
	ldc         int
	packedB     []float32
	bCols, bK   int
	bJ0, bP0    int
	mb          int     // rows of A per block, ≤ mc, a multiple of mr
	chunkPanels int     // B panels per column chunk of the current B block
	blockChunks int     // its chunks (fewer than asked when it is narrow): the items are row blocks × blockChunks
	pre         *Packed // B packed before the call (MulPacked), or nil: packed block by block into packedB
	kn          kern
	mr, nr      int
	overwrite   bool             // β = 0: blocks with bP0 = 0 store into C instead of adding
	r           *parallel.Runner // never reset (see Sgemm)
}

// aBufs and bBufs are free lists of packing buffers for A (mc·kc floats) and
// B (kc·(nc+maxNR), ~1 MiB). Not sync.Pools: a pool drops its contents at
// every garbage collection, and a training step (Gorgonia allocates)
// collects often enough that products would keep reallocating them. At most
// 16 of each are kept.
var aBufs, bBufs = make(chan *[]float32, 16), make(chan *[]float32, 16)

func getBuf(bufs chan *[]float32, n int) *[]float32 {
	var p *[]float32
	select {
	case p = <-bufs:
	default:
		p = new([]float32)
	}
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

func putBuf(bufs chan *[]float32, p *[]float32) {
	select {
	case bufs <- p:
	default:
	}
}

func (g *gemm) run() {
	mr, nr := g.mr, g.nr
	rowPanels := (g.m + mr - 1) / mr
	nw := 1
	if g.m*g.n*g.k >= parallelFlops {
		nw = parallel.Workers(rowPanels * ((min(g.n, nc) + nr - 1) / nr))
	}
	chunks := 1 // column chunks wanted per row block
	if nw > 1 && rowPanels < 4*nw {
		// Few rows (a recurrent step's batch of 32 is three 12-row panels,
		// which two cores cannot share evenly): the row blocks are split into
		// column chunks too, one per core, and every item packs its A panels.
		// (Two per core, for balance on a busy machine, measured slower:
		// likely the caller taking most of the smaller items before a pool
		// goroutine wakes.)
		g.mb = min(mc, rowPanels*mr)
		blocks := (g.m + g.mb - 1) / g.mb
		chunks = (nw + blocks - 1) / blocks
	} else {
		// Blocks of at most mc rows, small enough that every worker gets one
		// (m = 128 on two workers: 66 + 62 rows, not 96 + 32).
		per := (g.m + nw - 1) / nw
		g.mb = min(mc, roundUp(per, mr))
	}
	blocks := (g.m + g.mb - 1) / g.mb
	var bp *[]float32
	if g.pre == nil {
		bp = getBuf(bBufs, kc*(nc+maxNR))
		defer putBuf(bBufs, bp)
	}
	for j0 := 0; j0 < g.n; j0 += nc {
		cols := min(nc, g.n-j0)
		panels := (cols + nr - 1) / nr
		g.chunkPanels = (panels + chunks - 1) / chunks
		// A narrow last block of columns may have fewer chunks than asked.
		g.blockChunks = (panels + g.chunkPanels - 1) / g.chunkPanels
		items := blocks * g.blockChunks
		for p0 := 0; p0 < g.k; p0 += kc {
			depth := min(kc, g.k-p0)
			if g.pre != nil {
				g.packedB = g.pre.data[j0*g.k+p0*panels*nr:]
			} else {
				g.packB(*bp, p0, depth, j0, cols)
				g.packedB = *bp
			}
			g.bCols, g.bK, g.bJ0, g.bP0 = cols, depth, j0, p0
			if nw > 1 {
				g.r.Run(g, items)
			} else {
				g.Run(0, 0, items)
			}
		}
	}
}

// packB packs op(B)[p0:p0+depth, j0:j0+cols] into panels of nr columns:
// panel q holds element (p, j) at q·depth·nr + p·nr + j, zero-padded.
func (g *gemm) packB(dst []float32, p0, depth, j0, cols int) {
	nr := g.nr
	panels := (cols + nr - 1) / nr
	if !g.tB {
		// Row by row of B, each read in order (rows of a wide B are far
		// apart: reading 32 columns of every row before moving on was
		// memory-latency bound), scattered to the panels.
		full := cols / nr
		if full < panels && g.kn != k6x16 && depth > 0 {
			// The partial last panel with masked vector copies (AVX-512).
			jn := cols - full*nr
			pan := dst[full*depth*nr : (full+1)*depth*nr]
			src := g.b[p0*g.ldb+j0+full*nr:]
			_ = src[(depth-1)*g.ldb+jn-1] // the last element read
			for h := 0; h < nr; h += 16 {
				lanes := min(16, max(0, jn-h))
				copy16(&pan[h], &src[min(h, jn-1)], depth, g.ldb, nr, uint16(1)<<lanes-1)
			}
			panels = full
		}
		for p := range depth {
			src := g.b[(p0+p)*g.ldb+j0 : (p0+p)*g.ldb+j0+cols]
			off := p * nr
			for q := range full {
				row := dst[q*depth*nr+off : q*depth*nr+off+nr]
				s := src[q*nr:]
				if nr == 32 { // fixed-size copies: vector moves, not a memmove call
					*(*[32]float32)(row) = *(*[32]float32)(s)
				} else {
					*(*[16]float32)(row) = *(*[16]float32)(s)
				}
			}
			if full < panels { // AVX2 path
				row := dst[full*depth*nr+off : full*depth*nr+off+nr]
				rest := src[full*nr:]
				for j := range row { // short: a loop, not copy's memmove call
					if j < len(rest) {
						row[j] = rest[j]
					} else {
						row[j] = 0
					}
				}
			}
		}
		return
	}
	for q := range panels {
		pan := dst[q*depth*nr : (q+1)*depth*nr]
		jn := min(nr, cols-q*nr)
		jb := j0 + q*nr
		if jn < nr {
			clear(pan)
		}
		if g.gather(pan, g.b, jb, jn, g.ldb, p0, depth, nr, 1) {
			continue
		}
		// Four rows of B (columns of op(B)) at a time, each read in order.
		j := 0
		for ; j+4 <= jn; j += 4 {
			o := (jb+j)*g.ldb + p0
			s0 := g.b[o : o+depth]
			s1 := g.b[o+g.ldb : o+g.ldb+depth]
			s2 := g.b[o+2*g.ldb : o+2*g.ldb+depth]
			s3 := g.b[o+3*g.ldb : o+3*g.ldb+depth]
			s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
			for p, v := range s0 {
				d := pan[p*nr+j : p*nr+j+4]
				d[0], d[1], d[2], d[3] = v, s1[p], s2[p], s3[p]
			}
		}
		for ; j < jn; j++ {
			o := (jb+j)*g.ldb + p0
			for p, v := range g.b[o : o+depth] {
				pan[p*nr+j] = v
			}
		}
	}
}

// packA packs alpha·op(A)[i0:i0+rows, p0:p0+depth] into panels of mr rows:
// panel r holds element (i, p) at r·depth·mr + p·mr + i, zero-padded.
func (g *gemm) packA(dst []float32, i0, rows, p0, depth int) {
	mr := g.mr
	alpha := g.alpha
	panels := (rows + mr - 1) / mr
	for r := range panels {
		pan := dst[r*depth*mr : (r+1)*depth*mr]
		in := min(mr, rows-r*mr)
		ib := i0 + r*mr
		if in < mr {
			clear(pan)
		}
		if !g.tA && g.gather(pan, g.a, ib, in, g.lda, p0, depth, mr, alpha) {
			continue
		}
		if !g.tA {
			// Three rows of A at a time, each read in order (every kernel's mr
			// is a multiple of 3).
			i := 0
			for ; i+3 <= in; i += 3 {
				o := (ib+i)*g.lda + p0
				s0 := g.a[o : o+depth]
				s1 := g.a[o+g.lda : o+g.lda+depth]
				s2 := g.a[o+2*g.lda : o+2*g.lda+depth]
				s1, s2 = s1[:len(s0)], s2[:len(s0)]
				for p, v := range s0 {
					d := pan[p*mr+i : p*mr+i+3]
					d[0], d[1], d[2] = alpha*v, alpha*s1[p], alpha*s2[p]
				}
			}
			for ; i < in; i++ {
				o := (ib+i)*g.lda + p0
				for p, v := range g.a[o : o+depth] {
					pan[p*mr+i] = alpha * v
				}
			}
			continue
		}
		if g.kn != k6x16 && depth > 0 { // AVX-512: masked vector copies
			_ = g.a[(p0+depth-1)*g.lda+ib+in-1] // the last element read
			for c := 0; c < in; c += 16 {
				lanes := min(16, in-c)
				scale16(&pan[c], &g.a[p0*g.lda+ib+c], depth, g.lda, mr, uint16(1)<<lanes-1, alpha)
			}
			continue
		}
		if in == mr && alpha == 1 { // the common case: fixed-size copies
			for p := range depth {
				o := (p0+p)*g.lda + ib
				switch mr {
				case 24:
					*(*[24]float32)(pan[p*24:]) = *(*[24]float32)(g.a[o : o+24])
				case 12:
					*(*[12]float32)(pan[p*12:]) = *(*[12]float32)(g.a[o : o+12])
				default:
					*(*[6]float32)(pan[p*6:]) = *(*[6]float32)(g.a[o : o+6])
				}
			}
			continue
		}
		for p := range depth {
			src := g.a[(p0+p)*g.lda+ib : (p0+p)*g.lda+ib+in]
			d := pan[p*mr : p*mr+in]
			for i, v := range src {
				d[i] = alpha * v
			}
		}
	}
}

// gather packs rows [r0, r0+rows) of the row-major x (leading dimension ld),
// columns [p0, p0+depth), into pan depth-major (pan[p·stride+i] = alpha·x[r0+i, p0+p])
// with the AVX-512 gather, 16 rows at a time, and reports whether it did
// (only on the AVX-512 path).
func (g *gemm) gather(pan, x []float32, r0, rows, ld, p0, depth, stride int, alpha float32) bool {
	if g.kn == k6x16 || depth == 0 || ld >= 1<<26 {
		return false
	}
	var idx [16]int32
	for l := range idx {
		idx[l] = int32(l * ld)
	}
	for c := 0; c < rows; c += 16 {
		lanes := min(16, rows-c)
		_ = x[(r0+c+lanes-1)*ld+p0+depth-1] // the last element gathered
		_ = pan[(depth-1)*stride+c+lanes-1] // the last element written
		gather16(&pan[c], &x[(r0+c)*ld+p0], &idx, uint16(1)<<lanes-1, depth, stride, alpha)
	}
	return true
}

// block multiplies rows [i0, i0+mb) of op(A), packed in ap, by the panels
// [q0, q1) of the packed B block, into C. Panels of A in the outer loop, of B
// in the inner one: each A panel stays in L1 while the B block streams from
// L2, and C is written row panel by row panel, mr rows at a time left to
// right. (With B panels outside, a short k — 400×25088×32 — wrote C as mb
// interleaved streams and ran at half the speed.)
func (g *gemm) block(ap []float32, i0, q0, q1 int) {
	rows := min(g.mb, g.m-i0)
	depth, cols := g.bK, g.bCols
	mr, nr := g.mr, g.nr
	add := !g.overwrite || g.bP0 > 0
	var tmp [maxMR * maxNR]float32
	for r := 0; r*mr < rows; r++ {
		apan := ap[r*depth*mr:]
		in := min(mr, rows-r*mr)
		i := i0 + r*mr
		for q := q0; q < q1; q++ {
			bpan := g.packedB[q*depth*nr:]
			jn := min(nr, cols-q*nr)
			j := g.bJ0 + q*nr
			if in == mr && jn == nr {
				kernel(g.kn, depth, &apan[0], &bpan[0], &g.c[i*g.ldc+j], g.ldc, add)
				continue
			}
			kernel(g.kn, depth, &apan[0], &bpan[0], &tmp[0], nr, false)
			for ii := range in {
				crow := g.c[(i+ii)*g.ldc+j : (i+ii)*g.ldc+j+jn]
				if add {
					for jj := range crow {
						crow[jj] += tmp[ii*nr+jj]
					}
				} else {
					copy(crow, tmp[ii*nr:ii*nr+jn])
				}
			}
		}
	}
}
