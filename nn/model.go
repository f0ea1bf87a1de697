package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// Input names of the models this package builds and the trainer feeds: the
// examples, batch first, and the integer class labels.
const (
	InputName = "x"
	LabelName = "y"
)

// DefaultPredictBatch is the largest batch Predict runs at once.
const DefaultPredictBatch = 256

// BuildFunc builds the graph of one batch size on b: it declares the inputs,
// with the batch as their first dimension (InputName for the examples and
// LabelName for the labels if the model is to be trained by package train),
// and returns the loss (a float scalar, or nil for a model that only
// predicts) and the outputs; Output(0) is what Predict returns. It must build
// the same parameters and states, by name and shape, for every batch size.
type BuildFunc func(b *graph.Builder, batch int) (loss *gorgonia.Node, outputs []*gorgonia.Node, err error)

// Model is a model of any architecture that owns its compiled programs: one
// per batch size, compiled on demand, all sharing the parameters and states
// by name (Gorgonia fixes the batch size of a program). It owns the mode
// (Train or Eval) of every program, and Predict runs any number of examples.
// A Model is not safe for concurrent use.
type Model struct {
	seed  uint64
	build BuildFunc
	seq   *Sequential // the layers, when the model was made from a Sequential
	loss  Loss        // the loss build makes, when known (NewSupervised, SetLoss)
	mode  graph.Mode
	first *graph.Program
	progs map[int]*graph.Program // training and evaluation programs
	preds map[int]*graph.Program // forward-only programs without a loss, for Predict
	in    map[int]*tensor.Dense  // Predict's input buffer per batch size

	// PredictBatch bounds the batch of one Predict run; 0 means DefaultPredictBatch.
	PredictBatch int
}

// NewModel returns a model whose graphs build makes; seed fixes every
// initial parameter value and every dropout stream.
func NewModel(seed uint64, build BuildFunc) (*Model, error) {
	if build == nil {
		return nil, fmt.Errorf("%w: nil build function", ErrModel)
	}
	return &Model{seed: seed, build: build, progs: map[int]*graph.Program{}, preds: map[int]*graph.Program{}, in: map[int]*tensor.Dense{}}, nil
}

// ParseDtype returns the dtype named "float32" (or "", the default) or
// "float64", the names model configurations use.
func ParseDtype(name string) (tensor.Dtype, error) {
	switch name {
	case "float32", "":
		return tensor.Float32, nil
	case "float64":
		return tensor.Float64, nil
	}
	return tensor.Dtype{}, fmt.Errorf("%w: dtype %q, want float32 or float64", ErrModel, name)
}

// Loss returns the loss the model trains with, or nil when its BuildFunc
// did not declare one (SetLoss).
func (m *Model) Loss() Loss { return m.loss }

// SetLoss records the loss m's BuildFunc builds (a model made by NewModel
// does not know it), so that a trainer can check targets and pick metrics,
// and Infer can return the natural output. It does not change the graph.
func (m *Model) SetLoss(l Loss) { m.loss = l }

// Seed returns the model's seed.
func (m *Model) Seed() uint64 { return m.seed }

// Program returns the program for batches of the given size, compiling it
// the first time. It is in the model's current mode.
func (m *Model) Program(batch int) (*graph.Program, error) {
	if p, ok := m.progs[batch]; ok {
		return p, nil
	}
	p, err := m.compile(batch, true)
	if err != nil {
		return nil, err
	}
	p.SetMode(m.mode) // a program made during evaluation evaluates
	m.progs[batch] = p
	return p, nil
}

func (m *Model) compile(batch int, withLoss bool) (*graph.Program, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("%w: batch size %d, want > 0", ErrInput, batch)
	}
	b := graph.NewBuilder(m.seed)
	b.Share(m.first)
	loss, outs, err := m.build(b, batch)
	if err == nil {
		err = b.Err()
	}
	if err != nil {
		return nil, err
	}
	if !withLoss {
		loss = nil
	}
	p, err := b.Compile(loss, outs...)
	if err != nil {
		return nil, err
	}
	if m.first == nil {
		m.first = p
	}
	return p, nil
}

// Params returns the learnable parameters in creation order, once a program
// exists (nil before).
func (m *Model) Params() []*gorgonia.Node {
	if m.first == nil {
		return nil
	}
	return m.first.Params()
}

// States returns the non-learnable state tensors (batch-norm running
// statistics, dropout counters), once a program exists.
func (m *Model) States() []graph.State {
	if m.first == nil {
		return nil
	}
	return m.first.States()
}

// SetMode sets the mode of every program of the model, and of the programs
// compiled later.
func (m *Model) SetMode(mode graph.Mode) {
	m.mode = mode
	for _, p := range m.progs {
		p.SetMode(mode)
	}
}

// Mode returns the model's mode.
func (m *Model) Mode() graph.Mode { return m.mode }

// Predict runs the examples x (a tensor of the dtype of the model's input
// InputName whose first dimension is the number of examples n, any n ≥ 1,
// and whose other elements are n examples, row-major) forward in Eval mode
// and returns Output(0) for all of them, (n, …): the raw output (logits for
// a classifier; Infer gives probabilities).
//
// It runs x in chunks of at most PredictBatch examples, each on a program
// compiled for the smallest power of two that holds it (or PredictBatch
// itself), padding the chunk with zero examples: whatever sizes the
// requests have, the model keeps at most log2(PredictBatch)+2 forward
// programs. Padding assumes what holds for every layer of this package in
// Eval mode: an example's output does not depend on the other examples of
// its batch. The model's mode, gradients and running statistics are left as
// they are.
func (m *Model) Predict(x tensor.Tensor) (*tensor.Dense, error) {
	if x == nil || x.Shape().Dims() == 0 || x.Shape()[0] < 1 {
		return nil, fmt.Errorf("%w: Predict needs a tensor of at least one example, got %v", ErrInput, shapeOf(x))
	}
	src, ok := x.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%w: Predict takes a *tensor.Dense, got %T", ErrInput, x)
	}
	n := src.Shape()[0]
	chunk := m.PredictBatch
	if chunk <= 0 {
		chunk = DefaultPredictBatch
	}
	var out *tensor.Dense
	for lo := 0; lo < n; lo += chunk {
		c := min(chunk, n-lo)
		size := chunk
		for p := 1; p < chunk; p *= 2 {
			if p >= c {
				size = p
				break
			}
		}
		p, buf, err := m.predictor(size)
		if err != nil {
			return nil, err
		}
		per := buf.Len() / size
		if src.Dtype() != buf.Dtype() || src.Len() != n*per {
			return nil, fmt.Errorf("%w: Predict: %v %v is not %d examples of input %q (%v %v per example)",
				ErrInput, src.Dtype(), src.Shape(), n, InputName, buf.Dtype(), buf.Shape()[1:])
		}
		if err := copyRows(buf, 0, src, lo*per, c*per); err != nil {
			return nil, err
		}
		if err := zeroFrom(buf, c*per); err != nil {
			return nil, err
		}
		if err := p.Forward(graph.Feeds{InputName: buf}); err != nil {
			return nil, err
		}
		y, ok := p.Output(0).(*tensor.Dense)
		if !ok || y.Shape().Dims() == 0 || y.Shape()[0] != size {
			return nil, fmt.Errorf("%w: Predict: output 0 is %v, want its first dimension to be the batch (%d)", ErrModel, shapeOf(p.Output(0)), size)
		}
		if out == nil {
			shape := slices.Clone([]int(y.Shape()))
			shape[0] = n
			out = tensor.New(tensor.Of(y.Dtype()), tensor.WithShape(shape...))
		}
		rowLen := y.Len() / size
		if err := copyRows(out, lo*rowLen, y, 0, c*rowLen); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Infer is Predict followed by the natural output of the model's loss
// (Loss().Kind()): class probabilities (the softmax over the last
// dimension) for a classifier, the probability of each label for a
// multi-label model, the values themselves for a regressor. A model whose
// loss is unknown returns its raw output.
func (m *Model) Infer(x tensor.Tensor) (*tensor.Dense, error) {
	y, err := m.Predict(x)
	if err != nil || m.loss == nil {
		return y, err
	}
	return y, activate(m.loss.Kind(), y)
}

// Predictors returns the number of forward programs Predict has compiled.
func (m *Model) Predictors() int { return len(m.preds) }

// predictor returns the forward-only program of batch c and its input buffer.
func (m *Model) predictor(c int) (*graph.Program, *tensor.Dense, error) {
	if p, ok := m.preds[c]; ok {
		return p, m.in[c], nil
	}
	p, err := m.compile(c, false)
	if err != nil {
		return nil, nil, err
	}
	n, ok := p.Input(InputName)
	if !ok {
		p.Close()
		return nil, nil, fmt.Errorf("%w: Predict: the model's outputs do not read an input named %q", ErrModel, InputName)
	}
	p.SetMode(graph.Eval)
	buf := tensor.New(tensor.Of(n.Dtype()), tensor.WithShape(n.Shape()...))
	m.preds[c], m.in[c] = p, buf
	return p, buf, nil
}

// copyRows copies n elements of src from offset from into dst at offset
// at, both tensors of the same dtype (float32, float64 or int).
func copyRows(dst *tensor.Dense, at int, src *tensor.Dense, from, n int) error {
	switch d := dst.Data().(type) {
	case []float32:
		if s, ok := src.Data().([]float32); ok {
			copy(d[at:at+n], s[from:from+n])
			return nil
		}
	case []float64:
		if s, ok := src.Data().([]float64); ok {
			copy(d[at:at+n], s[from:from+n])
			return nil
		}
	case []int:
		if s, ok := src.Data().([]int); ok {
			copy(d[at:at+n], s[from:from+n])
			return nil
		}
	}
	return fmt.Errorf("%w: copy of %v into %v", ErrInput, src.Dtype(), dst.Dtype())
}

// zeroFrom clears the elements of t from offset at on.
func zeroFrom(t *tensor.Dense, at int) error {
	switch d := t.Data().(type) {
	case []float32:
		clear(d[at:])
	case []float64:
		clear(d[at:])
	case []int:
		clear(d[at:])
	default:
		return fmt.Errorf("%w: input buffer holds %T", ErrInput, d)
	}
	return nil
}

func shapeOf(v interface{ Shape() tensor.Shape }) any {
	if v == nil {
		return "nil"
	}
	return v.Shape()
}

// Summary returns the model's table: for a model made from a Sequential,
// its layers (name, kind, output shape, parameters); otherwise its
// parameters and states (name, shape, count); and the totals. It builds the
// graph of one example on a scratch builder (nothing is compiled or run).
func (m *Model) Summary() (string, error) {
	b := graph.NewBuilder(m.seed)
	if _, _, err := m.build(b, 1); err != nil {
		return "", err
	}
	if err := b.Err(); err != nil {
		return "", err
	}
	t := &table{}
	if m.seq != nil && m.seq.infos != nil {
		t.row("layer", "kind", "output shape", "params")
		for _, l := range m.seq.infos {
			t.row(l.Name, l.Kind, shapeString(l.Shape), Thousands(l.Params))
		}
	} else {
		t.row("parameter", "", "shape", "values")
		for _, p := range b.Params() {
			t.row(p.Name(), "", fmt.Sprint(p.Shape()), Thousands(p.Shape().TotalSize()))
		}
	}
	total := 0
	for _, p := range b.Params() {
		total += p.Shape().TotalSize()
	}
	states := 0
	for _, s := range b.States() {
		states += s.Value.Len()
	}
	return t.String() + fmt.Sprintf("total: %s learnable parameters in %d tensors; %s state values\n",
		Thousands(total), len(b.Params()), Thousands(states)), nil
}

// ParamCount returns the number of learnable scalars (0 before a program exists).
func (m *Model) ParamCount() int {
	n := 0
	for _, p := range m.Params() {
		n += p.Shape().TotalSize()
	}
	return n
}

// Close releases every program.
func (m *Model) Close() error {
	for _, p := range m.progs {
		p.Close()
	}
	for _, p := range m.preds {
		p.Close()
	}
	return nil
}

// Argmax writes the index of the largest entry of each row of logits (a
// (batch, classes) float tensor, such as Output(0) of a classifier) into dst,
// which must have one entry per row. A row of NaNs gives 0.
func Argmax(logits gorgonia.Value, dst []int) error {
	if logits == nil {
		return fmt.Errorf("%w: Argmax of nil logits", ErrInput)
	}
	s := logits.Shape()
	if len(s) != 2 || s[0] != len(dst) {
		return fmt.Errorf("%w: Argmax: logits %v for %d rows, want (%d, classes)", ErrInput, s, len(dst), len(dst))
	}
	switch z := logits.Data().(type) {
	case []float32:
		argmaxRows(z, s[1], dst)
	case []float64:
		argmaxRows(z, s[1], dst)
	default:
		return fmt.Errorf("%w: Argmax: logits hold %T, want float32 or float64", ErrInput, z)
	}
	return nil
}

func argmaxRows[T float32 | float64](z []T, k int, dst []int) {
	for i := range dst {
		dst[i] = ArgmaxRow(z[i*k : (i+1)*k])
	}
}

// ArgmaxRow returns the index of the first largest entry of row (the
// predicted class of a row of logits or probabilities), or 0 when no entry
// exceeds −Inf (a row of NaNs). Argmax, the accuracy metrics and the
// command's predictions all use it.
func ArgmaxRow[T float32 | float64](row []T) int {
	best, bv := 0, T(math.Inf(-1))
	for j, v := range row {
		if v > bv {
			best, bv = j, v
		}
	}
	return best
}
