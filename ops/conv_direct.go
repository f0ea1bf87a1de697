package ops

import (
	"unsafe"

	"github.com/gradlab/gradlab/internal/conv"
)

// directConv is the float32 state of a convolution op on internal/conv's
// direct kernels (no im2col, no matrix-product packing), which the op takes
// when the CPU has them (AVX-512F, or AVX2 and FMA) and the geometry fits:
// stride 1 and dilation 1 both ways; dx also needs the padding at most
// KH − 1, KW − 1; dw needs KW = 3 or 5 and O a multiple of 16. Otherwise the
// op runs im2col and the matrix product.
//
//   - forward: y[n] = the correlation of x[n], zero-padded into pad (all N
//     samples, kept for dw, C·(H+2ph)·(W+2pw) floats each instead of im2col's
//     C·KH·KW·OH·OW), with the filters packed 16 output channels at a time;
//   - dx: the same kernel on dy[n] zero-padded by KH−1−ph, KW−1−pw (one
//     buffer per part), with the filters flipped and transposed;
//   - dw: per chunk of dwChunk samples, dwᵀ of the chunk from the padded
//     inputs (the forward op's when it ran since, else padded here) and the
//     chunk's dy transposed to (OH·OW, O); chunks summed in order as before.
//
// Each element is one chain of fused multiply-adds in a fixed order, the
// same on AVX-512 and AVX2 (internal/conv's tests compare them bit for
// bit), so the results do not depend on the path or the number of cores;
// they differ from the im2col path's only by rounding (another order).
type directConv struct {
	plan *conv.Plan
	wp   []float32 // forward, dx: the packed filters
	pad  []float32 // forward: N padded samples; dx: one padded dy per part; dw: dwChunk padded samples per part
	dyT  []float32 // dw: dwChunk transposed output gradients per part
	tmp  []float32 // forward, dx: the kernels' scratch, one per part
	runs uint64    // forward: runs on this path so far
}

// directOK reports whether op kind of geometry g can run on the direct
// kernels for element type T (decided per run: tests switch the path).
func directOK[T float](g *convGeom, kind int) bool {
	var z T
	if unsafe.Sizeof(z) != 4 || !conv.Accelerated() || g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1 {
		return false
	}
	switch kind {
	case convForward:
		return true
	case convGradX:
		return g.ph <= g.kh-1 && g.pw <= g.kw-1
	}
	return g.o%conv.Block == 0 && (g.kw == 3 || g.kw == 5)
}

// directGeom is the correlation the kernels run for op kind of g.
func directGeom(g *convGeom, kind int) conv.Geom {
	if kind == convGradX {
		qh, qw := g.kh-1-g.ph, g.kw-1-g.pw
		return conv.Geom{C: g.o, Hp: g.oh + 2*qh, Wp: g.ow + 2*qw, KH: g.kh, KW: g.kw, O: g.c}
	}
	return conv.Geom{C: g.c, Hp: g.h + 2*g.ph, Wp: g.w + 2*g.pw, KH: g.kh, KW: g.kw, O: g.o}
}

// prepare sizes d's buffers for a run of op kind on items parts and packs
// the filters w (forward, dx).
func (d *directConv) prepare(g *convGeom, kind, parts int, w []float32) error {
	if d.plan == nil {
		p, err := conv.NewPlan(directGeom(g, kind))
		if err != nil {
			return err
		}
		d.plan = p
	}
	dg := d.plan.Geom()
	grow := func(s []float32, n int) []float32 {
		if len(s) < n {
			return make([]float32, n)
		}
		return s
	}
	switch kind {
	case convForward:
		d.wp = grow(d.wp, dg.PackedLen())
		conv.PackForward(d.wp, w, g.o, g.c, g.kh, g.kw)
		d.pad = grow(d.pad, g.n*dg.InLen())
		d.tmp = grow(d.tmp, parts*dg.ScratchLen())
	case convGradX:
		d.wp = grow(d.wp, dg.PackedLen())
		conv.PackTransposed(d.wp, w, g.o, g.c, g.kh, g.kw)
		d.pad = grow(d.pad, parts*dg.InLen())
		d.tmp = grow(d.tmp, parts*dg.ScratchLen())
	default:
		d.pad = grow(d.pad, parts*dwChunk*dg.InLen())
		d.dyT = grow(d.dyT, parts*dwChunk*g.o*g.p())
	}
	return nil
}

// runDirect is convJob.Run on the direct kernels (float32).
func (j *convJob[T]) runDirect(part, lo, hi int) {
	g, d := &j.g, j.direct
	dg := d.plan.Geom()
	in := dg.InLen()
	p := g.p()
	xs, ys := g.c*g.h*g.w, g.o*p
	a, b, out := as32(j.a), as32(j.b), as32(j.out)
	var tmp []float32
	if sl := dg.ScratchLen(); j.kind != convGradW {
		tmp = d.tmp[part*sl : (part+1)*sl]
	}
	switch j.kind {
	case convForward:
		for n := lo; n < hi; n++ {
			xp := d.pad[n*in : (n+1)*in]
			conv.Pad(xp, a[n*xs:(n+1)*xs], g.c, g.h, g.w, g.ph, g.pw)
			d.plan.Forward(out[n*ys:(n+1)*ys], xp, d.wp, tmp)
		}
	case convGradX:
		dyp := d.pad[part*in : (part+1)*in]
		qh, qw := g.kh-1-g.ph, g.kw-1-g.pw
		for n := lo; n < hi; n++ {
			conv.Pad(dyp, b[n*ys:(n+1)*ys], g.o, g.oh, g.ow, qh, qw)
			d.plan.Forward(out[n*xs:(n+1)*xs], dyp, d.wp, tmp)
		}
	default:
		wn := g.o * g.ckk()
		dyT := d.dyT[part*dwChunk*ys : (part+1)*dwChunk*ys]
		for c := lo; c < hi; c++ {
			n0, n1 := c*dwChunk, min((c+1)*dwChunk, g.n)
			var xp []float32
			if j.reuse {
				xp = j.fwd.direct.pad[n0*in : n1*in]
			} else {
				xp = d.pad[part*dwChunk*in : (part*dwChunk+n1-n0)*in]
				for n := n0; n < n1; n++ {
					conv.Pad(xp[(n-n0)*in:(n-n0+1)*in], a[n*xs:(n+1)*xs], g.c, g.h, g.w, g.ph, g.pw)
				}
			}
			for n := n0; n < n1; n++ {
				conv.Transpose(dyT[(n-n0)*ys:(n-n0+1)*ys], b[n*ys:(n+1)*ys], g.o, p)
			}
			// The shapes were checked when the plan was built.
			_ = d.plan.Weights(as32(j.partial[c*wn:(c+1)*wn]), xp, in, dyT, n1-n0)
		}
	}
}
