package ops

import (
	"fmt"
	"math"
	"unsafe"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/vec"
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
// any batch, a single example included. Under data parallelism the op can
// synchronize its statistics across processes (it is a graph.SyncOp: see
// Program.SetSync, and train.Options.SyncBatchNorm); m then counts the
// values of every process.
func BatchNorm(b *graph.Builder, name string, x *gorgonia.Node, opt BatchNormOptions) (*gorgonia.Node, error) {
	label := fmt.Sprintf("BatchNorm %q", name)
	if err := checkBuilderInput(b, label, x); err != nil {
		return nil, err
	}
	fail := func(err error) (*gorgonia.Node, error) { return nil, b.Fail(err) }
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
	n, c, sp := bnDims(xs)
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
		name:     fmt.Sprintf("BatchNorm(%q, momentum=%v, eps=%v)", name, mom, eps),
		label:    label,
		momentum: mom,
		eps:      eps,
		dims:     len(xs),
		runMean:  rm,
		runVar:   rv,
		training: true,
	}
	y, err := applyDef(&def{
		name:  o.name,
		label: label,
		typ:   sig(len(xs), 1, 1, len(xs)),
		run32: func(out []float32, in [][]float32) error { return bnRun(o, out, in, n, c, sp) },
		run64: func(out []float64, in [][]float64) error { return bnRun(o, out, in, n, c, sp) },
		grad:  o.grads,
		train: func(training bool) { o.training = training },
		sync:  func(sum func([]float64) error) { o.sync = sum },
		state: o,
	}, x, gamma, beta)
	if err != nil {
		return fail(err)
	}
	return y, nil
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

// bnOp is the state of a BatchNorm node, y = γ·(x − μ)/√(σ² + ε) + β with
// inputs (x, γ, β), kept by its def (and shared by every machine on the
// graph): the mode flag, the running statistics and those of the last
// forward pass, which the gradient ops of the same run read.
type bnOp struct {
	name, label     string
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

	// Synchronized statistics (the def's sync hook; see bnRun): the all-reduce, the last forward
	// pass's values per feature over every process (m) and this process's
	// share of them, the sums dx uses (sg, sgx again when local), and the
	// all-reduce's buffer.
	sync      func([]float64) error
	m, share  float64
	gsg, gsgx []float64
	ssg, ssgx []float64
	syncBuf   []float64

	j32 bnJob[float32]
	j64 bnJob[float64]
}

// alloc sizes the per-feature buffers for c features.
func (o *bnOp) alloc(c int) {
	if len(o.mean) != c {
		o.mean, o.invStd, o.sg, o.sgx = make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
	}
}

// jobFor returns the op's job for element type T.
func jobFor[T float](o *bnOp) *bnJob[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&o.j32).(*bnJob[T])
	}
	return any(&o.j64).(*bnJob[T])
}

// bnRun is BatchNorm's forward kernel for element type T: it writes the
// normalized x (in[0]) into out with γ, β = in[1], in[2] and, in Train
// mode, updates the running statistics. A Train-mode run needs two values
// per feature at least, unless the statistics are synchronized (SetSync's
// hook: the other processes' values count too).
//
// Synchronized batch norm (PyTorch's SyncBatchNorm), when the def's sync
// hook has set o.sync: in Train mode the statistics are those of the
// batches of every process together. The forward pass all-reduces Σx
// (and the count m) per feature, then Σ(x − μ)² with the global μ: the
// same two-pass formula as one process, not Σx² − m·μ², which cancels.
// The backward pass all-reduces Σg and Σg·x̂, each process's weighted by its
// share m_r/m of the values (its loss is the mean over its own batch) and
// scaled back by m/m_r, so that dx is this process's part of the gradient
// of the global batch's mean loss; dγ and dβ stay this process's sums, as
// the other parameters' gradients do. Every process must run the same
// program in step: the all-reduces are collective.
func bnRun[T float](o *bnOp, out []T, in [][]T, n, c, s int) error {
	if len(in[0]) != n*c*s || len(in[1]) != c || len(in[2]) != c {
		return fmt.Errorf("%w: %s: x, γ, β have %d, %d, %d values, want %d×%d×%d, %d, %d", ErrShape, o.label, len(in[0]), len(in[1]), len(in[2]), n, c, s, c, c)
	}
	if o.training && n*s < 2 && o.sync == nil {
		return fmt.Errorf("%w: %s: x (%d, %d, …) has %d value per feature in Train mode, batch statistics need at least 2", ErrShape, o.label, n, c, n*s)
	}
	o.batchStats = o.training
	o.runs++
	rm, rv := data[T](o.runMean), data[T](o.runVar)
	if rm == nil || rv == nil {
		return fmt.Errorf("%w: %s: the running statistics are %s, want plain tensors of x's dtype", ErrDtype, o.label, notPlain(o.runMean))
	}
	return bnForward(o, out, in[0], in[1], in[2], rm, rv, n, c, s)
}

// bnSerial is the size below which a BatchNorm pass runs on the calling
// goroutine only: handing a smaller one to the worker pool costs more than
// it saves.
const bnSerial = 1 << 14

// bnBlock is the number of channels per item of the sums of dense input:
// enough for the vector kernels to run on long rows. (A convolution's
// channels hold long runs each: there an item is one channel.)
const bnBlock = 64

// block returns the channels per item of the sums.
func (j *bnJob[T]) block() int {
	if j.s == 1 {
		return bnBlock
	}
	return 1
}

// The passes of a bnJob. The sums run over channel ranges, each channel's
// values added by one goroutine in a fixed order (sample by sample; within a
// convolution's run, the order of the leaf kernel), so the results do not
// depend on the split; the element-wise passes run over samples (dense
// input) or (sample, channel) runs.
const (
	bnStats = iota // μ and Σ(x − μ)² per channel
	bnSums         // Σg and Σg·x̂ per channel
	bnElems        // the element-wise kernel: y or dx
)

// The parts of the bnStats pass: both (μ, then Σ(x − μ)²), or for
// synchronized statistics Σx alone and Σ(x − μ)² with a given μ.
const (
	statsBoth = iota
	statsSum
	statsDev
)

// bnJob runs one pass of BatchNorm for element type T on the cores. It is a
// worker, kept in the op so that running it allocates nothing. The tensor
// is (n, c, s): n samples of c channels of s values each (s = 1 for dense
// input, whose samples are then rows of c features, walked front to back).
//
// Every element-wise pass is one kernel, out = A·g + B·(x − M) + C with
// constants per channel:
//
//	forward:        y  = γ/√(σ² + ε)·(x − μ) + β                  (A = 0, g = x)
//	backward:       dx = k·g − k·x̂·Σ(g·x̂)/m − k·Σg/m,  k = γ/√(σ² + ε)
//	                   = k·g + (−k·Σ(g·x̂)/(m·√(σ² + ε)))·(x − μ) + (−k·Σg/m)
//	Eval backward:  dx = k·g                                        (B = C = 0)
type bnJob[T float] struct {
	o          *bnOp
	r          parallel.Runner
	pass       int
	n, c, s    int
	stats      int // which part of the bnStats pass runs: statsBoth, statsSum or statsDev
	x, g       []T // input, output gradient (x again in the forward pass)
	out        []T
	a, b, m, k []T // per channel: A, B, M, C of the element-wise kernel
}

// do runs pass over the whole tensor.
func (j *bnJob[T]) do(pass int) {
	j.pass = pass
	items := (j.c + j.block() - 1) / j.block() // the sums: blocks of channels
	if pass == bnElems {
		items = j.n * j.c // (sample, channel) runs…
		if j.s == 1 {
			items = j.n // …or, for dense input, samples
		}
	}
	if j.n*j.c*j.s < bnSerial {
		j.Run(0, 0, items)
		return
	}
	j.r.Run(j, items)
}

func (j *bnJob[T]) Run(_, lo, hi int) {
	o, n, c, s := j.o, j.n, j.c, j.s
	if j.pass != bnElems { // items are blocks of channels
		lo, hi = lo*j.block(), min(hi*j.block(), c)
	}
	switch j.pass {
	case bnStats:
		mean, ss := o.mean[lo:hi], o.invStd[lo:hi] // ss becomes 1/√(σ² + ε) later
		clear(ss)
		if j.stats != statsDev { // μ, unless it is given
			clear(mean)
			for b := range n {
				if s == 1 {
					vec.SumTo(mean, j.x[b*c+lo:b*c+hi])
					continue
				}
				for k := range mean {
					mean[k] += vec.Sum(j.x[(b*c+lo+k)*s : (b*c+lo+k+1)*s])
				}
			}
			if j.stats == statsSum { // Σx alone
				return
			}
			for k := range mean {
				mean[k] /= float64(n * s)
			}
		}
		for b := range n {
			if s == 1 {
				vec.SqDevTo(ss, j.x[b*c+lo:b*c+hi], mean)
				continue
			}
			for k, mu := range mean {
				ss[k] += vec.SqDev(j.x[(b*c+lo+k)*s:(b*c+lo+k+1)*s], mu)
			}
		}
	case bnSums:
		mean, inv, sg, sgx := o.mean[lo:hi], o.invStd[lo:hi], o.sg[lo:hi], o.sgx[lo:hi]
		clear(sg)
		clear(sgx)
		for b := range n {
			if s == 1 {
				i := b*c + lo
				vec.GradSumsTo(sg, sgx, j.x[i:i+len(sg)], j.g[i:i+len(sg)], mean)
				continue
			}
			for k, mu := range mean {
				i := (b*c + lo + k) * s
				dg, dgx := vec.GradSums(j.x[i:i+s], j.g[i:i+s], mu)
				sg[k] += dg
				sgx[k] += dgx
			}
		}
		for k := range sgx {
			sgx[k] *= inv[k] // Σg·x̂
		}
	default: // bnElems
		if s == 1 {
			for b := lo; b < hi; b++ {
				i := b * c
				vec.Affine(j.out[i:i+c], j.g[i:i+c], j.x[i:i+c], j.a, j.b, j.m, j.k)
			}
			return
		}
		for r := lo; r < hi; r++ {
			ch := r % c
			vec.AffineConst(j.out[r*s:(r+1)*s], j.g[r*s:(r+1)*s], j.x[r*s:(r+1)*s], j.a[ch], j.b[ch], j.m[ch], j.k[ch])
		}
	}
}

// constants sets the per-channel constants of the element-wise kernel from
// float64 values.
func (j *bnJob[T]) constants(c int, f func(ch int) (a, b, m, k float64)) {
	if len(j.a) != c {
		j.a, j.b, j.m, j.k = make([]T, c), make([]T, c), make([]T, c), make([]T, c)
	}
	for ch := range c {
		a, b, m, k := f(ch)
		j.a[ch], j.b[ch], j.m[ch], j.k[ch] = T(a), T(b), T(m), T(k)
	}
}

func bnForward[T float](o *bnOp, y, x, gamma, beta, rm, rv []T, n, c, s int) error {
	o.alloc(c)
	j := jobFor[T](o)
	j.o, j.n, j.c, j.s = o, n, c, s
	j.x, j.g, j.out = x, x, y
	defer func() { j.x, j.g, j.out = nil, nil, nil }()
	m := float64(n * s)
	o.m, o.share, o.gsg, o.gsgx = m, 1, o.sg, o.sgx
	mean, invStd := o.mean, o.invStd
	if o.batchStats {
		if o.sync == nil {
			j.do(bnStats)
		} else if err := bnSyncStats(o, j, m); err != nil {
			return err
		}
		m = o.m
		ss := invStd
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
	j.constants(c, func(ch int) (a, b, m, k float64) {
		return 0, invStd[ch] * float64(gamma[ch]), mean[ch], float64(beta[ch])
	})
	j.do(bnElems)
	return nil
}

// bnSyncStats sets o.mean to the mean of every process's values per
// feature, o.invStd to their Σ(x − μ)², and o.m and o.share to their count
// and this process's share of it (see bnRun).
func bnSyncStats[T float](o *bnOp, j *bnJob[T], m float64) error {
	c := len(o.mean)
	defer func() { j.stats = statsBoth }()
	j.stats = statsSum
	j.do(bnStats)
	buf := append(append(o.syncBuf[:0], o.mean...), m)
	if err := o.sync(buf); err != nil {
		return fmt.Errorf("%s: all-reduce of the batch sums Σx: %w", o.label, err)
	}
	o.m = buf[c]
	if o.m < 2 {
		return fmt.Errorf("%w: %s: %v values per feature over every process in Train mode, batch statistics need at least 2", ErrShape, o.label, o.m)
	}
	o.share = m / o.m
	for ch := range c {
		o.mean[ch] = buf[ch] / o.m
	}
	j.stats = statsDev
	j.do(bnStats)
	buf = append(buf[:0], o.invStd...)
	if err := o.sync(buf); err != nil {
		return fmt.Errorf("%s: all-reduce of the sums Σ(x − μ)²: %w", o.label, err)
	}
	copy(o.invStd, buf)
	o.syncBuf = buf
	return nil
}

// grads returns BatchNorm's three input gradients (x, γ, β). Each is an op
// on (x, y, γ, g) that uses the statistics its forward op kept; y is an
// input only so that the tape runs the forward op first.
func (o *bnOp) grads(in gorgonia.Nodes, y, grad *gorgonia.Node) (gorgonia.Nodes, error) {
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
	return bnBackward(o, wrt, out, x, gamma, g, n, c, s)
}

func bnBackward[T float](o *bnOp, wrt int, out, x, gamma, g []T, n, c, s int) error {
	o.alloc(c)
	j := jobFor[T](o)
	j.o, j.n, j.c, j.s = o, n, c, s
	j.x, j.g, j.out = x, g, out
	defer func() { j.x, j.g, j.out = nil, nil, nil }()
	// The three gradient ops of a run read the same x and output gradient g:
	// the first computes Σg and Σg·(x − μ) per feature, the others reuse them.
	if id := uintptr(unsafe.Pointer(unsafe.SliceData(g))); o.sumsAt != o.runs || o.sumsOf != id {
		j.do(bnSums)
		o.sumsAt, o.sumsOf = o.runs, id
		if o.sync != nil && o.batchStats {
			if err := bnSyncSums(o); err != nil {
				return err
			}
		}
	}
	switch wrt {
	case 1:
		for ch := range c {
			out[ch] = T(o.sgx[ch])
		}
	case 2:
		for ch := range c {
			out[ch] = T(o.sg[ch])
		}
	default:
		m := o.m // n·s, or every process's count
		j.constants(c, func(ch int) (a, b, mu, k float64) {
			kk := float64(gamma[ch]) * o.invStd[ch]
			if !o.batchStats { // Eval mode: the statistics are constants
				return kk, 0, 0, 0
			}
			return kk, -kk * o.invStd[ch] * o.gsgx[ch] / m, o.mean[ch], -kk * o.gsg[ch] / m
		})
		j.do(bnElems)
	}
	return nil
}

// bnSyncSums sets o.gsg and o.gsgx to Σg and Σg·x̂ over every process, on
// this process's scale (see bnRun).
func bnSyncSums(o *bnOp) error {
	c := len(o.sg)
	buf := o.syncBuf[:0]
	for _, v := range [][]float64{o.sg, o.sgx} {
		for _, x := range v {
			buf = append(buf, x*o.share)
		}
	}
	if err := o.sync(buf); err != nil {
		return fmt.Errorf("%s gradient: all-reduce of the sums Σg and Σg·x̂: %w", o.label, err)
	}
	if len(o.ssg) != c {
		o.ssg, o.ssgx = make([]float64, c), make([]float64, c)
	}
	for ch := range c {
		o.ssg[ch], o.ssgx[ch] = buf[ch]/o.share, buf[c+ch]/o.share
	}
	o.gsg, o.gsgx = o.ssg, o.ssgx
	o.syncBuf = buf
	return nil
}
