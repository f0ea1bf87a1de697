package ops

import (
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
)

// Several outputs. A Gorgonia node has one value, so an op with several
// results (LSTM's y, hT and cT; a backward pass's gradients of every input)
// is one fused op whose value packs them all, and one cheap selector node per
// result that copies its part out (Part). A selector's gradient is the
// scatter of its output gradient into a zero tensor of the packed shape;
// Gorgonia adds the scatters of all the selectors that reach the loss, so
// the fused op's backward pass sees one gradient of the packed value, zero
// where a result is unused.

// part is a contiguous block of a packed value: with the value viewed as
// (outer, k, inner), the entries [lo, hi) of the middle axis, given the
// shape to.
type part struct {
	outer, k, inner int
	lo, hi          int
	to              tensor.Shape
}

func (p part) String() string {
	return fmt.Sprintf("(%d,%d,%d)[%d:%d]→%v", p.outer, p.k, p.inner, p.lo, p.hi, p.to)
}

// selectPart returns the part p of x (which has outer·k·inner elements).
func selectPart(label string, x *gorgonia.Node, p part) (*gorgonia.Node, error) {
	if x.Shape().TotalSize() != p.outer*p.k*p.inner || p.to.TotalSize() != p.outer*(p.hi-p.lo)*p.inner {
		return nil, fmt.Errorf("%w: %s: part %v of %v", ErrShape, label, p, x.Shape())
	}
	return applyDef(partDef(label, x.Shape().Clone(), p), x)
}

// partDef copies part p out of a value of shape from; its gradient scatters
// back.
func partDef(label string, from tensor.Shape, p part) *def {
	return &def{
		name:  fmt.Sprintf("%sPart(%v of %v)", label, p, from),
		label: label + "Part",
		typ:   sig(len(from), len(p.to)),
		shape: p.to.Clone(),
		run32: p.take32,
		run64: p.take64,
		grad: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(scatterDef(label, from, p), g)
			return gorgonia.Nodes{dx}, err
		},
	}
}

// scatterDef writes a part's gradient into zeros of the packed shape.
func scatterDef(label string, from tensor.Shape, p part) *def {
	return &def{
		name:  fmt.Sprintf("%sScatter(%v of %v)", label, p, from),
		label: label + "Scatter",
		typ:   sig(len(p.to), len(from)),
		shape: from.Clone(),
		run32: p.put32,
		run64: p.put64,
		grad: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(partDef(label, from, p), g)
			return gorgonia.Nodes{dx}, err
		},
	}
}

func (p part) take32(out []float32, in [][]float32) error { return take(p, out, in[0]) }
func (p part) take64(out []float64, in [][]float64) error { return take(p, out, in[0]) }
func (p part) put32(out []float32, in [][]float32) error  { return put(p, out, in[0]) }
func (p part) put64(out []float64, in [][]float64) error  { return put(p, out, in[0]) }

func take[T float](p part, out, x []T) error {
	w := (p.hi - p.lo) * p.inner
	for o := range p.outer {
		copy(out[o*w:(o+1)*w], x[(o*p.k+p.lo)*p.inner:])
	}
	return nil
}

func put[T float](p part, out, g []T) error {
	clear(out)
	w := (p.hi - p.lo) * p.inner
	for o := range p.outer {
		copy(out[(o*p.k+p.lo)*p.inner:], g[o*w:(o+1)*w])
	}
	return nil
}

// flatParts returns the selectors of a flat packed value (a backward pass's
// gradients laid end to end) with the given shapes, in order.
func flatParts(label string, x *gorgonia.Node, shapes ...tensor.Shape) (gorgonia.Nodes, error) {
	total := 0
	for _, s := range shapes {
		total += s.TotalSize()
	}
	out := make(gorgonia.Nodes, len(shapes))
	lo := 0
	for i, s := range shapes {
		n, err := selectPart(label, x, part{outer: 1, k: total, inner: 1, lo: lo, hi: lo + s.TotalSize(), to: s})
		if err != nil {
			return nil, err
		}
		out[i], lo = n, lo+s.TotalSize()
	}
	return out, nil
}

// sizes returns the total size of shapes.
func sizes(shapes ...tensor.Shape) int {
	n := 0
	for _, s := range shapes {
		n += s.TotalSize()
	}
	return n
}

// mm computes C = op(A)·op(B) + beta·C (row-major) with internal/sgemm for
// float32 (split across cores, results independent of the split) and gonum's
// Dgemm for float64.
func mm[T float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blasT(tA), blasT(tB)
	if k == 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	if isF64[T]() {
		gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
		return
	}
	sgemmFn(ta, tb, m, n, k, 1, as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
}

// isF64 reports whether T is float64 (resolved at compile time).
func isF64[T float]() bool {
	var z T
	return unsafe.Sizeof(z) == 8
}

// grow returns s with length n, reallocated only when too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// colSums writes the sums of the columns of the (rows, cols) matrix a into
// dst (overwriting it), rows in order: the same result whatever the cores.
func colSums[T float](dst, a []T, rows, cols int) {
	clear(dst[:cols])
	for r := range rows {
		row := a[r*cols : (r+1)*cols]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// rows runs a per-step kernel over the batch rows of a recurrence on all
// cores (each row is independent within a step), or on the calling
// goroutine when the step is small.
type rows struct{ r parallel.Runner }

// rowsSerial is the number of elements per step below which a step runs on
// the calling goroutine.
const rowsSerial = 1 << 12

// Run calls w.Run over [0, n) rows of width elements each.
func (r *rows) Run(w parallel.Worker, n int) { r.RunWidth(w, n, 0) }

// RunWidth is Run for rows of width elements: small steps stay serial.
func (r *rows) RunWidth(w parallel.Worker, n, width int) {
	if width > 0 && n*width < rowsSerial {
		w.Run(0, 0, n)
		return
	}
	r.r.Run(w, n)
}
