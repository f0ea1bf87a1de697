package solvers

import (
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// dense returns a tensor of dtype dt with the given float64 data.
func dense(dt tensor.Dtype, shape []int, data []float64) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	setData(t, data)
	return t
}

func setData(t *tensor.Dense, data []float64) {
	switch t.Dtype() {
	case tensor.Float32:
		d := t.Float32s()
		for i, x := range data {
			d[i] = float32(x)
		}
	default:
		copy(t.Float64s(), data)
	}
}

func getData(t *tensor.Dense) []float64 {
	switch t.Dtype() {
	case tensor.Float32:
		d := t.Float32s()
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	default:
		return append([]float64(nil), t.Float64s()...)
	}
}

// relErr is max|a−b| / max(max|b|, 1e-300): the error relative to the size of the reference.
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = max(num, math.Abs(a[i]-b[i]))
		den = max(den, math.Abs(b[i]))
	}
	if math.IsNaN(num) {
		return math.Inf(1)
	}
	return num / max(den, 1e-300)
}

// params is a set of named parameters with their gradients.
type params struct {
	vars  []*Var
	model []gorgonia.ValueGrad
}

func newParams(dt tensor.Dtype, names []string, shapes [][]int, init [][]float64) *params {
	p := &params{}
	for i, n := range names {
		v := NewVar(n, dense(dt, shapes[i], init[i]), tensor.New(tensor.WithShape(shapes[i]...), tensor.Of(dt)))
		p.vars = append(p.vars, v)
		p.model = append(p.model, v)
	}
	return p
}

func (p *params) setGrads(g [][]float64) {
	for i, v := range p.vars {
		setData(v.grad, g[i])
	}
}

func (p *params) values() [][]float64 {
	out := make([][]float64, len(p.vars))
	for i, v := range p.vars {
		out[i] = getData(v.value)
	}
	return out
}

// randn returns n normal numbers scaled by s.
func randn(r *rand.Rand, n int, s float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = s * r.NormFloat64()
	}
	return out
}

// problem is a deterministic set of parameters and a gradient sequence.
type problem struct {
	names  []string
	shapes [][]int
	init   [][]float64
	grads  [][][]float64 // [step][param][elem]
}

func newProblem(seed uint64, steps int, shapes ...[]int) *problem {
	r := rand.New(rand.NewPCG(seed, 1))
	pr := &problem{shapes: shapes}
	for i, s := range shapes {
		pr.names = append(pr.names, string(rune('a'+i)))
		pr.init = append(pr.init, randn(r, size(s), 1))
	}
	for t := 0; t < steps; t++ {
		var gs [][]float64
		for _, s := range shapes {
			gs = append(gs, randn(r, size(s), 1+0.5*math.Sin(float64(t))))
		}
		pr.grads = append(pr.grads, gs)
	}
	return pr
}

func size(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (pr *problem) params(dt tensor.Dtype) *params {
	return newParams(dt, pr.names, pr.shapes, pr.init)
}

func concat(xs [][]float64) []float64 {
	var out []float64
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}
