package ops

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// Defaults of BatchNormOptions.
const (
	DefaultBatchNormMomentum = 0.1
	DefaultBatchNormEps      = 1e-5
)

// BatchNormOptions configure BatchNorm. Zero fields select the defaults.
type BatchNormOptions struct {
	// Momentum is the weight of the current batch in the running statistics,
	// PyTorch's convention: running = (1 − Momentum)·running + Momentum·batch
	// (Keras and Gorgonia's docs call 1 − Momentum the momentum). It must be
	// in (0, 1]; default DefaultBatchNormMomentum (0.1).
	Momentum float64
	// Eps is added to the variance before the square root. It must be > 0;
	// default DefaultBatchNormEps (1e-5).
	Eps float64
}

// BatchNorm normalizes x per feature (Ioffe & Szegedy, 2015). x has shape
// (batch, features), or (batch, channels, h, w), normalized per channel over
// batch, h and w as PyTorch's BatchNorm2d does. With m values per feature
// (m = batch·h·w):
//
//	Train: μ = (1/m) Σ x,  σ² = (1/m) Σ (x − μ)²   (the biased batch variance)
//	       running_mean = (1 − momentum)·running_mean + momentum·μ
//	       running_var  = (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)  (unbiased)
//	Eval:  μ = running_mean, σ² = running_var, nothing is updated
//	y = γ·(x − μ)/√(σ² + ε) + β
//
// In Train mode the gradients are those of the batch statistics: with
// x̂ = (x − μ)/√(σ² + ε), dβ = Σ g, dγ = Σ g·x̂ and
// dx = γ/√(σ² + ε) · (g − Σg/m − x̂·Σ(g·x̂)/m). (If a backward pass ever runs
// in Eval mode, dx = γ·g/√(running_var + ε): the statistics are constants.)
//
// BatchNorm registers the learnable parameters name+"/gamma" (initialized to
// 1) and name+"/beta" (0), of shape (features), and the state tensors
// name+"/running_mean" (0) and name+"/running_var" (1), of shape (features)
// and x's dtype, through b.AddState. The state tensors are the ones the op
// updates: read and write them through Program.States. Switching modes and
// compiling more programs never resets them. The op follows the mode the
// Program pushes to it (gorgonia.TrainModeOp). A Train-mode run needs m ≥ 2
// (it returns an ErrShape error otherwise, as PyTorch does); Eval mode takes
// any batch, a single example included.
func BatchNorm(b *graph.Builder, name string, x *gorgonia.Node, opt BatchNormOptions) (*gorgonia.Node, error) {
	label := fmt.Sprintf("BatchNorm %q", name)
	if b == nil {
		return nil, fmt.Errorf("%w: %s: nil builder", ErrBuild, label)
	}
	fail := func(err error) (*gorgonia.Node, error) { return nil, b.Fail(err) }
	if err := checkFloat(label, "x", x); err != nil {
		return fail(err)
	}
	if x.Graph() != b.Graph() {
		return fail(fmt.Errorf("%w: %s: x is not a node of the builder's graph", ErrBuild, label))
	}
	mom, eps := opt.Momentum, opt.Eps
	if mom == 0 {
		mom = DefaultBatchNormMomentum
	}
	if eps == 0 {
		eps = DefaultBatchNormEps
	}
	if !(mom > 0 && mom <= 1) {
		return fail(fmt.Errorf("%w: %s: Momentum = %v, want a value in (0, 1]", ErrConfig, label, opt.Momentum))
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return fail(fmt.Errorf("%w: %s: Eps = %v, want a finite value > 0", ErrConfig, label, opt.Eps))
	}
	xs := x.Shape()
	if len(xs) != 2 && len(xs) != 4 {
		return fail(fmt.Errorf("%w: %s: x %v: want (batch, features) or (batch, channels, h, w)", ErrShape, label, xs))
	}
	_, c, _ := bnDims(xs)
	dt := x.Dtype()
	gamma, err := b.Param(name+"/gamma", dt, constant(1), c)
	if err != nil {
		return nil, err
	}
	beta, err := b.Param(name+"/beta", dt, constant(0), c)
	if err != nil {
		return nil, err
	}
	rm, rv := filled(dt, c, 0), filled(dt, c, 1)
	// With a shared builder (graph.Builder.Share) AddState returns the
	// other program's tensors: both programs then update the same statistics.
	if rm, err = b.AddState(name+"/running_mean", rm); err != nil {
		return nil, err
	}
	if rv, err = b.AddState(name+"/running_var", rv); err != nil {
		return nil, err
	}
	o := &bnOp{
		opBase:   newBase(fmt.Sprintf("BatchNorm(%q, momentum=%v, eps=%v)", name, mom, eps)),
		label:    label,
		momentum: mom,
		eps:      eps,
		dims:     len(xs),
		runMean:  rm,
		runVar:   rv,
		training: true,
	}
	n, err := apply(label, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(o, x, gamma, beta) })
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// constant is an Initializer filling a tensor with v.
type constant float64

// Initialize returns a tensor of dtype dt and the given shape filled with c.
func (c constant) Initialize(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
	if !isFloat(dt) {
		return nil, fmt.Errorf("%w: constant initializer: dtype %v", ErrDtype, dt)
	}
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	switch d := t.Data().(type) {
	case []float32:
		fill(d, float32(c))
	case []float64:
		fill(d, float64(c))
	}
	return t, nil
}

func fill[T float](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// filled returns a (n) tensor of dtype dt (float32 or float64) filled with v.
func filled(dt tensor.Dtype, n int, v float64) *tensor.Dense {
	t, _ := constant(v).Initialize(0, dt, n)
	return t.(*tensor.Dense)
}

// bnDims returns the batch size, the number of features (channels) and the
// number of spatial positions per channel of an input of shape s.
func bnDims(s tensor.Shape) (n, c, sp int) {
	n, c, sp = s[0], s[1], 1
	for _, d := range s[2:] {
		sp *= d
	}
	return n, c, sp
}

// bnOp is y = γ·(x − μ)/√(σ² + ε) + β with inputs (x, γ, β). It is a pointer
// type: the mode flag and the statistics of the last forward pass (read by
// the gradient ops of the same run) live in the op, which every machine on
// the graph shares.
type bnOp struct {
	opBase
	label           string
	momentum, eps   float64
	dims            int
	runMean, runVar *tensor.Dense // the registered state tensors, updated in place
	training        bool

	// Set by the last forward pass: whether batch statistics were used, and
	// the mean and 1/√(σ² + ε) per feature.
	batchStats   bool
	mean, invStd []float64
	runs         uint64 // forward passes so far

	// The per-feature sums Σg and Σg·x̂ the three gradient ops share, and
	// the forward pass and output gradient they were computed for.
	sg, sgx []float64
	sumsAt  uint64
	sumsOf  uintptr
}

var (
	_ gorgonia.Op              = (*bnOp)(nil)
	_ gorgonia.SDOp            = (*bnOp)(nil)
	_ gorgonia.UsePreallocDoer = (*bnOp)(nil)
	_ gorgonia.TrainModeOp     = (*bnOp)(nil)
)

// SetTraining selects batch statistics (true) or running statistics (false).
// It only sets the flag: the running statistics are never reset.
func (o *bnOp) SetTraining(training bool) error { o.training = training; return nil }

func (o *bnOp) Arity() int { return 3 }

func (o *bnOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: o.dims, Of: a}
	v := gorgonia.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(t, v, v, t)
}

func (o *bnOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }

func (o *bnOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.label, &err)
	return o.UsePreallocDo(o.out.like(in[0]), in...)
}

// UsePreallocDo writes the normalized x into prealloc and, in Train mode,
// updates the running statistics.
func (o *bnOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(o.label, &err)
	n, c, s := bnDims(in[0].Shape())
	if len(o.mean) != c {
		o.mean, o.invStd = make([]float64, c), make([]float64, c)
	}
	if o.training && n*s < 2 {
		return nil, fmt.Errorf("%w: %s: x %v has %d value per feature in Train mode, batch statistics need at least 2", ErrShape, o.label, in[0].Shape(), n*s)
	}
	o.batchStats = o.training
	o.runs++
	switch x := in[0].Data().(type) {
	case []float32:
		bnForward(o, prealloc.Data().([]float32), x, in[1].Data().([]float32), in[2].Data().([]float32),
			o.runMean.Data().([]float32), o.runVar.Data().([]float32), n, c, s)
	case []float64:
		bnForward(o, prealloc.Data().([]float64), x, in[1].Data().([]float64), in[2].Data().([]float64),
			o.runMean.Data().([]float64), o.runVar.Data().([]float64), n, c, s)
	default:
		return nil, fmt.Errorf("%w: %s: unsupported data %T", ErrDtype, o.label, x)
	}
	return prealloc, nil
}

// The kernels read each tensor front to back, accumulating per-feature
// sums, instead of striding through it once per feature: an (n, c, s)
// tensor is walked as n·c runs of s values, feature ch = run mod c.

func bnForward[T float](o *bnOp, y, x, gamma, beta, rm, rv []T, n, c, s int) {
	m := float64(n * s)
	mean, invStd := o.mean, o.invStd
	if o.batchStats {
		clear(mean)
		for i, b := 0, 0; b < n; b++ {
			for ch := range c {
				for _, v := range x[i : i+s] {
					mean[ch] += float64(v)
				}
				i += s
			}
		}
		for ch := range mean {
			mean[ch] /= m
		}
		ss := invStd // Σ(x − μ)², turned into 1/√(σ² + ε) below
		clear(ss)
		for i, b := 0, 0; b < n; b++ {
			for ch, mu := range mean {
				for _, v := range x[i : i+s] {
					d := float64(v) - mu
					ss[ch] += d * d
				}
				i += s
			}
		}
		for ch := range mean {
			rm[ch] = T((1-o.momentum)*float64(rm[ch]) + o.momentum*mean[ch])
			rv[ch] = T((1-o.momentum)*float64(rv[ch]) + o.momentum*ss[ch]/(m-1))
			invStd[ch] = 1 / math.Sqrt(ss[ch]/m+o.eps)
		}
	} else {
		for ch := range mean {
			mean[ch] = float64(rm[ch])
			invStd[ch] = 1 / math.Sqrt(float64(rv[ch])+o.eps)
		}
	}
	for i, b := 0, 0; b < n; b++ {
		for ch, mu := range mean {
			k, bb := invStd[ch]*float64(gamma[ch]), float64(beta[ch])
			for j, v := range x[i : i+s] {
				y[i+j] = T((float64(v)-mu)*k + bb)
			}
			i += s
		}
	}
}

func (o *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }

// SymDiff returns BatchNorm's three input gradients (x, γ, β). Each is an op
// on (x, y, γ, g) that uses the statistics its forward op kept; y is an
// input only so that the tape runs the forward op first.
func (o *bnOp) SymDiff(in gorgonia.Nodes, y, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	xs := in[0].Shape()
	n, c, s := bnDims(xs)
	out := make(gorgonia.Nodes, 3)
	for wrt, what := range []string{"x", "gamma", "beta"} {
		d := &def{
			name:  fmt.Sprintf("%s.Grad(wrt=%s)", o.name, what),
			label: o.label + " gradient",
			typ:   sig(o.dims, o.dims, 1, o.dims, o.dims),
			run32: func(out []float32, in [][]float32) error { return bnGrad(o, wrt, out, in[0], in[2], in[3], n, c, s) },
			run64: func(out []float64, in [][]float64) error { return bnGrad(o, wrt, out, in[0], in[2], in[3], n, c, s) },
		}
		if wrt > 0 {
			d.typ, d.shape = sig(o.dims, o.dims, 1, o.dims, 1), tensor.Shape{c}
		}
		g, err := applyDef(d, in[0], y, in[1], grad)
		if err != nil {
			return nil, err
		}
		out[wrt] = g
	}
	return out, nil
}

func bnGrad[T float](o *bnOp, wrt int, out, x, gamma, g []T, n, c, s int) error {
	if len(o.mean) != c {
		return fmt.Errorf("%w: %s gradient: the forward pass has not run", ErrBuild, o.label)
	}
	if len(x) != n*c*s || len(g) != len(x) || len(gamma) != c {
		return fmt.Errorf("%w: %s gradient: input sizes do not match x %d×%d×%d", ErrShape, o.label, n, c, s)
	}
	bnBackward(o, wrt, out, x, gamma, g, n, c, s)
	return nil
}

func bnBackward[T float](o *bnOp, wrt int, out, x, gamma, g []T, n, c, s int) {
	m := float64(n * s)
	mean, inv := o.mean, o.invStd
	if len(o.sg) != c {
		o.sg, o.sgx = make([]float64, c), make([]float64, c)
	}
	sg, sgx := o.sg, o.sgx
	// The three gradient ops of a run read the same x and output gradient g:
	// the first computes Σg and Σg·(x − μ) per feature, the others reuse them.
	if id := uintptr(unsafe.Pointer(unsafe.SliceData(g))); o.sumsAt != o.runs || o.sumsOf != id {
		clear(sg)
		clear(sgx)
		for i, b := 0, 0; b < n; b++ {
			for ch, mu := range mean {
				for j, v := range x[i : i+s] {
					gv := float64(g[i+j])
					sg[ch] += gv
					sgx[ch] += gv * (float64(v) - mu)
				}
				i += s
			}
		}
		for ch := range sgx {
			sgx[ch] *= inv[ch] // Σg·x̂
		}
		o.sumsAt, o.sumsOf = o.runs, id
	}
	switch wrt {
	case 1:
		for ch := range c {
			out[ch] = T(sgx[ch])
		}
	case 2:
		for ch := range c {
			out[ch] = T(sg[ch])
		}
	default:
		for i, b := 0, 0; b < n; b++ {
			for ch, mu := range mean {
				iv := inv[ch]
				k := float64(gamma[ch]) * iv
				if !o.batchStats {
					for j := range s {
						out[i+j] = T(k * float64(g[i+j]))
					}
				} else {
					a, bx := sg[ch]/m, sgx[ch]/m
					for j, v := range x[i : i+s] {
						xh := (float64(v) - mu) * iv
						out[i+j] = T(k * (float64(g[i+j]) - a - xh*bx))
					}
				}
				i += s
			}
		}
	}
}
