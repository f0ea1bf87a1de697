package train

import (
	"fmt"
	"math"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/nn"
)

// Evaluation is a model's result on a data set.
type Evaluation struct {
	N      int
	Scores Scores // the mean loss first, then the metrics
	// Confusion is [true class][predicted class] for a model with one
	// class label per example (nil otherwise).
	Confusion [][]int
}

// Evaluate runs d through m in Eval mode, in batches of the given size (the
// last one partial), and returns the mean loss, the metrics (nil means the
// defaults of m's loss, as Train's) and, for a classifier, the confusion
// matrix. m is left in Train mode.
func Evaluate(m Model, d datasets.Dataset, batch int, ms ...metrics.Metric) (*Evaluation, error) {
	if m == nil || d == nil {
		return nil, fmt.Errorf("%w: Evaluate needs a model and a data set", ErrData)
	}
	if batch <= 0 {
		return nil, fmt.Errorf("%w: batch = %d, want > 0", ErrConfig, batch)
	}
	var kind nn.TargetKind
	if l := lossOf(m); l != nil {
		kind = l.Kind()
	}
	if ms == nil {
		ms = metrics.For(kind)
	}
	ms = append([]metrics.Metric{metrics.Loss()}, ms...)
	for _, mt := range ms {
		if err := mt.Fits(kind); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if d.Len() > 0 {
		p, err := m.Program(min(batch, d.Len()))
		if err != nil {
			return nil, err
		}
		if err := checkData(p, min(batch, d.Len()), namedSet{"evaluation", d}); err != nil {
			return nil, err
		}
	}
	return evaluate(m, newFeeder(), d, 0, d.Len(), batch, ms)
}

// namedSet is a data set and the name its errors give it.
type namedSet struct {
	name string
	d    datasets.Dataset
}

// checkData checks, before any work, that each set (nil ones skipped) fits
// the program's inputs (fits) and that its float targets are finite
// (checkTargets, read in batches of the given size).
func checkData(p *graph.Program, batch int, sets ...namedSet) error {
	for _, s := range sets {
		if s.d == nil {
			continue
		}
		if err := fits(p, s.name, s.d); err != nil {
			return err
		}
		if err := checkTargets(s.name, s.d, batch); err != nil {
			return err
		}
	}
	return nil
}

// evaluate runs the examples [from, to) of d through m in Eval mode, in
// batches of the given size, into the metrics ms (reset first).
func evaluate(m Model, f *feeder, d datasets.Dataset, from, to, batch int, ms []metrics.Metric) (*Evaluation, error) {
	m.SetMode(graph.Eval)
	defer m.SetMode(graph.Train)
	for _, mt := range ms {
		mt.Reset()
	}
	ev := &Evaluation{N: d.Len()}
	idx := make([]int, batch)
	for lo := from; lo < to; lo += batch {
		n := min(batch, to-lo)
		for i := range n {
			idx[i] = lo + i
		}
		prog, err := m.Program(n)
		if err != nil {
			return nil, err
		}
		b, err := f.fill(prog, d, idx[:n])
		if err != nil {
			return nil, err
		}
		if err := prog.Run(b.feeds); err != nil {
			return nil, fmt.Errorf("train: evaluate: %w", err)
		}
		if err := updateMetrics(ms, prog, b, prog.Loss(), n); err != nil {
			return nil, err
		}
		if err := ev.confuse(prog, b); err != nil {
			return nil, err
		}
	}
	ev.Scores = make(Scores, len(ms))
	for i, mt := range ms {
		ev.Scores[i] = Score{mt.Name(), mt.Value()}
	}
	return ev, nil
}

// confuse adds the batch to the confusion matrix when the model predicts
// one class per example: logits (n, k), labels (n).
func (ev *Evaluation) confuse(p *graph.Program, b *batchBuf) error {
	out := p.OutputShape(0)
	if b.y.Dtype() != tensor.Int || len(out) != 2 || b.y.Shape().Dims() != 1 {
		return nil
	}
	k := out[1]
	if ev.Confusion == nil {
		ev.Confusion = make([][]int, k)
		for i := range ev.Confusion {
			ev.Confusion[i] = make([]int, k)
		}
	}
	if err := nn.Argmax(p.Output(0), b.pred); err != nil {
		return err
	}
	for i, y := range b.y.Ints() {
		if p := b.pred[i]; y >= 0 && y < k && p < k {
			ev.Confusion[y][p]++
		}
	}
	return nil
}

// updateMetrics feeds the batch just run on p to every metric.
func updateMetrics(ms []metrics.Metric, p *graph.Program, b *batchBuf, loss float64, n int) error {
	out, ok := p.Output(0).(*tensor.Dense)
	if !ok {
		return fmt.Errorf("%w: the model's output 0 is a %T, want a tensor", ErrData, p.Output(0))
	}
	mb := metrics.Batch{Output: out, Target: b.y, Loss: loss, N: n}
	for _, m := range ms {
		if err := m.Update(mb); err != nil {
			return fmt.Errorf("train: metric %s: %w", m.Name(), err)
		}
	}
	return nil
}

// fits reports whether the program's inputs can take the examples of d: an
// input nn.InputName of d's input kind (float or int) with as many values
// per example (the program may see an image as a vector), and a target
// nn.LabelName of d's target kind with as many values per example; class
// labels must fit the output's last dimension.
func fits(p *graph.Program, name string, d datasets.Dataset) error {
	x, ok := p.Input(nn.InputName)
	if !ok || x.Shape().Dims() < 1 {
		return fmt.Errorf("%w: the model has no input %q (batch, …)", ErrData, nn.InputName)
	}
	y, ok := p.Input(nn.LabelName)
	if !ok || y.Shape().Dims() < 1 {
		return fmt.Errorf("%w: the model has no target input %q (batch, …)", ErrData, nn.LabelName)
	}
	for _, side := range []struct {
		what, input string
		f           datasets.Field
		want        tensor.Dtype
		shape       tensor.Shape
	}{{"examples", nn.InputName, d.Input(), x.Dtype(), x.Shape()}, {"targets", nn.LabelName, d.Target(), y.Dtype(), y.Shape()}} {
		kind := func(dt tensor.Dtype) string {
			if dt == tensor.Int {
				return "int"
			}
			return "float"
		}
		if kind(side.want) != kind(side.f.Dtype) {
			return fmt.Errorf("%w: %s %s are %s, the model's input %q takes %v %v",
				ErrData, name, side.what, side.f, side.input, side.want, side.shape[1:])
		}
		want, got := side.shape[1:].TotalSize(), side.f.Size()
		if side.shape.Dims() == 1 {
			want = 1
		}
		if want != got {
			return fmt.Errorf("%w: %s %s are %v (%d values), the model's input %q takes %v (%d values) per example",
				ErrData, name, side.what, tensor.Shape(side.f.Shape), got, side.input, side.shape[1:], want)
		}
	}
	if y.Dtype() == tensor.Int {
		out := p.OutputShape(0)
		if len(out) < 2 || out[len(out)-1] < d.Target().Classes {
			return fmt.Errorf("%w: %s data has %d classes, the model's output 0 is %v, want (batch, …, ≥ %d) logits",
				ErrData, name, d.Target().Classes, out, d.Target().Classes)
		}
	}
	return nil
}

// feeder fills the feeds of a program's batch from a dataset, reusing one
// buffer per program (that is, per batch size).
type feeder struct{ bufs map[*graph.Program]*batchBuf }

type batchBuf struct {
	x, y  *tensor.Dense
	pred  []int
	feeds graph.Feeds
}

func newFeeder() *feeder { return &feeder{bufs: map[*graph.Program]*batchBuf{}} }

func (f *feeder) fill(p *graph.Program, d datasets.Dataset, idx []int) (*batchBuf, error) {
	b, ok := f.bufs[p]
	if !ok {
		x, ok := p.Input(nn.InputName)
		if !ok {
			return nil, fmt.Errorf("%w: the model has no input %q", ErrData, nn.InputName)
		}
		y, ok := p.Input(nn.LabelName)
		if !ok {
			return nil, fmt.Errorf("%w: the model has no target input %q", ErrData, nn.LabelName)
		}
		b = &batchBuf{
			x:    tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape()...)),
			y:    tensor.New(tensor.Of(y.Dtype()), tensor.WithShape(y.Shape()...)),
			pred: make([]int, len(idx)),
		}
		b.feeds = graph.Feeds{nn.InputName: b.x, nn.LabelName: b.y}
		f.bufs[p] = b
	}
	if err := d.Gather(idx, b.x, b.y); err != nil {
		return nil, err
	}
	return b, nil
}

// checkTargets reads every target of d in batches and returns an error
// naming the first that is NaN or infinite (float targets; integer labels
// are bounded by the dataset's field, checked by fits, and by the loss).
func checkTargets(name string, d datasets.Dataset, batch int) error {
	if d.Target().IsInt() || d.Len() == 0 {
		return nil
	}
	in, out := d.Input(), d.Target()
	xdt := tensor.Float64
	if in.IsInt() {
		xdt = tensor.Int
	}
	batch = max(batch, 1)
	x := tensor.New(tensor.Of(xdt), tensor.WithShape(batch*max(in.Size(), 1)))
	y := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(batch*max(out.Size(), 1)))
	idx := make([]int, batch)
	per := max(out.Size(), 1)
	for lo := 0; lo < d.Len(); lo += batch {
		n := min(batch, d.Len()-lo)
		for i := range n {
			idx[i] = lo + i
		}
		xs, ys := x, y
		if n < batch {
			xs = tensor.New(tensor.Of(xdt), tensor.WithShape(n*max(in.Size(), 1)))
			ys = tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(n*per))
		}
		if err := d.Gather(idx[:n], xs, ys); err != nil {
			return fmt.Errorf("%w: %s data: %w", ErrData, name, err)
		}
		for i, v := range ys.Float64s() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: %s data: target %d of example %d is %v, want a finite number", ErrData, name, i%per, lo+i/per, v)
			}
		}
	}
	return nil
}

// ConfusionTable renders the confusion matrix with true classes as rows.
func (e *Evaluation) ConfusionTable() string {
	var b strings.Builder
	b.WriteString("true\\pred")
	for j := range e.Confusion {
		fmt.Fprintf(&b, "%6d", j)
	}
	b.WriteString("\n")
	for i, row := range e.Confusion {
		fmt.Fprintf(&b, "%9d", i)
		for _, v := range row {
			fmt.Fprintf(&b, "%6d", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// lossOf returns the loss a model declares (nn.Model's Loss), or nil.
func lossOf(m Model) nn.Loss {
	if l, ok := m.(interface{ Loss() nn.Loss }); ok {
		return l.Loss()
	}
	return nil
}
