package graph

import (
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
)

// accumSerial is the size below which a gradient is accumulated on the
// calling goroutine only.
const accumSerial = 1 << 15

// gradEngine is the tensor engine of a Program's parameter gradients. With
// BindDualValues, Gorgonia's tape adds each gradient it computes into the
// parameter's gradient with tensor.Add(grad, g, UseUnsafe()), which the
// tensor package hands to the first operand's engine; the standard engine
// runs it as a scalar loop on one core. This engine runs that case — dense,
// same shape and dtype, float32 or float64, in place — on every core and
// leaves everything else to the standard engine. A Program gives it to its
// gradients after each training run (adoptGrads). The engine keeps per-call
// scratch, so like the Program it is not for concurrent use; a tensor
// cloned from a gradient inherits it (the tensor package copies engines),
// and should not be used concurrently with the Program either.
type gradEngine struct {
	tensor.StdEng
	opt tensor.OpOpt // the options of the current call, parsed without allocating
	r   parallel.Runner
	j32 addJob[float32]
	j64 addJob[float64]
}

// Add returns a + b; in place, into a, when the options ask for it.
func (e *gradEngine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	e.opt = tensor.OpOpt{}
	for _, f := range opts {
		f(&e.opt)
	}
	ad, aok := a.(*tensor.Dense)
	bd, bok := b.(*tensor.Dense)
	if !aok || !bok || e.opt.Safe() || e.opt.Same() || e.opt.Reuse() != nil || e.opt.Incr() != nil ||
		ad.IsView() || bd.IsView() || ad.Dtype() != bd.Dtype() || !ad.Shape().Eq(bd.Shape()) {
		return e.StdEng.Add(a, b, opts...)
	}
	switch ad.Dtype() {
	case tensor.Float32:
		e.j32.run(&e.r, ad.Float32s(), bd.Float32s())
	case tensor.Float64:
		e.j64.run(&e.r, ad.Float64s(), bd.Float64s())
	default:
		return e.StdEng.Add(a, b, opts...)
	}
	return a, nil
}

// addJob adds b into a over item (element) ranges.
type addJob[T float32 | float64] struct{ a, b []T }

func (j *addJob[T]) run(r *parallel.Runner, a, b []T) {
	j.a, j.b = a, b[:len(a)]
	if len(a) < accumSerial {
		j.Run(0, 0, len(a))
	} else {
		r.Run(j, len(a))
	}
	j.a, j.b = nil, nil
}

func (j *addJob[T]) Run(_, lo, hi int) {
	a, b := j.a[lo:hi], j.b[lo:hi]
	b = b[:len(a)]
	for i := range a {
		a[i] += b[i]
	}
}

// adoptGrads gives every parameter gradient that exists the program's
// engine. Gorgonia keeps a gradient's tensor from run to run (it adds into
// it in place), so this changes something only after the first run.
func (p *Program) adoptGrads() {
	for _, n := range p.params {
		g, err := n.Grad()
		if err != nil {
			continue
		}
		if t, ok := g.(*tensor.Dense); ok && t.Engine() != tensor.Engine(p.eng) {
			tensor.WithEngine(p.eng)(t)
		}
	}
}
