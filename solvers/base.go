package solvers

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unsafe"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/parallel"
)

// meta is the static description of an algorithm's state.
type meta struct {
	name    string
	kernel  kernels
	slots   []string  // state slot names, at most 3, in kernel order
	scalars []string  // per-parameter scalars; scalars[0] is "step"
	init    []float64 // initial value of each scalar
	// decoupled: the solver's weight decay is decoupled from the gradient
	// (Config.DecoupledDecay, as AdamW's); the others take coupled L2
	// (Config.WeightDecay). DecayConfig reads it.
	decoupled bool
}

// algorithm is what each solver type supplies to the shared Step.
type algorithm interface {
	meta() *meta
	validate() error
	options() *Options
	// slotUsed reports whether state slot i is used under the current config.
	slotUsed(i int) bool
	// hyper fills h for one parameter whose scalars were just advanced (step++).
	hyper(sc []float64, h *hyper[float64])
}

type paramState struct {
	dtype   tensor.Dtype
	shape   tensor.Shape
	slots   [3]*tensor.Dense
	scalars [2]float64
	stamp   uint64 // last step that used it, to detect a name given twice
}

type item struct {
	w, g *tensor.Dense
	st   *paramState
}

// base is the machinery shared by every solver: name-keyed state, the
// reusable item list and kernel jobs, and the parallel runner.
type base struct {
	params   map[string]*paramState
	items    []item
	partials []float64
	stamp    uint64
	r        parallel.Runner
	j32      job[float32]
	j64      job[float64]
	h        hyper[float64] // here, not on the stack: a.hyper(…, &h) would make it escape
}

func (b *base) step(a algorithm, model []gorgonia.ValueGrad) error {
	md := a.meta()
	if err := a.validate(); err != nil {
		return err
	}
	if err := a.options().check(md.name); err != nil {
		return err
	}
	if b.params == nil {
		b.params = make(map[string]*paramState)
	}
	b.stamp++
	b.items = b.items[:0]
	for i, vg := range model {
		it, err := b.collect(a, md, i, vg)
		if err != nil {
			return err
		}
		b.items = append(b.items, it)
	}

	o := a.options()
	var p prep[float64]
	p.l1, p.wd, p.scale, p.clip, p.ns = o.L1, o.WeightDecay, 1, o.ClipValue, 1
	if o.BatchSize > 1 {
		p.scale = 1 / o.BatchSize
	}
	p.on = p.l1 != 0 || p.wd != 0 || p.scale != 1 || p.clip > 0
	if o.ClipNorm > 0 {
		if norm := b.globalNorm(&p); norm > o.ClipNorm {
			p.ns = o.ClipNorm / norm
			p.on = true
		}
	}

	for _, it := range b.items {
		st := it.st
		st.scalars[0]++
		b.h = hyper[float64]{}
		a.hyper(st.scalars[:len(md.scalars)], &b.h)
		switch st.dtype {
		case tensor.Float32:
			runJob(b, &b.j32, md.kernel.f32, it, &b.h, &p)
		default:
			runJob(b, &b.j64, md.kernel.f64, it, &b.h, &p)
		}
	}
	b.j32, b.j64 = job[float32]{}, job[float64]{} // drop references to the tensors
	return nil
}

func data[T Float](d *tensor.Dense) []T {
	if d == nil {
		return nil
	}
	if unsafe.Sizeof(T(0)) == 4 {
		f := d.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
	}
	f := d.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
}

func runJob[T Float](b *base, j *job[T], k func(*job[T], int, int), it item, h *hyper[float64], p *prep[float64]) {
	st := it.st
	*j = job[T]{
		kern: k, w: data[T](it.w), g: data[T](it.g),
		s0: data[T](st.slots[0]), s1: data[T](st.slots[1]), s2: data[T](st.slots[2]),
		h: castHyper[T](h), p: castPrep[T](p),
	}
	runSplit(&b.r, j, len(j.w), grain)
}

// globalNorm returns √Σ prep(g)² over all items: sums over fixed chunks of
// normChunk elements (in parallel), combined in item and chunk order.
func (b *base) globalNorm(p *prep[float64]) float64 {
	total := 0
	for _, it := range b.items {
		total += (it.w.Shape().TotalSize() + normChunk - 1) / normChunk
	}
	if cap(b.partials) < total {
		b.partials = make([]float64, total)
	}
	b.partials = b.partials[:total]
	off := 0
	for _, it := range b.items {
		n := it.w.Shape().TotalSize()
		c := (n + normChunk - 1) / normChunk
		part := b.partials[off : off+c]
		switch it.st.dtype {
		case tensor.Float32:
			b.j32 = job[float32]{norm: true, w: data[float32](it.w), g: data[float32](it.g), p: castPrep[float32](p), partials: part}
			runSplit(&b.r, &b.j32, c, 2)
		default:
			b.j64 = job[float64]{norm: true, w: data[float64](it.w), g: data[float64](it.g), p: castPrep[float64](p), partials: part}
			runSplit(&b.r, &b.j64, c, 2)
		}
		off += c
	}
	var s float64
	for _, x := range b.partials {
		s += x
	}
	return math.Sqrt(s)
}

func (b *base) collect(a algorithm, md *meta, i int, vg gorgonia.ValueGrad) (item, error) {
	nm, ok := vg.(gorgonia.Namer)
	if !ok {
		return item{}, fmt.Errorf("%w: %s: parameter %d (%T) has no name: it must implement gorgonia.Namer", ErrParam, md.name, i, vg)
	}
	name := nm.Name()
	if name == "" {
		return item{}, fmt.Errorf("%w: %s: parameter %d has an empty name", ErrParam, md.name, i)
	}
	w, ok := vg.Value().(*tensor.Dense)
	if !ok || w == nil {
		return item{}, fmt.Errorf("%w: %s: parameter %q: value %T is not a *tensor.Dense", ErrParam, md.name, name, vg.Value())
	}
	gv, err := vg.Grad()
	if err != nil {
		return item{}, fmt.Errorf("%w: %s: parameter %q has no gradient: %v", ErrParam, md.name, name, err)
	}
	g, ok := gv.(*tensor.Dense)
	if !ok || g == nil {
		return item{}, fmt.Errorf("%w: %s: parameter %q: gradient %T is not a *tensor.Dense", ErrParam, md.name, name, gv)
	}
	dt := w.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return item{}, fmt.Errorf("%w: %s: parameter %q has dtype %v, want float32 or float64", ErrParam, md.name, name, dt)
	}
	if g.Dtype() != dt || !g.Shape().Eq(w.Shape()) {
		return item{}, fmt.Errorf("%w: %s: parameter %q: gradient %v %v does not match value %v %v", ErrParam, md.name, name, g.Dtype(), g.Shape(), dt, w.Shape())
	}
	if w.IsView() || g.IsView() {
		return item{}, fmt.Errorf("%w: %s: parameter %q: value or gradient is a view", ErrParam, md.name, name)
	}
	st := b.params[name]
	if st == nil {
		st = &paramState{dtype: dt, shape: w.Shape().Clone()}
		copy(st.scalars[:], md.init)
		b.params[name] = st
	} else if st.shape == nil { // restored by SetState without slots (SGD)
		st.shape, st.dtype = w.Shape().Clone(), dt
	} else if st.dtype != dt || !st.shape.Eq(w.Shape()) {
		return item{}, fmt.Errorf("%w: %s: parameter %q is %v %v, its state was made for %v %v", ErrShape, md.name, name, dt, w.Shape(), st.dtype, st.shape)
	}
	if st.stamp == b.stamp {
		return item{}, fmt.Errorf("%w: %s: parameter %q given twice in one step", ErrParam, md.name, name)
	}
	st.stamp = b.stamp
	for k := range md.slots {
		if a.slotUsed(k) && st.slots[k] == nil {
			st.slots[k] = tensor.New(tensor.WithShape(st.shape.Clone()...), tensor.Of(dt))
		}
	}
	return item{w: w, g: g, st: st}, nil
}

// state exports a copy of all state of the algorithm.
func (b *base) state(md *meta) map[string]*tensor.Dense {
	out := make(map[string]*tensor.Dense)
	for name, st := range b.params {
		for k, s := range st.slots {
			if s != nil && k < len(md.slots) {
				out[name+"/"+md.slots[k]] = s.Clone().(*tensor.Dense)
			}
		}
		for k, sc := range md.scalars {
			out[name+"/"+sc] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{st.scalars[k]}))
		}
	}
	return out
}

// setState replaces all state by a copy of in, after validating every key.
func (b *base) setState(md *meta, in map[string]*tensor.Dense) error {
	params := make(map[string]*paramState)
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	get := func(name string) *paramState {
		st := params[name]
		if st == nil {
			st = &paramState{}
			copy(st.scalars[:], md.init)
			params[name] = st
		}
		return st
	}
	// Slots first, so shapes are known; then scalars.
	for _, key := range keys {
		t := in[key]
		i := strings.LastIndexByte(key, '/')
		if i <= 0 || t == nil {
			return fmt.Errorf("%w: %s: key %q: want \"<param>/<slot>\" with a tensor", ErrState, md.name, key)
		}
		name, slot := key[:i], key[i+1:]
		if k := indexOf(md.slots, slot); k >= 0 {
			dt := t.Dtype()
			if dt != tensor.Float32 && dt != tensor.Float64 {
				return fmt.Errorf("%w: %s: key %q has dtype %v, want float32 or float64", ErrState, md.name, key, dt)
			}
			st := get(name)
			if st.shape == nil {
				st.shape, st.dtype = t.Shape().Clone(), dt
			} else if !st.shape.Eq(t.Shape()) || st.dtype != dt {
				return fmt.Errorf("%w: %s: key %q is %v %v, other slots of %q are %v %v", ErrState, md.name, key, dt, t.Shape(), name, st.dtype, st.shape)
			}
			c := tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(dt))
			if err := tensor.Copy(c, t); err != nil {
				return fmt.Errorf("%w: %s: key %q: %v", ErrState, md.name, key, err)
			}
			st.slots[k] = c
			continue
		}
		if indexOf(md.scalars, slot) < 0 {
			return fmt.Errorf("%w: %s: unknown key %q (slots %v, scalars %v)", ErrState, md.name, key, md.slots, md.scalars)
		}
	}
	for _, key := range keys {
		t := in[key]
		i := strings.LastIndexByte(key, '/')
		name, slot := key[:i], key[i+1:]
		k := indexOf(md.scalars, slot)
		if k < 0 {
			continue
		}
		if t.Dtype() != tensor.Float64 || t.Shape().TotalSize() != 1 {
			return fmt.Errorf("%w: %s: key %q is %v %v, want a one-element float64 tensor", ErrState, md.name, key, t.Dtype(), t.Shape())
		}
		get(name).scalars[k] = t.Float64s()[0]
	}
	b.params = params
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
