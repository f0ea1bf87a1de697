package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
)

// ConvOptions configure Conv2D. Each field is (height, width); a zero entry
// selects the default: stride 1, padding 0, dilation 1.
type ConvOptions struct{ Stride, Padding, Dilation [2]int }

// Conv2D returns the 2-D cross-correlation of x, of shape (N, C, H, W), with
// the filters w, of shape (O, C, KH, KW) — PyTorch's layouts and its
// torch.nn.functional.conv2d without bias (add one with BiasAdd, which
// broadcasts a (O) bias over (N, O, OH, OW)):
//
//	y[n, o, i, j] = Σ_c Σ_a Σ_b w[o, c, a, b] · x[n, c, i·sh − ph + a·dh, j·sw − pw + b·dw]
//
// with x zero outside its bounds, and OH = (H + 2·ph − dh·(KH − 1) − 1)/sh + 1
// (floor), likewise OW; see ConvOutputShape. The gradients are
// dx = the transposed convolution of dy with w and dw[o, c, a, b] =
// Σ_n Σ_i Σ_j dy[n, o, i, j] · x[n, c, i·sh − ph + a·dh, j·sw − pw + b·dw].
//
// For float32 on CPUs with AVX-512F or AVX2+FMA, stride 1 and dilation 1,
// the three run on internal/conv's direct kernels (conv_direct.go: no
// im2col, no packing; the forward op keeps the N zero-padded samples,
// C·(H+2ph)·(W+2pw) floats each, which dw reuses in the same run); each
// element is then one chain of fused multiply-adds in a fixed order, the
// same on every path. Otherwise (and for float64) all three are computed by
// im2col and a matrix product (internal/sgemm for float32, gonum's Dgemm
// for float64), one generic kernel for both dtypes; the forward op then
// keeps the column matrices of the whole batch, N·C·KH·KW·OH·OW elements,
// for dw. Either way the work is split across cores by sample, and dw sums
// per-chunk partial products in a fixed order, so every result is the same
// whatever the number of cores.
//
// Bad shapes and options (non-4-D inputs, a channel mismatch, a zero or
// negative stride or dilation, negative padding, a kernel larger than the
// padded input) are errors wrapping ErrShape or ErrConfig that name the op,
// the field, what was wanted and what was given.
func Conv2D(x, w *gorgonia.Node, opt ConvOptions) (*gorgonia.Node, error) {
	const name = "Conv2D"
	if err := checkFloat(name, "x", x); err != nil {
		return nil, err
	}
	if err := checkFloat(name, "w", w); err != nil {
		return nil, err
	}
	if x.Dtype() != w.Dtype() {
		return nil, fmt.Errorf("%w: %s: x is %v, w is %v, want one dtype", ErrDtype, name, x.Dtype(), w.Dtype())
	}
	g, err := convGeometry(x.Shape(), w.Shape(), opt)
	if err != nil {
		return nil, err
	}
	return applyDef(convDef(g, convForward), x, w)
}

// ConvOutputShape returns the shape (N, O, OH, OW) of Conv2D's output for an
// input of shape x = (N, C, H, W) and filters of shape w = (O, C, KH, KW), or
// the error Conv2D would return.
func ConvOutputShape(x, w []int, opt ConvOptions) ([]int, error) {
	g, err := convGeometry(x, w, opt)
	if err != nil {
		return nil, err
	}
	return []int{g.n, g.o, g.oh, g.ow}, nil
}

// convGeom is the validated geometry of one convolution.
type convGeom struct {
	n, c, h, w int // input
	o, kh, kw  int // filters
	sh, sw     int // stride
	ph, pw     int // padding
	dh, dw     int // dilation
	oh, ow     int // output
}

func (g *convGeom) ckk() int { return g.c * g.kh * g.kw } // rows of a column matrix
func (g *convGeom) p() int   { return g.oh * g.ow }       // output positions per map

// String lists every parameter, for op names and hashes.
func (g *convGeom) String() string {
	return fmt.Sprintf("x=(%d,%d,%d,%d) w=(%d,%d,%d,%d) stride=(%d,%d) padding=(%d,%d) dilation=(%d,%d)",
		g.n, g.c, g.h, g.w, g.o, g.c, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
}

// pair2 resolves one (height, width) option: zero entries take def; each
// entry must then be at least least.
func pair2(op, field string, v [2]int, def, least int) ([2]int, error) {
	for i, axis := range [2]string{"height", "width"} {
		if v[i] == 0 {
			v[i] = def
		}
		if v[i] < least {
			return v, fmt.Errorf("%w: %s: %s[%d] (%s) = %d, want ≥ %d", ErrConfig, op, field, i, axis, v[i], least)
		}
	}
	return v, nil
}

// outSize is the number of windows of extent k (dilation included) with
// stride s over n + 2·pad positions, or an error when there are none.
func outSize(op, axis string, n, pad, k, s int) (int, error) {
	if k > n+2*pad {
		return 0, fmt.Errorf("%w: %s: kernel %s %d (dilation included) is larger than the padded input %s %d + 2·%d",
			ErrShape, op, axis, k, axis, n, pad)
	}
	return (n+2*pad-k)/s + 1, nil
}

func convGeometry(xs, ws []int, opt ConvOptions) (convGeom, error) {
	const op = "Conv2D"
	var g convGeom
	if len(xs) != 4 {
		return g, fmt.Errorf("%w: %s: x has shape %v, want 4-D (N, C, H, W)", ErrShape, op, tensor.Shape(xs))
	}
	if len(ws) != 4 {
		return g, fmt.Errorf("%w: %s: w has shape %v, want 4-D (O, C, KH, KW)", ErrShape, op, tensor.Shape(ws))
	}
	for i, d := range xs {
		if d <= 0 {
			return g, fmt.Errorf("%w: %s: x has shape %v, dimension %d is %d, want > 0", ErrShape, op, tensor.Shape(xs), i, d)
		}
	}
	for i, d := range ws {
		if d <= 0 {
			return g, fmt.Errorf("%w: %s: w has shape %v, dimension %d is %d, want > 0", ErrShape, op, tensor.Shape(ws), i, d)
		}
	}
	if xs[1] != ws[1] {
		return g, fmt.Errorf("%w: %s: channels: x %v has C = %d, w %v has C = %d, want equal",
			ErrShape, op, tensor.Shape(xs), xs[1], tensor.Shape(ws), ws[1])
	}
	s, err := pair2(op, "Stride", opt.Stride, 1, 1)
	if err != nil {
		return g, err
	}
	d, err := pair2(op, "Dilation", opt.Dilation, 1, 1)
	if err != nil {
		return g, err
	}
	p, err := pair2(op, "Padding", opt.Padding, 0, 0)
	if err != nil {
		return g, err
	}
	g = convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3],
		sh: s[0], sw: s[1], ph: p[0], pw: p[1], dh: d[0], dw: d[1]}
	if g.oh, err = outSize(op, "height", g.h, g.ph, g.dh*(g.kh-1)+1, g.sh); err != nil {
		return g, err
	}
	if g.ow, err = outSize(op, "width", g.w, g.pw, g.dw*(g.kw-1)+1, g.sw); err != nil {
		return g, err
	}
	return g, nil
}

// The three convolution ops: the forward pass (x, w → y) and the two
// gradients (w, dy → dx) and (x, dy → dw).
const (
	convForward = iota
	convGradX
	convGradW
)

// dwChunk is the number of samples whose dw products are summed into one
// partial: partials are then added in chunk order, so dw does not depend on
// how many cores share the chunks.
const dwChunk = 8

func convDef(g convGeom, kind int) *def {
	return convDefOf(g, kind, &convJob[float32]{g: g, kind: kind}, &convJob[float64]{g: g, kind: kind})
}

func convDefOf(g convGeom, kind int, k32 *convJob[float32], k64 *convJob[float64]) *def {
	d := &def{typ: sig(4, 4, 4), run32: k32.do, run64: k64.do}
	switch kind {
	case convForward:
		d.name, d.label, d.shape = "Conv2D("+g.String()+")", "Conv2D", tensor.Shape{g.n, g.o, g.oh, g.ow}
		d.grad = func(in gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(convDef(g, convGradX), in[1], dy)
			if err != nil {
				return nil, err
			}
			// dw reuses the column matrices of the forward pass of the same
			// run: it takes y as an input so that the tape runs it after
			// the forward op.
			dw, err := applyDef(convDefOf(g, convGradW,
				&convJob[float32]{g: g, kind: convGradW, fwd: k32},
				&convJob[float64]{g: g, kind: convGradW, fwd: k64}), in[0], y, dy)
			if err != nil {
				return nil, err
			}
			return gorgonia.Nodes{dx, dw}, nil
		}
	case convGradX:
		d.name, d.label, d.shape = "Conv2DGradX("+g.String()+")", "Conv2DGradX", tensor.Shape{g.n, g.c, g.h, g.w}
	default:
		d.name, d.label, d.shape = "Conv2DGradW("+g.String()+")", "Conv2DGradW", tensor.Shape{g.o, g.c, g.kh, g.kw}
		d.typ = sig(4, 4, 4, 4)
	}
	return d
}

// convJob runs one of the convolution ops for element type T. It is a
// worker: run handles samples (forward, dx) or dw chunks [lo, hi), with a
// column buffer per part.
type convJob[T float] struct {
	g    convGeom
	kind int
	r    parallel.Runner
	a, b []T    // the inputs of the current run
	out  []T    // its output
	cols [][]T  // im2col buffers (C·KH·KW, OH·OW), one per part (dx) or per sample (forward)
	wT   []T    // forward: the filters transposed, (C·KH·KW, O)
	runs uint64 // forward: runs so far

	// dw: the forward job whose column matrices it reuses when the forward
	// op has run since dw last ran (in a training step, always), and that
	// job's run count then. Otherwise dw computes its own.
	fwd     *convJob[T]
	seen    uint64
	reuse   bool // this run reads fwd's column matrices
	partial []T  // dw: one partial dwᵀ (C·KH·KW, O) per chunk
	dwT     []T  // dw: the sum of the partials, transposed into out at the end

	direct    *directConv // float32 on internal/conv's kernels (conv_direct.go), nil until used
	useDirect bool        // this run is on them
}

// do is the def kernel: it checks the sizes and runs the job across cores.
func (j *convJob[T]) do(out []T, in [][]T) error {
	g := &j.g
	xn, wn, yn := g.n*g.c*g.h*g.w, g.o*g.ckk(), g.n*g.o*g.p()
	want := [3][3]int{{xn, wn, yn}, {wn, yn, xn}, {xn, yn, wn}}[j.kind]
	b := in[1]
	if j.kind == convGradW { // (x, y, dy): y only orders the tape
		if len(in[1]) != yn {
			return fmt.Errorf("%w: %s: y has %d elements, want %d", ErrShape, g.String(), len(in[1]), yn)
		}
		b = in[2]
	}
	if len(in[0]) != want[0] || len(b) != want[1] || len(out) != want[2] {
		return fmt.Errorf("%w: %s: sizes %d, %d → %d, want %d, %d → %d",
			ErrShape, g.String(), len(in[0]), len(b), len(out), want[0], want[1], want[2])
	}
	items := g.n
	if j.kind == convGradW {
		items = (g.n + dwChunk - 1) / dwChunk
		if len(j.partial) != items*wn {
			j.partial = make([]T, items*wn)
			j.dwT = make([]T, wn)
		}
	}
	j.useDirect = directOK[T](g, j.kind)
	if j.useDirect {
		return j.doDirect(out, in[0], b, items)
	}
	need := parallel.Workers(items) // column buffers: one per part…
	if j.kind == convForward {
		need = g.n // …or, for the forward pass, one per sample, kept for dw
	}
	for len(j.cols) < need {
		j.cols = append(j.cols, make([]T, g.ckk()*g.p()))
	}
	reuse := j.kind == convGradW && j.fwd != nil && j.fwd.runs != j.seen && !j.fwd.useDirect && len(j.fwd.cols) == g.n
	if reuse {
		j.seen = j.fwd.runs
	}
	j.reuse = reuse
	j.a, j.b, j.out = in[0], b, out
	if j.kind == convForward {
		// internal/sgemm packs a transposed A by copying contiguous runs and
		// an untransposed one element by element: give it Wᵀ.
		if len(j.wT) != wn {
			j.wT = make([]T, wn)
		}
		transpose(j.wT, j.b, g.o, g.ckk())
	}
	j.r.Run(j, items)
	j.finish(out, items)
	return nil
}

// doDirect is do on the direct kernels.
func (j *convJob[T]) doDirect(out, a, b []T, items int) error {
	g := &j.g
	if j.direct == nil {
		j.direct = new(directConv)
	}
	w := a // forward: (x, w); dx: (w, dy)
	if j.kind == convForward {
		w = b
	}
	if err := j.direct.prepare(g, j.kind, parallel.Workers(items), as32(w)); err != nil {
		return err
	}
	// dw reuses the forward op's padded inputs when it ran on this path
	// since dw last ran.
	f := j.fwd
	j.reuse = j.kind == convGradW && f != nil && f.runs != j.seen && f.useDirect && f.direct != nil && len(f.direct.pad) >= g.n*f.direct.plan.Geom().InLen()
	if j.reuse {
		j.seen = f.runs
	}
	j.a, j.b, j.out = a, b, out
	j.r.Run(j, items)
	j.finish(out, items)
	return nil
}

// finish ends a run: counts the forward op's runs, sums dw's partials.
func (j *convJob[T]) finish(out []T, items int) {
	g := &j.g
	wn := g.o * g.ckk()
	if j.kind == convForward {
		j.runs++
	}
	if j.kind == convGradW {
		copy(j.dwT, j.partial[:wn])
		for c := 1; c < items; c++ {
			for i, v := range j.partial[c*wn : (c+1)*wn] {
				j.dwT[i] += v
			}
		}
		transpose(out, j.dwT, g.ckk(), g.o)
	}
	j.a, j.b, j.out = nil, nil, nil
}

func (j *convJob[T]) Run(part, lo, hi int) {
	if j.useDirect {
		j.runDirect(part, lo, hi)
		return
	}
	g := &j.g
	ckk, p := g.ckk(), g.p()
	xs, ys := g.c*g.h*g.w, g.o*p
	switch j.kind {
	case convForward: // y[n] = W · im2col(x[n]), W given as (Wᵀ)ᵀ
		x, y := j.a, j.out
		for n := lo; n < hi; n++ {
			col := j.cols[n]
			im2col(g, col, x[n*xs:(n+1)*xs])
			serialGemm(true, false, g.o, p, ckk, j.wT, g.o, col, p, 0, y[n*ys:(n+1)*ys], p)
		}
	case convGradX: // dx[n] = col2im(Wᵀ · dy[n])
		w, dy, dx := j.a, j.b, j.out
		col := j.cols[part]
		for n := lo; n < hi; n++ {
			serialGemm(true, false, ckk, p, g.o, w, ckk, dy[n*ys:(n+1)*ys], p, 0, col, p)
			d := dx[n*xs : (n+1)*xs]
			clear(d)
			col2im(g, d, col)
		}
	default: // partial[chunk] = Σ_n im2col(x[n]) · dy[n]ᵀ = dwᵀ of the chunk
		// (im2col's matrix, which im2col writes in contiguous runs, as A;
		// dy[n] as a transposed B, whose packing reads O rows in step).
		x, dy := j.a, j.b
		wn := g.o * ckk
		for c := lo; c < hi; c++ {
			dst := j.partial[c*wn : (c+1)*wn]
			for n := c * dwChunk; n < min((c+1)*dwChunk, g.n); n++ {
				col := j.cols[part]
				if j.reuse {
					col = j.fwd.cols[n]
				} else {
					im2col(g, col, x[n*xs:(n+1)*xs])
				}
				beta := T(1)
				if n == c*dwChunk {
					beta = 0
				}
				serialGemm(false, true, ckk, g.o, p, col, p, dy[n*ys:(n+1)*ys], p, beta, dst, g.o)
			}
		}
	}
}

// transpose writes the transpose of the row-major (rows, cols) matrix src
// into dst, in 8×8 tiles (unrolled) so that both sides stay in cache lines.
func transpose[T float](dst, src []T, rows, cols int) {
	const t = 8
	i0 := 0
	for ; i0+t <= rows; i0 += t {
		j0 := 0
		for ; j0+t <= cols; j0 += t {
			for i := i0; i < i0+t; i++ {
				r := src[i*cols+j0 : i*cols+j0+t]
				d := dst[j0*rows+i:]
				_ = d[7*rows]
				d[0], d[rows], d[2*rows], d[3*rows] = r[0], r[1], r[2], r[3]
				d[4*rows], d[5*rows], d[6*rows], d[7*rows] = r[4], r[5], r[6], r[7]
			}
		}
		for i := i0; i < i0+t; i++ {
			for j := j0; j < cols; j++ {
				dst[j*rows+i] = src[i*cols+j]
			}
		}
	}
	for i := i0; i < rows; i++ {
		for j := range cols {
			dst[j*rows+i] = src[i*cols+j]
		}
	}
}

// span returns the output columns [lo, hi) whose input column
// j·s + off lies in [0, n).
func span(off, s, n, outN int) (lo, hi int) {
	// j·s + off ≥ 0  ⇔  j ≥ ceil(−off/s);  j·s + off < n  ⇔  j < ceil((n − off)/s)
	lo = 0
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	hi = 0
	if n-off > 0 {
		hi = (n - off + s - 1) / s
	}
	return min(lo, outN), max(min(hi, outN), min(lo, outN))
}

// im2col writes the column matrix of one sample x (C, H, W): row
// (c, a, b) of col (C·KH·KW, OH·OW) holds, for every output position (i, j),
// x[c, i·sh − ph + a·dh, j·sw − pw + b·dw], or 0 outside x.
func im2col[T float](g *convGeom, col, x []T) {
	p := g.p()
	r := 0
	for c := range g.c {
		plane := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for a := range g.kh {
			ylo, yhi := span(a*g.dh-g.ph, g.sh, g.h, g.oh)
			for b := range g.kw {
				off := b*g.dw - g.pw
				xlo, xhi := span(off, g.sw, g.w, g.ow)
				row := col[r*p : (r+1)*p]
				r++
				clear(row[:ylo*g.ow])
				clear(row[yhi*g.ow:])
				for i := ylo; i < yhi; i++ {
					src := plane[(i*g.sh-g.ph+a*g.dh)*g.w:]
					dst := row[i*g.ow : (i+1)*g.ow]
					clear(dst[:xlo])
					clear(dst[xhi:])
					if g.sw == 1 {
						copy(dst[xlo:xhi], src[xlo+off:xhi+off])
						continue
					}
					for j := xlo; j < xhi; j++ {
						dst[j] = src[j*g.sw+off]
					}
				}
			}
		}
	}
}

// col2im adds the column matrix col back into one sample dx (C, H, W): the
// transpose of im2col.
func col2im[T float](g *convGeom, dx, col []T) {
	p := g.p()
	r := 0
	for c := range g.c {
		plane := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for a := range g.kh {
			ylo, yhi := span(a*g.dh-g.ph, g.sh, g.h, g.oh)
			for b := range g.kw {
				off := b*g.dw - g.pw
				xlo, xhi := span(off, g.sw, g.w, g.ow)
				row := col[r*p : (r+1)*p]
				r++
				for i := ylo; i < yhi; i++ {
					dst := plane[(i*g.sh-g.ph+a*g.dh)*g.w:]
					src := row[i*g.ow : (i+1)*g.ow]
					if g.sw == 1 {
						d := dst[xlo+off : xhi+off]
						for j, v := range src[xlo:xhi] {
							d[j] += v
						}
						continue
					}
					for j := xlo; j < xhi; j++ {
						dst[j*g.sw+off] += src[j]
					}
				}
			}
		}
	}
}
