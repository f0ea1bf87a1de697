package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// TargetKind is what a loss compares the model's output with; it fixes the
// target's dtype and shape and the model's natural output.
type TargetKind int

const (
	// Classes: integer class labels. The output holds logits over its last
	// dimension V, (batch, …, V); the target is (batch, …), ints in [0, V);
	// the natural output is the softmax over the last dimension.
	Classes TargetKind = iota + 1
	// Binary: float targets in [0, 1] of the output's shape, whose elements
	// are independent logits (multi-label); the natural output is the
	// sigmoid of each.
	Binary
	// Values: float targets of the output's shape (regression); the
	// natural output is the output itself, in the target's units.
	Values
)

// String returns "classes", "binary" or "values".
func (k TargetKind) String() string {
	switch k {
	case Classes:
		return "classes"
	case Binary:
		return "binary"
	case Values:
		return "values"
	}
	return fmt.Sprintf("TargetKind(%d)", int(k))
}

// Target returns the dtype and shape of the target that goes with an output
// of the given dtype and shape (batch first).
func (k TargetKind) Target(dt tensor.Dtype, out tensor.Shape) (tensor.Dtype, tensor.Shape, error) {
	switch k {
	case Classes:
		if len(out) < 2 {
			return dt, nil, fmt.Errorf("%w: class logits %v, want (batch, …, classes)", ErrModel, out)
		}
		return tensor.Int, out[:len(out)-1].Clone(), nil
	case Binary, Values:
		return dt, out.Clone(), nil
	}
	return dt, nil, fmt.Errorf("%w: target kind %v", ErrModel, k)
}

// Loss is a training objective: a float scalar computed from the model's
// output and the target input LabelName. The trainer reads its Kind to
// check the data and to choose the metrics that fit.
type Loss interface {
	Name() string     // e.g. "cross_entropy", "mse"
	Kind() TargetKind // the target it takes
	// Build adds the loss of out against target (whose dtype and shape
	// Kind().Target gives) to the graph.
	Build(out, target *gorgonia.Node) (*gorgonia.Node, error)
}

// loss is a Loss made of its name, kind and op.
type loss struct {
	name  string
	kind  TargetKind
	build func(out, target *gorgonia.Node) (*gorgonia.Node, error)
}

func (l loss) Name() string     { return l.name }
func (l loss) Kind() TargetKind { return l.kind }
func (l loss) Build(out, target *gorgonia.Node) (*gorgonia.Node, error) {
	return l.build(out, target)
}

// CrossEntropy is the mean softmax cross-entropy of logits (batch, …, V)
// against class labels (batch, …) (ops.SoftmaxCrossEntropy).
func CrossEntropy() Loss { return loss{"cross_entropy", Classes, ops.SoftmaxCrossEntropy} }

// CrossEntropyWith is CrossEntropy with label smoothing or ignored
// (padding) labels (ops.SoftmaxCrossEntropyWith).
func CrossEntropyWith(opt ops.XentOptions) Loss {
	return loss{"cross_entropy", Classes, func(out, t *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.SoftmaxCrossEntropyWith(out, t, opt)
	}}
}

// BCEWithLogits is the mean binary cross-entropy of independent logits
// against float targets in [0, 1] of their shape (multi-label;
// ops.BinaryCrossEntropyWithLogits).
func BCEWithLogits() Loss {
	return loss{"bce_with_logits", Binary, ops.BinaryCrossEntropyWithLogits}
}

// MSE is the mean squared error (ops.MSE).
func MSE() Loss { return loss{"mse", Values, ops.MSE} }

// L1 is the mean absolute error (ops.L1).
func L1() Loss { return loss{"l1", Values, ops.L1} }

// Huber is the mean Huber loss with threshold delta (ops.Huber).
func Huber(delta float64) Loss {
	return loss{fmt.Sprintf("huber(%g)", delta), Values, func(out, t *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.Huber(out, t, delta)
	}}
}

// NewSupervised returns the model of layers s trained with loss: the input
// InputName (batch, shape…) of dtype dt (float32 or float64, or tensor.Int
// for token ids) goes through s, whose output is Output(0); the target
// input LabelName has the dtype and shape loss.Kind().Target gives for that
// output, and the loss is loss.Build(output, target). seed fixes the
// initial parameters and dropout masks.
func NewSupervised(seed uint64, dt tensor.Dtype, shape []int, s *Sequential, l Loss) (*Model, error) {
	if s == nil || s.Len() == 0 {
		return nil, fmt.Errorf("%w: a model needs at least one layer", ErrModel)
	}
	if l == nil {
		return nil, fmt.Errorf("%w: no loss", ErrModel)
	}
	if dt != tensor.Float32 && dt != tensor.Float64 && dt != tensor.Int {
		return nil, fmt.Errorf("%w: input dtype %v, want float32, float64 or int (token ids)", ErrModel, dt)
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("%w: the input shape of one example is empty", ErrModel)
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("%w: input shape %v has a dimension ≤ 0", ErrModel, shape)
		}
	}
	shape = append([]int(nil), shape...)
	m, err := NewModel(seed, func(b *graph.Builder, batch int) (*gorgonia.Node, []*gorgonia.Node, error) {
		x, err := b.Input(InputName, dt, append([]int{batch}, shape...)...)
		if err != nil {
			return nil, nil, err
		}
		out, err := s.Apply(b, "", x)
		if err != nil {
			return nil, nil, err
		}
		tdt, ts, err := l.Kind().Target(out.Dtype(), out.Shape())
		if err != nil {
			return nil, nil, b.Fail(fmt.Errorf("%w (the last layer's output for loss %s)", err, l.Name()))
		}
		y, err := b.Input(LabelName, tdt, ts...)
		if err != nil {
			return nil, nil, err
		}
		loss, err := l.Build(out, y)
		if err != nil {
			return nil, nil, b.Fail(fmt.Errorf("loss %s: %w", l.Name(), err))
		}
		return loss, []*gorgonia.Node{out}, nil
	})
	if err != nil {
		return nil, err
	}
	m.seq, m.loss = s, l
	return m, nil
}

// NewClassifier returns the model of a classifier: NewSupervised with
// CrossEntropy, so s's output are the logits (batch, classes) (or
// (batch, …, classes), one prediction per position) and the labels are
// (batch) (or (batch, …)) ints.
func NewClassifier(seed uint64, dt tensor.Dtype, shape []int, s *Sequential) (*Model, error) {
	return NewSupervised(seed, dt, shape, s, CrossEntropy())
}

// NewRegressor returns the model of a regressor: NewSupervised with MSE,
// so s's output are the predicted values (batch, …) and the targets float
// values of the same shape.
func NewRegressor(seed uint64, dt tensor.Dtype, shape []int, s *Sequential) (*Model, error) {
	return NewSupervised(seed, dt, shape, s, MSE())
}

// activate turns raw outputs into the natural output of kind, in place:
// softmax over the last dimension for Classes, the sigmoid for Binary.
func activate(k TargetKind, y *tensor.Dense) error {
	switch k {
	case Classes:
		s := y.Shape()
		if s.Dims() < 2 {
			return fmt.Errorf("%w: class logits %v, want (n, …, classes)", ErrModel, s)
		}
		switch d := y.Data().(type) {
		case []float32:
			softmaxRows(d, s[s.Dims()-1])
		case []float64:
			softmaxRows(d, s[s.Dims()-1])
		}
	case Binary:
		switch d := y.Data().(type) {
		case []float32:
			sigmoidAll(d)
		case []float64:
			sigmoidAll(d)
		}
	}
	return nil
}

func softmaxRows[T float32 | float64](z []T, k int) {
	for lo := 0; lo+k <= len(z); lo += k {
		row := z[lo : lo+k]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		for j, v := range row {
			row[j] = T(math.Exp(float64(v)-m) / sum)
		}
	}
}

func sigmoidAll[T float32 | float64](z []T) {
	for i, v := range z {
		z[i] = T(1 / (1 + math.Exp(-float64(v))))
	}
}
