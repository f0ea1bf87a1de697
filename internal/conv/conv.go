package conv

import (
	"errors"
	"fmt"
	"math"

	"github.com/gradlab/gradlab/internal/simd"
)

// ErrShape reports a geometry the kernels do not take.
var ErrShape = errors.New("conv: unsupported shape")

// Slack is the number of floats a padded input must hold past its last
// plane: the kernels load whole vectors, whose lanes past the last output
// column read (and then discard) up to 15 elements further.
const Slack = 16

// Block is the number of output channels packed together in the filters.
const Block = 16

// active is the path the kernels take: the fastest the CPU runs.
var active = simd.Paths()[0]

// Accelerated reports whether the kernels run in assembly (AVX-512F, or
// AVX2 and FMA) rather than as the Go reference loops.
func Accelerated() bool { return active != simd.Go }

// Kernel names the active path: "avx512", "avx2" or "go".
func Kernel() string { return active.String() }

// ForcePath makes the kernels take the named path ("avx512", "avx2", "go"),
// which the CPU must run, until restore is called; it reports false (and
// changes nothing) when the CPU cannot. For tests of callers; not safe
// while kernels run.
func ForcePath(name string) (restore func(), ok bool) {
	for _, p := range simd.Paths() {
		if p.String() == name {
			old := active
			active = p
			return func() { active = old }, true
		}
	}
	return func() {}, false
}

// Paths names the paths this CPU runs, fastest first (the last is "go").
func Paths() []string {
	var s []string
	for _, p := range simd.Paths() {
		s = append(s, p.String())
	}
	return s
}

// Geom is a stride-1, dilation-1 correlation of one zero-padded sample:
// input (C, Hp, Wp) — the padding already in it —, filters (O, C, KH, KW),
// output (O, OH, OW) with OH = Hp − KH + 1, OW = Wp − KW + 1.
type Geom struct{ C, Hp, Wp, KH, KW, O int }

// OH and OW are the output's height and width.
func (g Geom) OH() int { return g.Hp - g.KH + 1 }
func (g Geom) OW() int { return g.Wp - g.KW + 1 }

// InLen is the length of a padded input buffer: C·Hp·Wp plus Slack.
func (g Geom) InLen() int { return g.C*g.Hp*g.Wp + Slack }

// PackedLen is the length of the packed filters: the blocked layout (O
// rounded up to a multiple of Block, times C·KH·KW) and, for the
// channel-vectorized kernel, the transposed one (C·KH·KW, O).
func (g Geom) PackedLen() int { return g.blockedLen() + g.GradLen() }

func (g Geom) blockedLen() int { return (g.O + Block - 1) / Block * Block * g.C * g.KH * g.KW }

// ScratchLen is the length of the scratch buffer Forward needs: the output
// transposed, OH·OW·O.
func (g Geom) ScratchLen() int { return g.OH() * g.OW() * g.O }

// GradLen is the length of Weights' output, dwᵀ: C·KH·KW·O.
func (g Geom) GradLen() int { return g.O * g.C * g.KH * g.KW }

// Plan is a Geom with the kernels' offset table, built once per geometry.
type Plan struct {
	g   Geom
	tab []int32 // byte offset of input tap (c, a, b), in step order
}

// NewPlan checks g and builds its plan: every size positive, the output
// non-empty. (The weight gradient takes fewer shapes: WeightsOK.)
func NewPlan(g Geom) (*Plan, error) {
	if g.C <= 0 || g.KH <= 0 || g.KW <= 0 || g.O <= 0 || g.OH() <= 0 || g.OW() <= 0 {
		return nil, fmt.Errorf("%w: %+v (want C, KH, KW, O > 0, Hp ≥ KH, Wp ≥ KW)", ErrShape, g)
	}
	if int64(g.C)*int64(g.Hp)*int64(g.Wp)*4 > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %+v: input larger than 2 GiB", ErrShape, g)
	}
	p := &Plan{g: g, tab: make([]int32, 0, g.C*g.KH*g.KW)}
	for c := range g.C {
		for a := range g.KH {
			for b := range g.KW {
				p.tab = append(p.tab, int32(4*((c*g.Hp+a)*g.Wp+b)))
			}
		}
	}
	return p, nil
}

// Geom returns the plan's geometry.
func (p *Plan) Geom() Geom { return p.g }

// WeightsOK reports whether Weights takes the plan's geometry: filters 3 or
// 5 wide, output channels a multiple of Block.
func (p *Plan) WeightsOK() bool { return (p.g.KW == 3 || p.g.KW == 5) && p.g.O%Block == 0 }

// Pad writes the zero-padded copy of one sample x (C, H, W) into dst
// (C, H+2·ph, W+2·pw, then Slack zeros), as Forward and Weights read it.
func Pad(dst, x []float32, c, h, w, ph, pw int) {
	hp, wp := h+2*ph, w+2*pw
	dst = dst[:c*hp*wp+Slack]
	x = x[:c*h*w]
	for ci := range c {
		plane := dst[ci*hp*wp : (ci+1)*hp*wp]
		clear(plane[:ph*wp])
		clear(plane[(ph+h)*wp:])
		for i := range h {
			row := plane[(ph+i)*wp : (ph+i+1)*wp]
			clear(row[:pw])
			copy(row[pw:pw+w], x[(ci*h+i)*w:(ci*h+i+1)*w])
			clear(row[pw+w:])
		}
	}
	clear(dst[c*hp*wp:])
}

// PackForward packs filters w (O, C, KH, KW) for Forward: block ob of Block
// output channels, step s = (c, a, b), lane r at dst[(ob·C·KH·KW + s)·Block + r]
// (lanes past O zero).
func PackForward(dst, w []float32, o, c, kh, kw int) {
	steps := c * kh * kw
	clear(dst[o/Block*Block*steps : (o+Block-1)/Block*Block*steps])
	for oi := range o {
		ob, r := oi/Block, oi%Block
		for s := range steps {
			dst[(ob*steps+s)*Block+r] = w[oi*steps+s]
		}
	}
	packT(dst, o, steps)
}

// packT writes the transposed layout (steps, o) after the blocked one.
func packT(dst []float32, o, steps int) {
	t := dst[(o+Block-1)/Block*Block*steps:]
	for oi := range o {
		b := dst[(oi/Block)*steps*Block+oi%Block:]
		for s := range steps {
			t[s*o+oi] = b[s*Block]
		}
	}
}

// PackTransposed packs filters w (O, C, KH, KW) for the input gradient: the
// filters of the correlation of the output gradient (O channels) that gives
// the input gradient (C channels), w'[ci, oi, a, b] = w[oi, ci, KH−1−a, KW−1−b],
// in PackForward's layout.
func PackTransposed(dst, w []float32, o, c, kh, kw int) {
	steps := o * kh * kw
	clear(dst[c/Block*Block*steps : (c+Block-1)/Block*Block*steps])
	for ci := range c {
		cb, r := ci/Block, ci%Block
		for oi := range o {
			for a := range kh {
				for b := range kw {
					s := (oi*kh+a)*kw + b
					dst[(cb*o*kh*kw+s)*Block+r] = w[((oi*c+ci)*kh+kh-1-a)*kw+kw-1-b]
				}
			}
		}
	}
	packT(dst, c, steps)
}

// Forward writes y (O, OH, OW) = the correlation of the padded sample x
// (InLen floats) with the packed filters w (PackForward's layout):
// y[o, i, j] is the chain acc = fma(x[c, i+a, j+b], w[o, c, a, b], acc) over
// (c, a, b) in order from acc = 0. scratch (ScratchLen floats) is
// overwritten.
func (p *Plan) Forward(y, x, w, scratch []float32) {
	g := &p.g
	oh, ow, steps := g.OH(), g.OW(), len(p.tab)
	_ = y[g.O*oh*ow-1]
	_ = x[g.InLen()-1]
	_ = w[g.PackedLen()-1]
	if active == simd.AVX512 && chanT && g.O%32 == 0 {
		forwardT(p, y, x, w[g.blockedLen():], scratch[:g.ScratchLen()])
		return
	}
	// Blocks of 16 (8) channels, then one channel at a time for the
	// rest, 8, 4, 2 or 1 rows per call.
	switch active {
	case simd.AVX512:
		o := 0
		for ; r8x3 && o+8 <= g.O; o += 8 {
			wb := w[(o/Block)*steps*Block+o%Block:]
			for j0 := 0; j0 < ow; j0 += 16 {
				mask := uint16(1)<<min(16, ow-j0) - 1
				for i := 0; i < oh; i += 3 {
					fwd512r8(min(3, oh-i), &x[i*g.Wp+j0], &wb[0], &y[(o*oh+i)*ow+j0], &p.tab[0], steps, 4*g.Wp, 4*ow, 4*oh*ow, mask)
				}
			}
		}
		for ; o+Block <= g.O; o += Block {
			wb := w[o*steps:]
			for j0 := 0; j0 < ow; j0 += 16 {
				mask := uint16(1)<<min(16, ow-j0) - 1
				fwd512(&x[j0], &wb[0], &y[o*oh*ow+j0], &p.tab[0], steps, oh, 4*g.Wp, 4*ow, 4*oh*ow, mask)
			}
		}
		for ; o < g.O; o++ {
			wo := w[(o/Block)*steps*Block+o%Block:]
			for j0 := 0; j0 < ow; j0 += 16 {
				mask := uint16(1)<<min(16, ow-j0) - 1
				for i := 0; i < oh; {
					v := rowBlock(oh - i)
					fwd512c1(v, &x[i*g.Wp+j0], &wo[0], &y[(o*oh+i)*ow+j0], &p.tab[0], steps, 4*g.Wp, 4*ow, mask)
					i += v
				}
			}
		}
	case simd.AVX2:
		o := 0
		for ; o+8 <= g.O; o += 8 {
			wb := w[(o/Block)*steps*Block+o%Block:]
			for j0 := 0; j0 < ow; j0 += 8 {
				fwd256(&x[j0], &wb[0], &y[o*oh*ow+j0], &p.tab[0], steps, oh, 4*g.Wp, 4*ow, 4*oh*ow, &masks8[min(8, ow-j0)])
			}
		}
		for ; o < g.O; o++ {
			wo := w[(o/Block)*steps*Block+o%Block:]
			for j0 := 0; j0 < ow; j0 += 8 {
				for i := 0; i < oh; {
					v := rowBlock(oh - i)
					fwd256c1(v, &x[i*g.Wp+j0], &wo[0], &y[(o*oh+i)*ow+j0], &p.tab[0], steps, 4*g.Wp, 4*ow, &masks8[min(8, ow-j0)])
					i += v
				}
			}
		}
	default:
		forwardGo(p, y, x, w)
	}
}

// forwardT is Forward on the channel-vectorized AVX-512 kernels, for O a
// multiple of 32: rows cut into chunks of at most 14 pixels, 32 channels at
// a time, the output written transposed to yT and transposed back into y.
// (16-channel blocks of up to 28 pixels, for O = 16, measured slower than
// the pixel-vectorized kernels: one load per FMA for the broadcasts, and the
// transposes.)
func forwardT(p *Plan, y, x, wT, yT []float32) {
	g := &p.g
	oh, ow, steps := g.OH(), g.OW(), len(p.tab)
	vo, most := 2, 14
	chunks := (ow + most - 1) / most
	for o := 0; o < g.O; o += 16 * vo {
		for c := range chunks {
			j0, j1 := c*ow/chunks, (c+1)*ow/chunks
			fwdT(j1-j0, vo, &x[j0], &wT[o], &yT[j0*g.O+o], &p.tab[0], steps, oh, 4*g.Wp, 4*ow*g.O, 4*g.O, 4*g.O)
		}
	}
	Transpose(y, yT, oh*ow, g.O)
}

// chanT selects the channel-vectorized AVX-512 forward kernels (forwardT)
// when O is a multiple of 32; tests run both.
var chanT = true

// r8x3 selects the AVX-512 block of 8 channels × 3 rows (fwd512r8) over
// 16 channels × 1 row (fwd512); tests run both.
var r8x3 = true

// rowBlock is the number of rows the one-channel kernels take when left
// rows are left: 8, 4, 2 or 1.
func rowBlock(left int) int {
	switch {
	case left >= 8:
		return 8
	case left >= 4:
		return 4
	case left >= 2:
		return 2
	}
	return 1
}

// masks8[n] is the AVX2 store mask of the first n lanes.
var masks8 = func() (m [9][8]int32) {
	for n := range m {
		for l := range n {
			m[n][l] = -1
		}
	}
	return m
}()

func forwardGo(p *Plan, y, x, w []float32) {
	g := &p.g
	oh, ow, steps := g.OH(), g.OW(), len(p.tab)
	for o := range g.O {
		wo := w[(o/Block)*steps*Block+o%Block:]
		for i := range oh {
			for j := range ow {
				base := i*g.Wp + j
				var acc float32
				for s, off := range p.tab {
					acc = fma32(x[base+int(off)/4], wo[s*Block], acc)
				}
				y[(o*oh+i)*ow+j] = acc
			}
		}
	}
}

// Weights writes dwT (C·KH·KW, O), row (c, a, b), column o, the weight
// gradient transposed, for n samples: x holds their padded inputs, xs floats
// apart (xs ≥ InLen), dyT their output gradients transposed to
// (n, OH·OW, O). Element (s, o) is the chain acc = fma(x[c, i+a, j+b], dyT[(i, j), o], acc)
// over the samples, rows i and columns j in order from acc = 0.
func (p *Plan) Weights(dwT, x []float32, xs int, dyT []float32, n int) error {
	g := &p.g
	if !p.WeightsOK() {
		return fmt.Errorf("%w: Weights: KW = %d, O = %d, want KW 3 or 5 and O a multiple of %d", ErrShape, g.KW, g.O, Block)
	}
	oh, ow := g.OH(), g.OW()
	if n <= 0 || xs < g.InLen() || len(x) < (n-1)*xs+g.InLen() || len(dyT) < n*oh*ow*g.O || len(dwT) < g.GradLen() {
		return fmt.Errorf("%w: Weights: buffers too short for %d samples", ErrShape, n)
	}
	switch active {
	case simd.AVX512:
		weights512(p, dwT, x, xs, dyT, n)
	case simd.AVX2:
		weights256(p, dwT, x, xs, dyT, n)
	default:
		weightsGo(p, dwT, x, xs, dyT, n)
	}
	return nil
}

func weightsGo(p *Plan, dwT, x []float32, xs int, dyT []float32, n int) {
	g := &p.g
	oh, ow := g.OH(), g.OW()
	for s, off := range p.tab {
		for o := range g.O {
			var acc float32
			for k := range n {
				xk := x[k*xs+int(off)/4:]
				dk := dyT[k*oh*ow*g.O+o:]
				for i := range oh {
					for j := range ow {
						acc = fma32(xk[i*g.Wp+j], dk[(i*ow+j)*g.O], acc)
					}
				}
			}
			dwT[s*g.O+o] = acc
		}
	}
}

// tapRows returns the filter rows handled together from row a on: the most
// the kernels of the path take for width kw and vo vectors, at most what is left.
func tapRows(na []int, left int) int {
	for _, n := range na {
		if n <= left {
			return n
		}
	}
	return 1
}

func weights512(p *Plan, dwT, x []float32, xs int, dyT []float32, n int) {
	g := &p.g
	oh, ow := g.OH(), g.OW()
	vo := 1
	switch {
	case g.O%64 == 0:
		vo = 4
	case g.O%32 == 0:
		vo = 2
	}
	na := dw512Rows[g.KW][vo]
	for c := range g.C {
		for a := 0; a < g.KH; {
			rows := tapRows(na, g.KH-a)
			s := (c*g.KH + a) * g.KW
			for o := 0; o < g.O; o += 16 * vo {
				dw512(g.KW, rows, vo, &x[int(p.tab[s])/4], &dyT[o], &dwT[s*g.O+o], n, oh, ow, 4*g.Wp, 4*xs, 4*g.O)
			}
			a += rows
		}
	}
}

func weights256(p *Plan, dwT, x []float32, xs int, dyT []float32, n int) {
	g := &p.g
	oh, ow := g.OH(), g.OW()
	na := dw256Rows[g.KW]
	for c := range g.C {
		for a := 0; a < g.KH; {
			rows := tapRows(na, g.KH-a)
			s := (c*g.KH + a) * g.KW
			for o := 0; o < g.O; o += 8 {
				dw256(g.KW, rows, &x[int(p.tab[s])/4], &dyT[o], &dwT[s*g.O+o], n, oh, ow, 4*g.Wp, 4*xs, 4*g.O)
			}
			a += rows
		}
	}
}

// fma32 returns a·b + c rounded once to float32, as VFMADD does. The
// product of two float32 is exact in float64, so the only error of
// float64(a)·float64(b) + float64(c) is its one rounding to float64; the
// float32 rounding of that result differs from the exact sum's only when it
// lands exactly halfway between two float32 values, and then the sign of
// the float64 rounding error (TwoSum) says which way the exact sum lies.
func fma32(a, b, c float32) float32 {
	pr, cc := float64(a)*float64(b), float64(c)
	s := pr + cc
	r := float32(s)
	if float64(r) == s || math.IsInf(float64(r), 0) || s != s {
		return r
	}
	// The other float32 neighbour of s.
	o := math.Nextafter32(r, float32(math.Inf(1)))
	if float64(r) > s {
		o = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if (float64(r)+float64(o))/2 != s {
		return r
	}
	bb := s - pr
	e := (pr - (s - bb)) + (cc - bb) // exact sum = s + e
	switch {
	case e > 0:
		return max(r, o)
	case e < 0:
		return min(r, o)
	}
	return r
}

// Transpose writes the transpose of the row-major (rows, cols) matrix src
// into dst (cols, rows): with AVX-512 in 16×16 tiles, the edges (and every
// element on the other paths) one at a time. It only moves values, so every
// path gives the same result.
func Transpose(dst, src []float32, rows, cols int) {
	src, dst = src[:rows*cols], dst[:rows*cols]
	r0, c0 := 0, 0
	if active == simd.AVX512 {
		r0, c0 = rows/16*16, cols/16*16
		for i := 0; i < r0; i += 16 {
			for j := 0; j < c0; j += 16 {
				transpose512(&dst[j*rows+i], &src[i*cols+j], 4*rows, 4*cols)
			}
		}
	}
	for i := range rows {
		j := 0
		if i < r0 {
			j = c0 // the tiles have the rest of row i
		}
		for ; j < cols; j++ {
			dst[j*rows+i] = src[i*cols+j]
		}
	}
}
