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
	k, ys := ls[len(ls)-1], ys.Clone()
	a := hm.TypeVariable('a')
	z, y := gorgonia.TensorType{Dims: len(ls), Of: a}, gorgonia.TensorType{Dims: len(ls) - 1, Of: tensor.Int}
	return applyDef(&def{
		name: xentLabel + xentParams(opt), label: op, typ: hm.NewFnType(z, y, a), shape: tensor.ScalarShape(),
		ints:   []bool{false, true},
		runI32: func(l []float32, in [][]float32, ints [][]int) error { return xentLoss(l, in[0], ints[0], k, opt, ys) },
		runI64: func(l []float64, in [][]float64, ints [][]int) error { return xentLoss(l, in[0], ints[0], k, opt, ys) },
		diff:   []bool{true, false},
		grad: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			// dL/dz = g·(softmax(z) − target)/m from (z, labels, g).
			dz, err := applyDef(&def{
				name: xentGradLabel + xentParams(opt), typ: hm.NewFnType(z, y, a, z),
				ints: []bool{false, true, false},
				runI32: func(dz []float32, in [][]float32, ints [][]int) error {
					return xentGrad(dz, in[0], ints[0], k, in[2], opt, ys)
				},
				runI64: func(dz []float64, in [][]float64, ints [][]int) error {
					return xentGrad(dz, in[0], ints[0], k, in[2], opt, ys)
				},
			}, in[0], in[1], g)
			return gorgonia.Nodes{dz, nil}, err
		},
	}, logits, labels)
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

// ignored reports whether opt skips label y.
func (opt XentOptions) ignored(y int) bool { return opt.Ignore && y == opt.IgnoreIndex }

// labelError reports label y at flat position i (row i of the logits' (n, k)
// view) of the labels, of the given shape.
func labelError(op string, y, i, k int, shape tensor.Shape) error {
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

// xentLoss writes into loss[0] the mean cross-entropy over the rows not
// ignored, accumulated in float64. Without smoothing a row adds
// logsumexp(z) − z[y] and nothing else (no 0·x term, which would turn an
// infinite logit into NaN). ys is the labels' shape, for errors.
func xentLoss[T float](loss, z []T, labels []int, k int, opt XentOptions, ys tensor.Shape) error {
	if len(labels)*k != len(z) {
		return xentSizeError(xentLabel, len(z), len(labels), k)
	}
	eps := opt.LabelSmoothing
	var sum float64
	n := 0
	for i, y := range labels {
		if opt.ignored(y) {
			continue
		}
		if y < 0 || y >= k {
			return labelError(xentLabel, y, i, k, ys)
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
	loss[0] = 0
	if n != 0 {
		loss[0] = T(sum / float64(n))
	}
	return nil
}

// xentSizeError reports logits and labels that do not fit.
func xentSizeError(op string, logits, labels, k int) error {
	return fmt.Errorf("%w: %s: %d logits and %d labels: want one label per row of %d logits", ErrShape, op, logits, labels, k)
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

// xentGradLabel names the gradient op in run-time errors.
const xentGradLabel = "SoftmaxCrossEntropyGrad"

// xentGrad writes g·(softmax(z) − target)/m (g = gs[0]) into dz, row by row, and zero
// rows where the label is ignored. The target is onehot(y) without
// smoothing: then off is 0 and on is 1, so p − off is p and p − on is p − 1,
// exactly the p-- this kernel had before smoothing existed.
func xentGrad[T float](dz, z []T, labels []int, k int, gs []T, opt XentOptions, ys tensor.Shape) error {
	if len(labels)*k != len(z) || len(dz) != len(z) {
		return xentSizeError(xentGradLabel, len(z), len(labels), k)
	}
	g := float64(gs[0])
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
			return labelError(xentGradLabel, y, i, k, ys)
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
