package ops

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/vec"
)

// DefaultLayerNormEps is LayerNormOptions.Eps's default, PyTorch's.
const DefaultLayerNormEps = 1e-5

// LayerNormOptions configure LayerNorm. Eps is added to the variance before
// the square root; zero means DefaultLayerNormEps (1e-5, PyTorch's default).
type LayerNormOptions struct{ Eps float64 }

// LayerNorm normalizes x over its last dimension (Ba et al., 2016), as
// torch.nn.LayerNorm(D) does: for each row x of D values,
//
//	μ = (1/D) Σ x,  σ² = (1/D) Σ (x − μ)²  (biased),  x̂ = (x − μ)/√(σ² + ε)
//	y = γ ⊙ x̂ + β
//
// with gamma and beta of shape (D). The gradients are dβ = Σ_rows g,
// dγ = Σ_rows g ⊙ x̂ and dx = (1/√(σ² + ε))·(g·γ − mean(g·γ) − x̂·mean(g·γ ⊙ x̂)).
// Over a dimension of size 1, x̂ is 0: y is β whatever x, and dx is 0 (as in
// PyTorch). Rows are normalized on all cores; dγ and dβ sum per-block
// partials in block order, so results do not depend on the number of cores.
// A row's sums run in 16 lanes of x's dtype (float32 rows as PyTorch sums
// them), the lanes and the blocks of rows then added in float64.
func LayerNorm(x, gamma, beta *gorgonia.Node, opt LayerNormOptions) (*gorgonia.Node, error) {
	const op = "LayerNorm"
	for i, n := range []*gorgonia.Node{x, gamma, beta} {
		if err := checkFloat(op, [3]string{"x", "gamma", "beta"}[i], n); err != nil {
			return nil, err
		}
	}
	if gamma.Dtype() != x.Dtype() || beta.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("%w: %s: x is %v, gamma %v, beta %v, want one dtype", ErrDtype, op, x.Dtype(), gamma.Dtype(), beta.Dtype())
	}
	eps := opt.Eps
	if eps == 0 {
		eps = DefaultLayerNormEps
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("%w: %s: Eps = %v, want a finite value > 0", ErrConfig, op, opt.Eps)
	}
	xs := x.Shape()
	if len(xs) < 1 || xs.TotalSize() <= 0 {
		return nil, fmt.Errorf("%w: %s: x has shape %v, want at least one dimension", ErrShape, op, xs)
	}
	d := xs[len(xs)-1]
	for i, n := range []*gorgonia.Node{gamma, beta} {
		if !n.Shape().Eq(tensor.Shape{d}) {
			return nil, fmt.Errorf("%w: %s: %s has shape %v, want (%d), the last dimension of x %v", ErrShape, op, [2]string{"gamma", "beta"}[i], n.Shape(), d, xs)
		}
	}
	rows := xs.TotalSize() / d
	g := lnGeom{rows: rows, d: d, eps: eps}
	f32, f64 := &lnJob[float32]{g: g}, &lnJob[float64]{g: g}
	name := fmt.Sprintf("LayerNorm(x=%v, eps=%v)", xs, eps)
	fd := &def{
		name:  name,
		label: op,
		typ:   sig(len(xs), 1, 1, len(xs)),
		shape: xs.Clone(),
		run32: f32.forward,
		run64: f64.forward,
	}
	// The backward op writes dx and keeps per-block partial sums of dγ and
	// dβ, which a second op (reading dx, so that it runs after) adds up into
	// a packed (2, D) value: dx is not copied out of a packed value.
	fd.grad = func(in gorgonia.Nodes, y, gy *gorgonia.Node) (gorgonia.Nodes, error) {
		dx, err := applyDef(&def{
			name:  "LayerNormGrad" + name[len(op):],
			label: op + "Grad",
			typ:   sig(len(xs), 1, 1, len(xs), len(xs), len(xs)),
			shape: xs.Clone(),
			run32: f32.backward,
			run64: f64.backward,
		}, in[0], in[1], in[2], y, gy)
		if err != nil {
			return nil, err
		}
		params, err := applyDef(&def{
			name:  "LayerNormParamGrad" + name[len(op):],
			label: op + "ParamGrad",
			typ:   sig(len(xs), 2),
			shape: tensor.Shape{2, d},
			run32: f32.paramGrads,
			run64: f64.paramGrads,
		}, dx)
		if err != nil {
			return nil, err
		}
		dgb, err := flatParts(op+"Grad", params, tensor.Shape{d}, tensor.Shape{d})
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dx, dgb[0], dgb[1]}, nil
	}
	return applyDef(fd, x, gamma, beta)
}

type lnGeom struct {
	rows, d int
	eps     float64
}

// lnBlock is the number of rows whose dγ and dβ terms one partial sums.
const lnBlock = 64

// lnJob is LayerNorm's kernel for both passes: the forward keeps each row's
// mean and 1/√(σ² + ε) for the backward pass of the same run.
type lnJob[T float] struct {
	g            lnGeom
	mean, inv    []float64
	part         []T // per block: its rows' terms of dγ (d) then dβ (d)
	partsOf      int // rows of the backward pass that filled part
	r            rows
	backwardPass bool
	x, gm, bt    []T
	y, gy, dx    []T
}

func (k *lnJob[T]) forward(out []T, in [][]T) error {
	k.mean, k.inv = grow(k.mean, k.g.rows), grow(k.inv, k.g.rows)
	k.backwardPass = false
	k.x, k.gm, k.bt, k.y = in[0], in[1], in[2], out
	k.r.RunWidth(k, (k.g.rows+lnBlock-1)/lnBlock, lnBlock*k.g.d)
	k.x, k.gm, k.bt, k.y = nil, nil, nil, nil
	return nil
}

func (k *lnJob[T]) backward(out []T, in [][]T) error {
	g := k.g
	if len(k.mean) != g.rows {
		return fmt.Errorf("%w: LayerNormGrad: the forward pass of this run has not run", ErrBuild)
	}
	nb := (g.rows + lnBlock - 1) / lnBlock
	k.part = grow(k.part, nb*2*g.d)
	k.backwardPass = true
	k.x, k.gm, k.gy, k.dx = in[0], in[1], in[4], out
	k.r.RunWidth(k, nb, lnBlock*g.d)
	k.x, k.gm, k.gy, k.dx = nil, nil, nil, nil
	k.partsOf = len(k.mean)
	return nil
}

// paramGrads adds the blocks' partial sums of the backward pass of the same
// run into out = (dγ, dβ), in block order.
func (k *lnJob[T]) paramGrads(out []T, _ [][]T) error {
	g := k.g
	nb := (g.rows + lnBlock - 1) / lnBlock
	if k.partsOf != g.rows || len(k.part) != nb*2*g.d {
		return fmt.Errorf("%w: LayerNormParamGrad: the backward pass of this run has not run", ErrBuild)
	}
	dgamma, dbeta := out[:g.d], out[g.d:2*g.d]
	for j := range g.d {
		var sg, sb float64
		for b := range nb {
			sg += float64(k.part[b*2*g.d+j])
			sb += float64(k.part[b*2*g.d+g.d+j])
		}
		dgamma[j], dbeta[j] = T(sg), T(sb)
	}
	return nil
}

// Run does the row blocks [lo, hi) of the current pass.
func (k *lnJob[T]) Run(_, lo, hi int) {
	g := k.g
	d := g.d
	for blk := lo; blk < hi; blk++ {
		r0, r1 := blk*lnBlock, min((blk+1)*lnBlock, g.rows)
		if !k.backwardPass {
			for r := r0; r < r1; r++ {
				k.mean[r], k.inv[r] = lnRow(k.y[r*d:(r+1)*d], k.x[r*d:(r+1)*d], k.gm, k.bt, g.eps)
			}
			continue
		}
		pg := k.part[blk*2*d : blk*2*d+d]
		pb := k.part[blk*2*d+d : (blk+1)*2*d]
		clear(pg)
		clear(pb)
		for r := r0; r < r1; r++ {
			lnRowGrad(k.dx[r*d:(r+1)*d], k.x[r*d:(r+1)*d], k.gy[r*d:(r+1)*d], k.gm, k.mean[r], k.inv[r], pg, pb)
		}
	}
}

// lnRow normalizes one row into y and returns its mean and 1/√(σ² + ε):
// the statistics in one pass (vec.Moments, about the row's first element),
// y by vec.LayerNormRow.
func lnRow[T float](y, x, gamma, beta []T, eps float64) (mean, inv float64) {
	n := float64(len(x))
	s, s1, s2 := vec.Moments(x)
	m1 := s1 / n
	mean = s + m1
	inv = 1 / math.Sqrt(max(s2/n-m1*m1, 0)+eps)
	vec.LayerNormRow(y, x, gamma, beta, T(mean), T(inv))
	return mean, inv
}

// lnRowGrad writes one row's dx and adds its terms of dγ and dβ to pg and
// pb: mean(g·γ) and mean(g·γ ⊙ x̂) (vec.GammaGradSums), then
// vec.LayerNormGradRow.
func lnRowGrad[T float](dx, x, gy, gamma []T, mean, inv float64, pg, pb []T) {
	n := float64(len(x))
	s1, s2 := vec.GammaGradSums(x, gy, gamma, T(mean))
	vec.LayerNormGradRow(dx, x, gy, gamma, pg, pb, T(mean), T(inv), T(s1/n), T(s2*inv/n))
}
