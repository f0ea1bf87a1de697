package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/vec"
)

// GRU runs a one-layer, batch-first GRU over all T steps of x, as
// torch.nn.GRU(batch_first=True) does with the same weights: x is (N, T, I),
// h0 is (N, H), wIH is (3H, I), wHH is (3H, H), bIH and bHH are (3H), the
// gates stacked in PyTorch's order r, z, n. For t = 1…T:
//
//	r = σ(W_ir·x_t + b_ir + W_hr·h_{t−1} + b_hr)
//	z = σ(W_iz·x_t + b_iz + W_hz·h_{t−1} + b_hz)
//	n = tanh(W_in·x_t + b_in + r ⊙ (W_hn·h_{t−1} + b_hn))
//	h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
//
// y (N, T, H) holds h_t of every step and hT (N, H) the last one. Every float
// input gets its gradient.
//
// As LSTM, the recurrence is one fused op (the input projections of all
// steps as one matrix product, one (N, H)·(H, 3H) product per step, the
// backward pass through time inside its own op with dx, dW_IH and dW_HH as
// one product each); y is the op's value and hT a selector of its last step
// (see LSTM for how selectors route gradients). The backward op's value
// packs the six input gradients, each read by a selector.
//
// Bad shapes and dtypes are errors at construction, as for LSTM.
func GRU(x, h0, wIH, wHH, bIH, bHH *gorgonia.Node) (y, hT *gorgonia.Node, err error) {
	const op = "GRU"
	d, err := recurrentDims(op, 3, x, []*gorgonia.Node{h0}, []string{"h0"}, wIH, wHH, bIH, bHH)
	if err != nil {
		return nil, nil, err
	}
	fwd32, fwd64 := &gruFwd[float32]{d: d}, &gruFwd[float64]{d: d}
	fd := &def{
		name:  "GRU(" + d.String() + ")",
		label: op,
		typ:   sig(3, 2, 2, 2, 1, 1, 3),
		shape: tensor.Shape{d.n, d.t, d.h},
		run32: fwd32.run,
		run64: fwd64.run,
	}
	fd.grad = func(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
		bwd := &def{
			name:  "GRUGrad(" + d.String() + ")",
			label: op + "Grad",
			typ:   sig(3, 2, 2, 2, 1, 1, 3, 3, 1),
			shape: tensor.Shape{sizes(d.gruGradShapes()...)},
			run32: (&gruBwd[float32]{f: fwd32}).run,
			run64: (&gruBwd[float64]{f: fwd64}).run,
		}
		blob, err := applyDef(bwd, append(append(gorgonia.Nodes{}, in...), y, g)...)
		if err != nil {
			return nil, err
		}
		return flatParts(op+"Grad", blob, d.gruGradShapes()...)
	}
	if y, err = applyDef(fd, x, h0, wIH, wHH, bIH, bHH); err != nil {
		return nil, nil, err
	}
	hT, err = selectPart(op, y, part{outer: d.n, k: d.t, inner: d.h, lo: d.t - 1, hi: d.t, to: tensor.Shape{d.n, d.h}})
	if err != nil {
		return nil, nil, err
	}
	return y, hT, nil
}

// gruFwd is the forward kernel; it keeps what the backward pass reads.
type gruFwd[T float] struct {
	d  rnnDims
	g  []T          // (N, T, 3H): input projections, then the activated r, z, n
	hn []T          // (N, T, H): W_hn·h_{t−1} + b_hn of every step
	hs []T          // (N, 3H): the step's hidden projections
	wt packedMat[T] // W_HHᵀ (H, 3H), packed once for the T steps

	r       rows
	s       int
	out, h0 []T
	bih     []T
	bhh     []T
}

// run writes y; in = x, h0, wIH, wHH, bIH, bHH.
func (k *gruFwd[T]) run(out []T, in [][]T) error {
	d := k.d
	n, t, h := d.n, d.t, d.h
	x, h0, wih, whh := in[0], in[1], in[2], in[3]
	k.g, k.hn, k.hs = grow(k.g, n*t*3*h), grow(k.hn, n*t*h), grow(k.hs, n*3*h)
	mm(false, true, n*t, 3*h, d.i, x, d.i, wih, d.i, 0, k.g, 3*h)
	k.wt.pack(true, h, 3*h, whh, h)
	k.out, k.h0, k.bih, k.bhh = out, h0, in[4], in[5]
	for s := range t {
		hp, ldh := h0, h
		if s > 0 {
			hp, ldh = out[(s-1)*h:], t*h
		}
		k.wt.mul(n, hp, ldh, 0, k.hs, 3*h)
		k.s = s
		k.r.RunWidth(k, n, 3*h)
	}
	k.out, k.h0, k.bih, k.bhh = nil, nil, nil, nil
	return nil
}

// Run applies the gates of step k.s to the batch rows [lo, hi).
func (k *gruFwd[T]) Run(_, lo, hi int) {
	t, h := k.d.t, k.d.h
	for b := lo; b < hi; b++ {
		row := b*t + k.s
		hp := k.h0[b*h : (b+1)*h]
		if k.s > 0 {
			hp = k.out[(row-1)*h : row*h]
		}
		gruCell(k.g[row*3*h:(row+1)*3*h], k.hs[b*3*h:(b+1)*3*h], k.bih, k.bhh, hp, k.hn[row*h:(row+1)*h], k.out[row*h:(row+1)*h])
	}
}

// gruCell applies the gates of one row: g holds the input projections
// (without bias) and receives r, z, n; hs holds the hidden projections
// (without bias); hn receives W_hn·h + b_hn.
func gruCell[T float](g, hs, bih, bhh, hp, hn, hOut []T) {
	h := len(hOut)
	gr, gz, gn := g[:h], g[h:2*h], g[2*h:3*h]
	hr, hz, hh := hs[:h], hs[h:2*h], hs[2*h:3*h]
	hp, hn = hp[:h], hn[:h]
	for j := range gr {
		gr[j] += bih[j] + hr[j] + bhh[j]
		gz[j] += bih[h+j] + hz[j] + bhh[h+j]
	}
	vec.Sigmoid(g[:2*h], g[:2*h]) // r and z
	for j := range gn {
		hn[j] = hh[j] + bhh[2*h+j]
		gn[j] += bih[2*h+j] + gr[j]*hn[j]
	}
	vec.Tanh(gn, gn)
	for j := range hOut {
		hOut[j] = (1-gz[j])*gn[j] + gz[j]*hp[j]
	}
}

// gruBwd is the backward kernel; f is the forward kernel of the same run.
type gruBwd[T float] struct {
	f         *gruFwd[T]
	w         packedMat[T] // W_HH (3H, H), packed once for the T steps
	dx, dh    []T          // (N, T, 3H): gradients of the input and hidden projections
	hp        []T          // (N, T, H): h_{t−1} of every step
	dhn, dd   []T          // (N, H): dh from the later step; the direct part z ⊙ dh
	r         rows
	s         int
	y, h0, dy []T
}

// run writes the packed gradients; in = x, h0, wIH, wHH, bIH, bHH, y, dy.
func (k *gruBwd[T]) run(out []T, in [][]T) error {
	f := k.f
	d := f.d
	n, t, h, ni := d.n, d.t, d.h, d.i
	if len(f.g) != n*t*3*h {
		return fmt.Errorf("%w: GRUGrad: the forward pass of this run has not run", ErrBuild)
	}
	x, h0, wih, whh := in[0], in[1], in[2], in[3]
	y, dy := in[6], in[7]
	k.dx, k.dh, k.hp = grow(k.dx, n*t*3*h), grow(k.dh, n*t*3*h), grow(k.hp, n*t*h)
	k.dhn, k.dd = grow(k.dhn, n*h), grow(k.dd, n*h)
	clear(k.dhn)
	k.y, k.h0, k.dy = y, h0, dy
	k.w.pack(false, 3*h, h, whh, h)
	for s := t - 1; s >= 0; s-- {
		k.s = s
		k.r.RunWidth(k, n, 3*h)
		copy(k.dhn, k.dd)
		k.w.mul(n, k.dh[s*3*h:], t*3*h, 1, k.dhn, h)
	}
	k.y, k.h0, k.dy = nil, nil, nil
	o := out
	dx, o := o[:n*t*ni], o[n*t*ni:]
	dh0, o := o[:n*h], o[n*h:]
	dwih, o := o[:3*h*ni], o[3*h*ni:]
	dwhh, o := o[:3*h*h], o[3*h*h:]
	dbih, dbhh := o[:3*h], o[3*h:6*h]
	copy(dh0, k.dhn)
	for b := range n {
		copy(k.hp[b*t*h:][:h], h0[b*h:(b+1)*h])
		copy(k.hp[(b*t+1)*h:(b+1)*t*h], y[b*t*h:][:(t-1)*h])
	}
	mm(true, false, 3*h, ni, n*t, k.dx, 3*h, x, ni, 0, dwih, ni)
	mm(true, false, 3*h, h, n*t, k.dh, 3*h, k.hp, h, 0, dwhh, h)
	mm(false, false, n*t, ni, 3*h, k.dx, 3*h, wih, ni, 0, dx, ni)
	colSums(dbih, k.dx, n*t, 3*h)
	colSums(dbhh, k.dh, n*t, 3*h)
	return nil
}

// Run back-propagates step k.s for the batch rows [lo, hi).
func (k *gruBwd[T]) Run(_, lo, hi int) {
	f := k.f
	t, h := f.d.t, f.d.h
	for b := lo; b < hi; b++ {
		row := b*t + k.s
		hp := k.h0[b*h : (b+1)*h]
		if k.s > 0 {
			hp = k.y[(row-1)*h : row*h]
		}
		gruCellGrad(f.g[row*3*h:(row+1)*3*h], f.hn[row*h:(row+1)*h], hp, k.dy[row*h:(row+1)*h],
			k.dhn[b*h:(b+1)*h], k.dd[b*h:(b+1)*h], k.dx[row*3*h:(row+1)*3*h], k.dh[row*3*h:(row+1)*3*h])
	}
}

// gruCellGrad back-propagates one row of one step: g holds r, z, n, hn the
// hidden part of n's pre-activation; dhn is dh_t from the later step; dd
// receives z ⊙ dh (the direct path to h_{t−1}), dx and dh the gradients of
// the input and hidden projections.
func gruCellGrad[T float](g, hn, hp, dy, dhn, dd, dx, dh []T) {
	h := len(hn)
	gr, gz, gn := g[:h], g[h:2*h], g[2*h:3*h]
	hp, dy, dhn, dd = hp[:h], dy[:h], dhn[:h], dd[:h]
	for j := range hn {
		dht := dy[j] + dhn[j]
		r, z, nv := gr[j], gz[j], gn[j]
		dpn := dht * (1 - z) * (1 - nv*nv)
		dpr := dpn * hn[j] * r * (1 - r)
		dpz := dht * (hp[j] - nv) * z * (1 - z)
		dx[j], dx[h+j], dx[2*h+j] = dpr, dpz, dpn
		dh[j], dh[h+j], dh[2*h+j] = dpr, dpz, dpn*r
		dd[j] = dht * z
	}
}
