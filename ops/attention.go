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
	r                   parallel.Runner
	bwd                 bool
	q, k, v, o, do, out []T
}

func (j *attnJob[T]) scratch() {
	tt := j.g.t * j.g.t
	p := parallel.Workers(j.g.items)
	for len(j.s) < p {
		j.s, j.p = append(j.s, make([]T, tt)), append(j.p, make([]T, tt))
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
			attnForward(j.g, q, k, v, j.o[it*sz:(it+1)*sz], lse, j.s[part])
			continue
		}
		n := j.g.items * sz
		dq, dk, dv := j.out[it*sz:(it+1)*sz], j.out[n+it*sz:n+(it+1)*sz], j.out[2*n+it*sz:2*n+(it+1)*sz]
		attnBackward(j.g, q, k, v, j.o[it*sz:(it+1)*sz], j.do[it*sz:(it+1)*sz], lse, dq, dk, dv, j.s[part], j.p[part])
	}
}

// scores writes s = q·kᵀ/√Dh and, for a causal mask, −inf above the diagonal.
func scores[T float](g attnGeom, q, k, s []T) {
	t, dh := g.t, g.dh
	serialGemm(false, true, t, t, dh, q, dh, k, dh, 0, s, t)
	scale := T(1 / math.Sqrt(float64(dh)))
	for i := range t {
		row := s[i*t : (i+1)*t]
		for c := range row {
			row[c] *= scale
		}
		if g.causal {
			for c := i + 1; c < t; c++ {
				row[c] = T(math.Inf(-1))
			}
		}
	}
}

// attnForward computes one item: o = softmax(s)·v, and each row's logsumexp.
func attnForward[T float](g attnGeom, q, k, v, o, lse, s []T) {
	t, dh := g.t, g.dh
	scores(g, q, k, s)
	for i := range t {
		row := s[i*t : (i+1)*t]
		m := row[0]
		for _, x := range row {
			m = max(m, x)
		}
		sum := expRow(row, m)
		if g.causal {
			clear(row[i+1:]) // exactly 0 (float32's Expf clamps −inf to e^−87.3)
			sum = T(vec.Sum(row))
		}
		inv := 1 / sum
		for c := range row {
			row[c] *= inv
		}
		lse[i] = m + T(math.Log(float64(sum)))
	}
	serialGemm(false, false, t, dh, t, s, t, v, dh, 0, o, dh)
}

// expRow replaces row[c] by exp(row[c] − m) and returns their sum (in
// float64, in vec.Sum's fixed order).
func expRow[T float](row []T, m T) T {
	vec.ExpShift(row, row, m)
	return T(vec.Sum(row))
}

// attnBackward computes one item's dq, dk and dv.
func attnBackward[T float](g attnGeom, q, k, v, o, do, lse, dq, dk, dv, p, dp []T) {
	t, dh := g.t, g.dh
	scores(g, q, k, p)
	for i := range t {
		row := p[i*t : (i+1)*t]
		vec.ExpShift(row, row, lse[i])
		if g.causal {
			clear(row[i+1:])
		}
	}
	// dv = Pᵀ·dout; dP = dout·vᵀ
	serialGemm(true, false, t, dh, t, p, t, do, dh, 0, dv, dh)
	serialGemm(false, true, t, t, dh, do, dh, v, dh, 0, dp, t)
	scale := T(1 / math.Sqrt(float64(dh)))
	for i := range t {
		var di T
		for c := range dh {
			di += do[i*dh+c] * o[i*dh+c]
		}
		pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
		for c := range pr {
			dr[c] = pr[c] * (dr[c] - di) * scale
		}
	}
	// dq = dS·k/√Dh, dk = dSᵀ·q/√Dh (the scale is in dS)
	serialGemm(false, false, t, dh, t, dp, t, k, dh, 0, dq, dh)
	serialGemm(true, false, t, dh, t, dp, t, q, dh, 0, dk, dh)
}
