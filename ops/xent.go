package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy returns the mean over the batch of
// −log softmax(logits)[label], for logits of shape (batch, classes) and
// labels an Int node of shape (batch) holding class indices in
// [0, classes). It is computed as logsumexp(z) − z[label] with the row
// maximum subtracted first, so logits of ±1000 give finite losses and
// gradients. The gradient with respect to the logits is
// (softmax(z) − onehot(label)) / batch; labels get none. A label out of
// range is an error at run time (wrapping ErrLabel).
func SoftmaxCrossEntropy(logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "SoftmaxCrossEntropy"
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
	if len(ls) != 2 || len(ys) != 1 || ls[0] != ys[0] {
		return nil, fmt.Errorf("%w: %s: logits %v and labels %v: want (batch, classes) and (batch)", ErrShape, op, ls, ys)
	}
	return apply(op, func() (*gorgonia.Node, error) {
		return gorgonia.ApplyOp(xentOp{newBase("SoftmaxCrossEntropy()")}, logits, labels)
	})
}

type xentOp struct{ opBase }

func (xentOp) Arity() int { return 2 }

func (xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: tensor.Int}, a)
}

func (xentOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (xentOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("SoftmaxCrossEntropy", &err)
	z, err := denseOf("SoftmaxCrossEntropy", in[0])
	if err != nil {
		return nil, err
	}
	labels, ok := labelsOf(in[1])
	if !ok {
		return nil, fmt.Errorf("%w: SoftmaxCrossEntropy: labels are %v, want int", ErrDtype, in[1].Dtype())
	}
	k := z.Shape()[1]
	var loss float64
	if z32 := data[float32](z); z32 != nil {
		loss, err = xentLoss(z32, labels, k)
	} else if z64 := data[float64](z); z64 != nil {
		loss, err = xentLoss(z64, labels, k)
	} else {
		return nil, fmt.Errorf("%w: SoftmaxCrossEntropy: the logits are %s, want a plain row-major float32 or float64 tensor", ErrDtype, notPlain(z))
	}
	if err != nil {
		return nil, err
	}
	return scalarValue(z.Dtype(), loss), nil
}

// xentLoss returns the mean cross-entropy, accumulated in float64.
func xentLoss[T float](z []T, labels []int, k int) (float64, error) {
	var sum float64
	for i, y := range labels {
		if y < 0 || y >= k {
			return 0, fmt.Errorf("%w: SoftmaxCrossEntropy: label %d at row %d is outside [0, %d)", ErrLabel, y, i, k)
		}
		row := z[i*k : (i+1)*k]
		sum += logSumExp(row) - float64(row[y])
	}
	return sum / float64(len(labels)), nil
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

func (xentOp) DiffWRT(int) []bool { return []bool{true, false} }

func (xentOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dz, err := gorgonia.ApplyOp(xentGradOp{newBase("SoftmaxCrossEntropyGrad()")}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dz, nil}, nil
}

// xentGradOp computes dL/dz = g · (softmax(z) − onehot(y)) / batch.
type xentGradOp struct{ opBase }

func (xentGradOp) Arity() int { return 3 }

func (xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, gorgonia.TensorType{Dims: 1, Of: tensor.Int}, a, m)
}

func (xentGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }

func (o xentGradOp) Do(in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("SoftmaxCrossEntropyGrad", &err)
	return o.UsePreallocDo(o.out.like(in[0]), in...)
}

// UsePreallocDo writes the gradient into prealloc.
func (xentGradOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (_ gorgonia.Value, err error) {
	defer guard("SoftmaxCrossEntropyGrad", &err)
	const op = "SoftmaxCrossEntropyGrad"
	labels, ok := labelsOf(in[1])
	if !ok {
		return nil, fmt.Errorf("%w: %s: labels are %v, want int", ErrDtype, op, in[1].Dtype())
	}
	g, err := scalarOf(op, in[2])
	if err != nil {
		return nil, err
	}
	k := in[0].Shape()[1]
	if z, dz := data[float32](in[0]), data[float32](prealloc); z != nil && dz != nil {
		err = xentGrad(dz, z, labels, k, g)
	} else if z, dz := data[float64](in[0]), data[float64](prealloc); z != nil && dz != nil {
		err = xentGrad(dz, z, labels, k, g)
	} else {
		return nil, fmt.Errorf("%w: %s: the logits are %s and the output %s, want plain row-major float32 or float64 tensors", ErrDtype, op, notPlain(in[0]), notPlain(prealloc))
	}
	if err != nil {
		return nil, err
	}
	return prealloc, nil
}

func xentGrad[T float](dz, z []T, labels []int, k int, g float64) error {
	scale := g / float64(len(labels))
	for i, y := range labels {
		if y < 0 || y >= k {
			return fmt.Errorf("%w: SoftmaxCrossEntropyGrad: label %d at row %d is outside [0, %d)", ErrLabel, y, i, k)
		}
		row, out := z[i*k:(i+1)*k], dz[i*k:(i+1)*k]
		lse := logSumExp(row)
		for j, v := range row {
			p := math.Exp(float64(v) - lse)
			if j == y {
				p--
			}
			out[j] = T(scale * p)
		}
	}
	return nil
}
