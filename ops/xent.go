package ops

import (
	"fmt"
	"math"
	"strings"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// XentOptions configures SoftmaxCrossEntropyWith. The zero value is plain
// cross-entropy.
type XentOptions struct {
	// LabelSmoothing is ε in [0, 1): the target of a position with label y
	// is (1−ε)·onehot(y) + ε/V over the V classes, as torch's
	// label_smoothing.
	LabelSmoothing float64
	// Ignore skips the positions whose label is IgnoreIndex (padding): they
	// add nothing to the loss or the gradient, and the mean is over the
	// other positions.
	Ignore bool
	// IgnoreIndex is the skipped label, with Ignore (torch's ignore_index,
	// -100 there by default). It may be a valid class (0 as a padding
	// token); an ignored label is never range-checked.
	IgnoreIndex int
}

// SoftmaxCrossEntropy returns the mean over all positions of
// −log softmax(z)[y], for logits z of shape (d1, …, dk, V) (k ≥ 1; the
// usual (batch, classes), or (N, T, V) for a sequence) and labels an Int
// node of shape (d1, …, dk) holding class indices in [0, V). It is computed
// as logsumexp(z) − z[y] with the row maximum subtracted first, so logits
// of ±1000 give finite losses and gradients; sums accumulate in float64.
// The gradient with respect to the logits is (softmax(z) − onehot(y)) / n
// over the n = d1·…·dk positions; labels get none. A label out of range is
// an error at run time naming its flat position (its row in the (n, V) view
// of the logits), its index in the labels and its value; the op's error
// wraps ErrLabel (graph.Program.Run's keeps only the message: Gorgonia's
// tape machine does not pass the chain on).
func SoftmaxCrossEntropy(logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	return softmaxXent("SoftmaxCrossEntropy", logits, labels, XentOptions{})
}

// SoftmaxCrossEntropyWith is SoftmaxCrossEntropy with label smoothing and
// ignored positions. With ε = opt.LabelSmoothing, a position with label y
// and log-probabilities log p = z − logsumexp(z) adds
//
//	(1−ε)·(−log p[y]) + (ε/V)·Σ_j (−log p[j])
//
// and the loss is the mean over the m positions not ignored; the gradient
// with respect to its logits is (softmax(z) − (1−ε)·onehot(y) − ε/V) / m,
// and 0 at ignored positions. This is torch's cross_entropy with
// label_smoothing and ignore_index and reduction "mean", except when every
// position is ignored: torch returns NaN (0/0), this returns a loss of 0
// and a zero gradient, so that a batch of padding cannot poison a run.
// With the zero options it computes exactly what SoftmaxCrossEntropy does.
func SoftmaxCrossEntropyWith(logits, labels *gorgonia.Node, opt XentOptions) (*gorgonia.Node, error) {
	return softmaxXent("SoftmaxCrossEntropyWith", logits, labels, opt)
}

// xentLabel names the ops in run-time errors.
const xentLabel = "SoftmaxCrossEntropy"

func softmaxXent(op string, logits, labels *gorgonia.Node, opt XentOptions) (*gorgonia.Node, error) {
	if err := checkFloat(op, "logits", logits); err != nil {
		return nil, err
	}
	if labels == nil {
		return nil, fmt.Errorf("%w: %s: labels is nil", ErrBuild, op)
	}
	if labels.Dtype() != tensor.Int {
		return nil, fmt.Errorf("%w: %s: labels %v have dtype %v, want int", ErrDtype, op, labels.Shape(), labels.Dtype())
	}
	ls, ys := logits.Shape(), labels.Shape()
	if len(ls) < 2 {
		return nil, fmt.Errorf("%w: %s: logits %v: want (d1, …, dk, classes) with k ≥ 1, e.g. (batch, classes)", ErrShape, op, ls)
	}
	if want := ls[:len(ls)-1]; !want.Eq(ys) || len(ys) != len(want) {
		return nil, fmt.Errorf("%w: %s: logits %v and labels %v: want labels of the logits' shape without its last dimension, %v", ErrShape, op, ls, ys, want)
	}
	if eps := opt.LabelSmoothing; !(eps >= 0 && eps < 1) {
		return nil, fmt.Errorf("%w: %s: LabelSmoothing is %v, want a value in [0, 1)", ErrConfig, op, eps)
	}
	if !opt.Ignore {
		opt.IgnoreIndex = 0 // unused: keep it out of the hash
	}
	o := &xentOp{opBase: newBase("SoftmaxCrossEntropy" + xentParams(opt)), opt: opt, rank: len(ls), loss: &scalarOut{}}
	return apply(op, func() (*gorgonia.Node, error) { return gorgonia.ApplyOp(o, logits, labels) })
}

// xentParams is the parameter list of the ops' names: "()" for plain
// cross-entropy, as before options existed.
func xentParams(opt XentOptions) string {
	var p []string
	if opt.LabelSmoothing != 0 {
		p = append(p, "smoothing="+formatFloat(opt.LabelSmoothing))
	}
	if opt.Ignore {
		p = append(p, fmt.Sprintf("ignore=%d", opt.IgnoreIndex))
	}
	return "(" + strings.Join(p, ", ") + ")"
}

// xentOp is the loss node; rank is the logits' rank (the labels have one
// less).
type xentOp struct {
	opBase
	opt  XentOptions
	rank int
	loss *scalarOut
}

func (o *xentOp) Arity() int { return 2 }

func (o *xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: o.rank, Of: a}, gorgonia.TensorType{Dims: o.rank - 1, Of: tensor.Int}, a)
}

func (o *xentOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o *xentOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(xentLabel, &err)
	z, labels, k, err := xentInputs(xentLabel, in)
	if err != nil {
		return nil, err
	}
	var loss float64
	if z32 := data[float32](z); z32 != nil {
		loss, err = xentLoss(z32, labels, k, o.opt, in[1])
	} else if z64 := data[float64](z); z64 != nil {
		loss, err = xentLoss(z64, labels, k, o.opt, in[1])
	} else {
		return nil, fmt.Errorf("%w: %s: the logits are %s, want a plain row-major float32 or float64 tensor", ErrDtype, xentLabel, notPlain(z))
	}
	if err != nil {
		return nil, err
	}
	return o.loss.set(z.Dtype(), loss), nil
}

// xentInputs returns the logits, the labels and the number of classes k,
// checking that there are k logits per label.
func xentInputs(op string, in []gorgonia.Value) (*tensor.Dense, []int, int, error) {
	if len(in) < 2 {
		return nil, nil, 0, fmt.Errorf("%w: %s: %d inputs, want logits and labels", ErrBuild, op, len(in))
	}
	z, err := denseOf(op, in[0])
	if err != nil {
		return nil, nil, 0, err
	}
	labels, ok := labelsOf(in[1])
	if !ok {
		return nil, nil, 0, fmt.Errorf("%w: %s: labels are %v, want int", ErrDtype, op, in[1].Dtype())
	}
	s := z.Shape()
	k := s[len(s)-1]
	if len(labels)*k != s.TotalSize() {
		return nil, nil, 0, fmt.Errorf("%w: %s: logits %v and %d labels: want one label per row of %d logits", ErrShape, op, s, len(labels), k)
	}
	return z, labels, k, nil
}

// ignored reports whether opt skips label y.
func (opt XentOptions) ignored(y int) bool { return opt.Ignore && y == opt.IgnoreIndex }

// labelError reports label y at flat position i (row i of the logits' (n, k)
// view) of the labels v.
func labelError(op string, y, i, k int, v gorgonia.Value) error {
	shape := v.Shape()
	where := ""
	if len(shape) > 1 {
		idx := make([]string, len(shape))
		r := i
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d] = fmt.Sprint(r % shape[d])
			r /= shape[d]
		}
		where = fmt.Sprintf(" (labels[%s] of %v)", strings.Join(idx, ", "), shape)
	}
	return fmt.Errorf("%w: %s: label %d at row %d%s is outside [0, %d)", ErrLabel, op, y, i, where, k)
}

// xentLoss returns the mean cross-entropy over the rows not ignored,
// accumulated in float64. Without smoothing a row adds
// logsumexp(z) − z[y] and nothing else (no 0·x term, which would turn an
// infinite logit into NaN).
func xentLoss[T float](z []T, labels []int, k int, opt XentOptions, lv gorgonia.Value) (float64, error) {
	eps := opt.LabelSmoothing
	var sum float64
	n := 0
	for i, y := range labels {
		if opt.ignored(y) {
			continue
		}
		if y < 0 || y >= k {
			return 0, labelError(xentLabel, y, i, k, lv)
		}
		row := z[i*k : (i+1)*k]
		lse := logSumExp(row)
		l := lse - float64(row[y])
		if eps != 0 {
			var s float64 // Σ_j −log p[j]
			for _, v := range row {
				s += lse - float64(v)
			}
			l = float64((1-eps)*l) + float64(eps/float64(k)*s)
		}
		sum += l
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

func logSumExp[T float](row []T) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

func (o *xentOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o *xentOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g := &xentGradOp{opBase: newBase("SoftmaxCrossEntropyGrad" + xentParams(o.opt)), opt: o.opt, rank: o.rank}
	dz, err := gorgonia.ApplyOp(g, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dz, nil}, nil
}

// xentGradOp computes dL/dz = g·(softmax(z) − target) / m.
type xentGradOp struct {
	opBase
	opt  XentOptions
	rank int
}

const xentGradLabel = "SoftmaxCrossEntropyGrad"

func (o *xentGradOp) Arity() int { return 3 }

func (o *xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: o.rank, Of: a}
	return hm.NewFnType(m, gorgonia.TensorType{Dims: o.rank - 1, Of: tensor.Int}, a, m)
}

func (o *xentGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0])
}

func (o *xentGradOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(xentGradLabel, &err)
	return o.UsePreallocDo(o.out.like(in[0]), in...)
}

// UsePreallocDo writes the gradient into prealloc.
func (o *xentGradOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard(xentGradLabel, &err)
	if len(in) != 3 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 3", ErrBuild, xentGradLabel, len(in))
	}
	_, labels, k, err := xentInputs(xentGradLabel, in)
	if err != nil {
		return nil, err
	}
	g, err := gradScalar(xentGradLabel, in[2])
	if err != nil {
		return nil, err
	}
	if z, dz := data[float32](in[0]), data[float32](prealloc); z != nil && dz != nil && len(dz) == len(z) {
		err = xentGrad(dz, z, labels, k, g, o.opt, in[1])
	} else if z, dz := data[float64](in[0]), data[float64](prealloc); z != nil && dz != nil && len(dz) == len(z) {
		err = xentGrad(dz, z, labels, k, g, o.opt, in[1])
	} else {
		return nil, fmt.Errorf("%w: %s: the logits are %s %v and the output %s %v, want plain row-major float32 or float64 tensors of one shape", ErrDtype, xentGradLabel, notPlain(in[0]), in[0].Shape(), notPlain(prealloc), prealloc.Shape())
	}
	if err != nil {
		return nil, err
	}
	return prealloc, nil
}

// xentGrad writes g·(softmax(z) − target)/m into dz, row by row, and zero
// rows where the label is ignored. The target is onehot(y) without
// smoothing: then off is 0 and on is 1, so p − off is p and p − on is p − 1,
// exactly the p-- this kernel had before smoothing existed.
func xentGrad[T float](dz, z []T, labels []int, k int, g float64, opt XentOptions, lv gorgonia.Value) error {
	n := len(labels)
	if opt.Ignore {
		n = 0
		for _, y := range labels {
			if !opt.ignored(y) {
				n++
			}
		}
	}
	eps := opt.LabelSmoothing
	off := eps / float64(k) // the target's mass at every class
	on := 1 - eps           // and its extra mass at the label
	scale := g / float64(n)
	for i, y := range labels {
		row, out := z[i*k:(i+1)*k], dz[i*k:(i+1)*k]
		if opt.ignored(y) {
			clear(out)
			continue
		}
		if y < 0 || y >= k {
			return labelError(xentGradLabel, y, i, k, lv)
		}
		lse := logSumExp(row)
		for j, v := range row {
			p := math.Exp(float64(v)-lse) - off
			if j == y {
				p -= on
			}
			out[j] = T(scale * p)
		}
	}
	return nil
}
