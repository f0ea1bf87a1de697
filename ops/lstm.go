package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/vec"
)

// LSTM runs a one-layer, batch-first LSTM over all T steps of x, as
// torch.nn.LSTM(batch_first=True) does with the same weights: x is (N, T, I),
// h0 and c0 are (N, H), wIH is (4H, I), wHH is (4H, H), bIH and bHH are (4H),
// the gates stacked in PyTorch's order i, f, g, o. For t = 1…T:
//
//	i = σ(W_ii·x_t + b_ii + W_hi·h_{t−1} + b_hi)
//	f = σ(W_if·x_t + b_if + W_hf·h_{t−1} + b_hf)
//	g = tanh(W_ig·x_t + b_ig + W_hg·h_{t−1} + b_hg)
//	o = σ(W_io·x_t + b_io + W_ho·h_{t−1} + b_ho)
//	c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
//
// y (N, T, H) holds h_t of every step; hT and cT (N, H) are the last step's
// states. Every float input gets its gradient (backpropagation through time).
//
// The recurrence is one fused op: the input projections of all steps are one
// matrix product (N·T, I)·(I, 4H), then each step adds h_{t−1}·W_HHᵀ (one
// product of (N, H) by (H, 4H)) and applies the gates; the backward op runs
// the steps in reverse with one (N, 4H)·(4H, H) product each and gets dx,
// dW_IH and dW_HH as one product each over all steps. Gate activations and
// cell states are kept in the op between the forward and backward passes of
// a run; nothing is allocated per step.
//
// Gorgonia nodes have one value, so the fused op's value packs its three
// results as (N, T+1, H): rows 0…T−1 of the middle axis are y, row T is cT
// (and hT is row T−1). y, hT and cT are selector nodes that copy their rows
// out; each selector's gradient scatters into a zero (N, T+1, H) tensor and
// Gorgonia sums them, so the backward op gets one gradient of the packed
// value (zero where a result is unused). Likewise the backward op's value
// packs the seven input gradients end to end, each read by a selector.
//
// Shapes that do not fit (T = 0, hidden sizes of h0, c0 and the weights that
// disagree, an input size other than wIH's) are ErrShape errors, mixed dtypes
// ErrDtype errors, at construction.
func LSTM(x, h0, c0, wIH, wHH, bIH, bHH *gorgonia.Node) (y, hT, cT *gorgonia.Node, err error) {
	const op = "LSTM"
	d, err := recurrentDims(op, 4, x, []*gorgonia.Node{h0, c0}, []string{"h0", "c0"}, wIH, wHH, bIH, bHH)
	if err != nil {
		return nil, nil, nil, err
	}
	fwd32, fwd64 := &lstmFwd[float32]{d: d}, &lstmFwd[float64]{d: d}
	packedShape := tensor.Shape{d.n, d.t + 1, d.h}
	fd := &def{
		name:  "LSTM(" + d.String() + ")",
		label: op,
		typ:   sig(3, 2, 2, 2, 2, 1, 1, 3),
		shape: packedShape,
		run32: fwd32.run,
		run64: fwd64.run,
	}
	fd.grad = func(in gorgonia.Nodes, packed, g *gorgonia.Node) (gorgonia.Nodes, error) {
		bwd := &def{
			name:  "LSTMGrad(" + d.String() + ")",
			label: op + "Grad",
			typ:   sig(3, 2, 2, 2, 2, 1, 1, 3, 3, 1),
			shape: tensor.Shape{sizes(d.lstmGradShapes()...)},
			run32: (&lstmBwd[float32]{f: fwd32}).run,
			run64: (&lstmBwd[float64]{f: fwd64}).run,
		}
		blob, err := applyDef(bwd, append(append(gorgonia.Nodes{}, in...), packed, g)...)
		if err != nil {
			return nil, err
		}
		return flatParts(op+"Grad", blob, d.lstmGradShapes()...)
	}
	packed, err := applyDef(fd, x, h0, c0, wIH, wHH, bIH, bHH)
	if err != nil {
		return nil, nil, nil, err
	}
	view := func(lo, hi int, to tensor.Shape) (*gorgonia.Node, error) {
		return selectPart(op, packed, part{outer: d.n, k: d.t + 1, inner: d.h, lo: lo, hi: hi, to: to})
	}
	if y, err = view(0, d.t, tensor.Shape{d.n, d.t, d.h}); err != nil {
		return nil, nil, nil, err
	}
	if hT, err = view(d.t-1, d.t, tensor.Shape{d.n, d.h}); err != nil {
		return nil, nil, nil, err
	}
	if cT, err = view(d.t, d.t+1, tensor.Shape{d.n, d.h}); err != nil {
		return nil, nil, nil, err
	}
	return y, hT, cT, nil
}

// rnnDims are the validated sizes of a recurrent layer: batch, steps, input
// and hidden size.
type rnnDims struct{ n, t, i, h int }

func (d rnnDims) String() string { return fmt.Sprintf("N=%d T=%d I=%d H=%d", d.n, d.t, d.i, d.h) }

// lstmGradShapes are the shapes of the LSTM inputs, in order.
func (d rnnDims) lstmGradShapes() []tensor.Shape {
	return []tensor.Shape{{d.n, d.t, d.i}, {d.n, d.h}, {d.n, d.h}, {4 * d.h, d.i}, {4 * d.h, d.h}, {4 * d.h}, {4 * d.h}}
}

// gruGradShapes are the shapes of the GRU inputs, in order.
func (d rnnDims) gruGradShapes() []tensor.Shape {
	return []tensor.Shape{{d.n, d.t, d.i}, {d.n, d.h}, {3 * d.h, d.i}, {3 * d.h, d.h}, {3 * d.h}, {3 * d.h}}
}

// recurrentDims validates the inputs of LSTM (gates 4, states h0 and c0) or
// GRU (gates 3, state h0).
func recurrentDims(op string, gates int, x *gorgonia.Node, states []*gorgonia.Node, stateNames []string, wIH, wHH, bIH, bHH *gorgonia.Node) (rnnDims, error) {
	var d rnnDims
	all := append([]*gorgonia.Node{x}, states...)
	all = append(all, wIH, wHH, bIH, bHH)
	names := append([]string{"x"}, stateNames...)
	names = append(names, "wIH", "wHH", "bIH", "bHH")
	for i, n := range all {
		if err := checkFloat(op, names[i], n); err != nil {
			return d, err
		}
		if n.Dtype() != x.Dtype() {
			return d, fmt.Errorf("%w: %s: %s is %v, x is %v, want one dtype", ErrDtype, op, names[i], n.Dtype(), x.Dtype())
		}
	}
	xs := x.Shape()
	if len(xs) != 3 {
		return d, fmt.Errorf("%w: %s: x has shape %v, want (N, T, I), batch first", ErrShape, op, xs)
	}
	for i, v := range xs {
		if v <= 0 {
			what := [3]string{"the batch N", "the sequence length T", "the input size I"}[i]
			return d, fmt.Errorf("%w: %s: x has shape %v: %s is %d, want > 0", ErrShape, op, xs, what, v)
		}
	}
	hs := states[0].Shape()
	if len(hs) != 2 || hs[0] != xs[0] || hs[1] <= 0 {
		return d, fmt.Errorf("%w: %s: h0 has shape %v, want (N, H) with N = %d from x %v", ErrShape, op, hs, xs[0], xs)
	}
	d = rnnDims{n: xs[0], t: xs[1], i: xs[2], h: hs[1]}
	for k, s := range states[1:] {
		if !s.Shape().Eq(hs) {
			return d, fmt.Errorf("%w: %s: %s has shape %v, want h0's %v", ErrShape, op, stateNames[k+1], s.Shape(), hs)
		}
	}
	gh := gates * d.h
	want := []struct {
		name  string
		n     *gorgonia.Node
		shape tensor.Shape
		why   string
	}{
		{"wIH", wIH, tensor.Shape{gh, d.i}, fmt.Sprintf("(%d·H, I) for H = %d from h0 and I = %d from x", gates, d.h, d.i)},
		{"wHH", wHH, tensor.Shape{gh, d.h}, fmt.Sprintf("(%d·H, H) for H = %d from h0", gates, d.h)},
		{"bIH", bIH, tensor.Shape{gh}, fmt.Sprintf("(%d·H) for H = %d from h0", gates, d.h)},
		{"bHH", bHH, tensor.Shape{gh}, fmt.Sprintf("(%d·H) for H = %d from h0", gates, d.h)},
	}
	for _, w := range want {
		if !w.n.Shape().Eq(w.shape) {
			return d, fmt.Errorf("%w: %s: %s has shape %v, want %v: %s", ErrShape, op, w.name, w.n.Shape(), w.shape, w.why)
		}
	}
	return d, nil
}

// lstmFwd is the forward kernel; it keeps what the backward pass reads.
type lstmFwd[T float] struct {
	d     rnnDims
	g     []T          // (N, T, 4H): the activated gates i, f, g, o of every step
	c, tc []T          // (N, T, H): c_t and tanh(c_t)
	bias  []T          // (4H): bIH + bHH
	wt    packedMat[T] // W_HHᵀ (H, 4H), packed once for the T steps

	r       rows // the step's rows across cores
	s       int  // the step being run
	out, c0 []T
}

// Run applies the gates of step k.s to the batch rows [lo, hi).
func (k *lstmFwd[T]) Run(_, lo, hi int) {
	t, h := k.d.t, k.d.h
	for b := lo; b < hi; b++ {
		row := b*t + k.s
		cp := k.c0[b*h : (b+1)*h]
		if k.s > 0 {
			cp = k.c[(row-1)*h : row*h]
		}
		lstmCell(k.g[row*4*h:(row+1)*4*h], k.bias, cp, k.c[row*h:(row+1)*h], k.tc[row*h:(row+1)*h], k.out[(b*(t+1)+k.s)*h:][:h])
	}
}

// run writes the packed (N, T+1, H) value; in = x, h0, c0, wIH, wHH, bIH, bHH.
func (k *lstmFwd[T]) run(out []T, in [][]T) error {
	d := k.d
	n, t, h := d.n, d.t, d.h
	x, h0, c0, wih, whh, bih, bhh := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
	k.g, k.c, k.tc = grow(k.g, n*t*4*h), grow(k.c, n*t*h), grow(k.tc, n*t*h)
	k.bias = grow(k.bias, 4*h)
	for j := range k.bias {
		k.bias[j] = bih[j] + bhh[j]
	}
	// The input projections of all steps: G = X·W_IHᵀ.
	mm(false, true, n*t, 4*h, d.i, x, d.i, wih, d.i, 0, k.g, 4*h)
	k.wt.pack(true, h, 4*h, whh, h)
	ld := (t + 1) * h // stride of y's rows in the packed value
	for s := range t {
		hp, ldh := h0, h
		if s > 0 {
			hp, ldh = out[(s-1)*h:], ld
		}
		k.wt.mul(n, hp, ldh, 1, k.g[s*4*h:], t*4*h)
		k.s, k.out, k.c0 = s, out, c0
		k.r.RunWidth(k, n, 4*h)
	}
	k.out, k.c0 = nil, nil
	for b := range n { // cT
		copy(out[(b*(t+1)+t)*h:][:h], k.c[(b*t+t-1)*h:][:h])
	}
	return nil
}

// lstmCell applies the gates of one row: g holds the pre-activations i, f,
// g, o (without bias) and receives their activations.
func lstmCell[T float](g, bias, cp, c, tc, hOut []T) {
	h := len(c)
	addTo(g[:4*h], bias)
	gi, gf, gg, gop := g[:h], g[h:2*h], g[2*h:3*h], g[3*h:4*h]
	vec.Sigmoid(g[:2*h], g[:2*h]) // i and f
	vec.Tanh(gg, gg)
	vec.Sigmoid(gop, gop)
	cp, tc, hOut = cp[:h], tc[:h], hOut[:h]
	for j := range c {
		c[j] = gf[j]*cp[j] + gi[j]*gg[j]
	}
	vec.Tanh(tc, c)
	for j := range hOut {
		hOut[j] = gop[j] * tc[j]
	}
}

// lstmBwd is the backward kernel; f is the forward kernel of the same run.
type lstmBwd[T float] struct {
	f       *lstmFwd[T]
	w       packedMat[T] // W_HH (4H, H), packed once for the T steps
	dg      []T          // (N, T, 4H): gradients of the gate pre-activations
	hp      []T          // (N, T, H): h_{t−1} of every step
	dhn, dc []T          // (N, H): the gradients flowing to the previous step

	r      rows
	s      int
	c0, dp []T
}

// Run back-propagates step k.s for the batch rows [lo, hi).
func (k *lstmBwd[T]) Run(_, lo, hi int) {
	f := k.f
	t, h := f.d.t, f.d.h
	for b := lo; b < hi; b++ {
		row := b*t + k.s
		cp := k.c0[b*h : (b+1)*h]
		if k.s > 0 {
			cp = f.c[(row-1)*h : row*h]
		}
		lstmCellGrad(f.g[row*4*h:(row+1)*4*h], cp, f.tc[row*h:(row+1)*h], k.dp[(b*(t+1)+k.s)*h:][:h],
			k.dhn[b*h:(b+1)*h], k.dc[b*h:(b+1)*h], k.dg[row*4*h:(row+1)*4*h])
	}
}

// run writes the packed gradients; in = x, h0, c0, wIH, wHH, bIH, bHH,
// packed, dpacked.
func (k *lstmBwd[T]) run(out []T, in [][]T) error {
	f := k.f
	d := f.d
	n, t, h, ni := d.n, d.t, d.h, d.i
	if len(f.g) != n*t*4*h {
		return fmt.Errorf("%w: LSTMGrad: the forward pass of this run has not run", ErrBuild)
	}
	x, h0, c0, wih, whh := in[0], in[1], in[2], in[3], in[4]
	packed, dp := in[7], in[8]
	k.dg, k.hp = grow(k.dg, n*t*4*h), grow(k.hp, n*t*h)
	k.dhn, k.dc = grow(k.dhn, n*h), grow(k.dc, n*h)
	clear(k.dhn)
	for b := range n {
		copy(k.dc[b*h:(b+1)*h], dp[(b*(t+1)+t)*h:][:h])
	}
	k.w.pack(false, 4*h, h, whh, h)
	for s := t - 1; s >= 0; s-- {
		k.s, k.c0, k.dp = s, c0, dp
		k.r.RunWidth(k, n, 4*h)
		// dh_{t−1} = dG_t·W_HH
		k.w.mul(n, k.dg[s*4*h:], t*4*h, 0, k.dhn, h)
	}
	sh := d.lstmGradShapes()
	o := out
	dx, o := o[:sh[0].TotalSize()], o[sh[0].TotalSize():]
	dh0, o := o[:n*h], o[n*h:]
	dc0, o := o[:n*h], o[n*h:]
	dwih, o := o[:4*h*ni], o[4*h*ni:]
	dwhh, o := o[:4*h*h], o[4*h*h:]
	dbih, dbhh := o[:4*h], o[4*h:8*h]
	copy(dh0, k.dhn)
	copy(dc0, k.dc)
	for b := range n {
		copy(k.hp[b*t*h:][:h], h0[b*h:(b+1)*h])
		copy(k.hp[(b*t+1)*h:(b+1)*t*h], packed[b*(t+1)*h:][:(t-1)*h])
	}
	mm(true, false, 4*h, ni, n*t, k.dg, 4*h, x, ni, 0, dwih, ni)
	mm(true, false, 4*h, h, n*t, k.dg, 4*h, k.hp, h, 0, dwhh, h)
	mm(false, false, n*t, ni, 4*h, k.dg, 4*h, wih, ni, 0, dx, ni)
	colSums(dbih, k.dg, n*t, 4*h)
	copy(dbhh, dbih)
	k.c0, k.dp = nil, nil
	return nil
}

// lstmCellGrad back-propagates one row of one step: g holds the activated
// gates, tc tanh(c_t), dy the output gradient of h_t; dhn holds dh_t from
// the later step (read) and dc dc_t (read, then replaced by dc_{t−1}); dg
// receives the pre-activation gradients.
func lstmCellGrad[T float](g, cp, tc, dy, dhn, dc, dg []T) {
	h := len(tc)
	gi, gf, gg, gop := g[:h], g[h:2*h], g[2*h:3*h], g[3*h:4*h]
	di, df, dgg, do := dg[:h], dg[h:2*h], dg[2*h:3*h], dg[3*h:4*h]
	cp, dy, dhn, dc = cp[:h], dy[:h], dhn[:h], dc[:h]
	for j := range tc {
		dh := dy[j] + dhn[j]
		i, fg, gv, o, tcj := gi[j], gf[j], gg[j], gop[j], tc[j]
		dcv := dc[j] + dh*o*(1-tcj*tcj)
		di[j] = dcv * gv * i * (1 - i)
		df[j] = dcv * cp[j] * fg * (1 - fg)
		dgg[j] = dcv * i * (1 - gv*gv)
		do[j] = dh * tcj * o * (1 - o)
		dc[j] = dcv * fg
	}
}
