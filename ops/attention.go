package ops

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/vec"
)

// AttentionOptions configure Attention. Causal masks the scores above the
// diagonal (key position j > query position i) with −inf, so that each
// position attends only to itself and earlier ones (a language model's
// self-attention).
type AttentionOptions struct{ Causal bool }

// Attention is scaled dot-product attention (Vaswani et al., 2017) per batch
// item and head: q, k and v have shape (N, heads, T, Dh) and
//
//	S = q·kᵀ/√Dh (−inf above the diagonal if Causal),  P = softmax(S) by rows,  out = P·v
//
// of shape (N, heads, T, Dh), as
// torch.nn.functional.scaled_dot_product_attention (is_causal for Causal).
// With L = logsumexp of each row of S (kept from the forward pass), the
// backward pass recomputes P = exp(S − L) and gives dv = Pᵀ·dout,
// dS = P ⊙ (dout·vᵀ − rowsum(dout ⊙ out)), dq = dS·k/√Dh, dk = dSᵀ·q/√Dh.
//
// The (N·heads) items run on all cores, each with its own scratch: at most
// one (T, T) score block per item in the forward pass (and the scores plus
// their gradient in the backward pass), never the (N, heads, T, T) tensor.
// Each item is computed by one goroutine, so results do not depend on the
// number of cores. The backward op's value packs dq, dk and dv, each read
// by a selector (see LSTM).
func Attention(q, k, v *gorgonia.Node, opt AttentionOptions) (*gorgonia.Node, error) {
	const op = "Attention"
	for i, n := range []*gorgonia.Node{q, k, v} {
		if err := checkFloat(op, [3]string{"q", "k", "v"}[i], n); err != nil {
			return nil, err
		}
	}
	qs := q.Shape()
	if len(qs) != 4 {
		return nil, fmt.Errorf("%w: %s: q has shape %v, want (N, heads, T, Dh)", ErrShape, op, qs)
	}
	for i, n := range []*gorgonia.Node{k, v} {
		if !n.Shape().Eq(qs) {
			return nil, fmt.Errorf("%w: %s: %s has shape %v, want q's %v (N, heads, T, Dh)", ErrShape, op, [2]string{"k", "v"}[i], n.Shape(), qs)
		}
		if n.Dtype() != q.Dtype() {
			return nil, fmt.Errorf("%w: %s: %s is %v, q is %v, want one dtype", ErrDtype, op, [2]string{"k", "v"}[i], n.Dtype(), q.Dtype())
		}
	}
	for i, d := range qs {
		if d <= 0 {
			return nil, fmt.Errorf("%w: %s: q has shape %v: dimension %d is %d, want > 0", ErrShape, op, qs, i, d)
		}
	}
	g := attnGeom{items: qs[0] * qs[1], t: qs[2], dh: qs[3], causal: opt.Causal}
	f32, f64 := &attnJob[float32]{g: g}, &attnJob[float64]{g: g}
	name := fmt.Sprintf("Attention(%v, causal=%v)", qs, opt.Causal)
	fd := &def{
		name:  name,
		label: op,
		typ:   sig(4, 4, 4, 4),
		shape: qs.Clone(),
		run32: f32.forward,
		run64: f64.forward,
	}
	fd.grad = func(in gorgonia.Nodes, y, gy *gorgonia.Node) (gorgonia.Nodes, error) {
		blob, err := applyDef(&def{
			name:  "AttentionGrad" + name[len(op):],
			label: op + "Grad",
			typ:   sig(4, 4, 4, 4, 4, 5),
			shape: append(tensor.Shape{3}, qs...),
			run32: f32.backward,
			run64: f64.backward,
		}, in[0], in[1], in[2], y, gy)
		if err != nil {
			return nil, err
		}
		n := qs.TotalSize()
		out := make(gorgonia.Nodes, 3)
		for i := range out {
			if out[i], err = selectPart(op+"Grad", blob, part{outer: 1, k: 3 * n, inner: 1, lo: i * n, hi: (i + 1) * n, to: qs.Clone()}); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return applyDef(fd, q, k, v)
}

type attnGeom struct {
	items, t, dh int
	causal       bool
}

// attnJob is Attention's kernel for both passes. lse keeps the forward
// pass's row logsumexps for the backward pass of the same run.
type attnJob[T float] struct {
	g                   attnGeom
	lse                 []T
	s, p                [][]T // per part: (T, T) scratch
	qs                  [][]T // per part: (T, Dh), the scaled q
	inv                 [][]T // per part: (T), the rows' 1/Σ
	r                   parallel.Runner
	bwd                 bool
	q, k, v, o, do, out []T
}

func (j *attnJob[T]) scratch() {
	tt := j.g.t * j.g.t
	p := parallel.Workers(j.g.items)
	for len(j.s) < p {
		j.s, j.p = append(j.s, make([]T, tt)), append(j.p, make([]T, tt))
		j.qs, j.inv = append(j.qs, make([]T, j.g.t*j.g.dh)), append(j.inv, make([]T, j.g.t))
	}
}

func (j *attnJob[T]) forward(out []T, in [][]T) error {
	j.lse = grow(j.lse, j.g.items*j.g.t)
	j.scratch()
	j.bwd = false
	j.q, j.k, j.v, j.o = in[0], in[1], in[2], out
	j.r.Run(j, j.g.items)
	j.q, j.k, j.v, j.o = nil, nil, nil, nil
	return nil
}

func (j *attnJob[T]) backward(out []T, in [][]T) error {
	if len(j.lse) != j.g.items*j.g.t {
		return fmt.Errorf("%w: AttentionGrad: the forward pass of this run has not run", ErrBuild)
	}
	j.scratch()
	j.bwd = true
	j.q, j.k, j.v, j.o, j.do, j.out = in[0], in[1], in[2], in[3], in[4], out
	j.r.Run(j, j.g.items)
	j.q, j.k, j.v, j.o, j.do, j.out = nil, nil, nil, nil, nil, nil
	return nil
}

// Run computes the items (batch·head pairs) [lo, hi) with part's scratch.
func (j *attnJob[T]) Run(part, lo, hi int) {
	t, dh := j.g.t, j.g.dh
	sz := t * dh
	for it := lo; it < hi; it++ {
		q, k, v := j.q[it*sz:(it+1)*sz], j.k[it*sz:(it+1)*sz], j.v[it*sz:(it+1)*sz]
		lse := j.lse[it*t : (it+1)*t]
		if !j.bwd {
			attnForward(j.g, q, k, v, j.o[it*sz:(it+1)*sz], lse, j.s[part], j.qs[part], j.inv[part])
			continue
		}
		n := j.g.items * sz
		dq, dk, dv := j.out[it*sz:(it+1)*sz], j.out[n+it*sz:n+(it+1)*sz], j.out[2*n+it*sz:2*n+(it+1)*sz]
		attnBackward(j.g, q, k, v, j.o[it*sz:(it+1)*sz], j.do[it*sz:(it+1)*sz], lse, dq, dk, dv, j.s[part], j.p[part], j.qs[part])
	}
}

// scores writes s = (q/√Dh)·kᵀ, the scaled q into qs: the scale on the
// (T, Dh) q rather than the (T, T) scores. Entries above the diagonal of a
// causal item are computed but never read.
func scores[T float](g attnGeom, q, k, s, qs []T) {
	t, dh := g.t, g.dh
	scale := T(1 / math.Sqrt(float64(dh)))
	for i, v := range q[:t*dh] {
		qs[i] = v * scale
	}
	serialGemm(false, true, t, t, dh, qs, dh, k, dh, 0, s, t)
}

// visible is the number of keys row i attends to.
func (g attnGeom) visible(i int) int {
	if g.causal {
		return i + 1
	}
	return g.t
}

// attnForward computes one item: o = softmax(s)·v, and each row's
// logsumexp. The rows of P are left unnormalized (e^(s − max)) and o's rows
// divided by their sums afterwards, (T, Dh) divisions instead of (T, T).
func attnForward[T float](g attnGeom, q, k, v, o, lse, s, qs, inv []T) {
	t, dh := g.t, g.dh
	scores(g, q, k, s, qs)
	for i := range t {
		row := s[i*t : (i+1)*t]
		r := row[:g.visible(i)]
		m := vec.Max(r)
		vec.ExpShift(r, r, m)
		clear(row[len(r):]) // masked: exactly 0
		sum := vec.Sum(r)
		inv[i] = T(1 / sum)
		lse[i] = m + T(math.Log(sum))
	}
	serialGemm(false, false, t, dh, t, s, t, v, dh, 0, o, dh)
	for i := range t {
		orow := o[i*dh : (i+1)*dh]
		for c := range orow {
			orow[c] *= inv[i]
		}
	}
}

// attnBackward computes one item's dq, dk and dv.
func attnBackward[T float](g attnGeom, q, k, v, o, do, lse, dq, dk, dv, p, dp, qs []T) {
	t, dh := g.t, g.dh
	scores(g, q, k, p, qs)
	for i := range t {
		row := p[i*t : (i+1)*t]
		r := row[:g.visible(i)]
		vec.ExpShift(r, r, lse[i])
		clear(row[len(r):])
	}
	// dv = Pᵀ·dout; dP = dout·vᵀ
	serialGemm(true, false, t, dh, t, p, t, do, dh, 0, dv, dh)
	serialGemm(false, true, t, t, dh, do, dh, v, dh, 0, dp, t)
	for i := range t {
		var di T
		for c := range dh {
			di += do[i*dh+c] * o[i*dh+c]
		}
		n := g.visible(i)
		pr, dr := p[i*t:i*t+n], dp[i*t:i*t+n]
		for c := range pr {
			dr[c] = pr[c] * (dr[c] - di)
		}
		clear(dp[i*t+n : (i+1)*t])
	}
	// dq = dS·k/√Dh, dk = dSᵀ·(q/√Dh)
	serialGemm(false, false, t, dh, t, dp, t, k, dh, 0, dq, dh)
	scale := T(1 / math.Sqrt(float64(dh)))
	for i := range dq[:t*dh] {
		dq[i] *= scale
	}
	serialGemm(true, false, t, dh, t, dp, t, qs, dh, 0, dk, dh)
}
