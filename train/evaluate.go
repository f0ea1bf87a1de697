package train

import (
	"fmt"
	"math"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
)

// Evaluation is a model's result on a data set.
type Evaluation struct {
	N         int
	Loss      float64
	Accuracy  float64
	Confusion [][]int // [true class][predicted class]
}

// Evaluate runs d through m in Eval mode, in batches of the given size (the
// last one partial), and returns the mean loss, the accuracy and the
// confusion matrix. m is left in Train mode.
func Evaluate(m Model, d datasets.Dataset, batch int) (*Evaluation, error) {
	if m == nil || d == nil {
		return nil, fmt.Errorf("%w: Evaluate needs a model and a data set", ErrData)
	}
	if batch <= 0 {
		return nil, fmt.Errorf("%w: batch = %d, want > 0", ErrConfig, batch)
	}
	if d.Len() > 0 {
		p, err := m.Program(min(batch, d.Len()))
		if err != nil {
			return nil, err
		}
		if err := fits(p, "evaluation", d); err != nil {
			return nil, err
		}
	}
	return evaluate(m, newFeeder(), d, batch)
}

func evaluate(m Model, f *feeder, d datasets.Dataset, batch int) (*Evaluation, error) {
	m.SetMode(graph.Eval)
	defer m.SetMode(graph.Train)
	k := d.Classes()
	ev := &Evaluation{N: d.Len(), Confusion: make([][]int, k)}
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, k)
	}
	idx := make([]int, batch)
	var sum float64
	correct := 0
	for lo := 0; lo < d.Len(); lo += batch {
		n := min(batch, d.Len()-lo)
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
		sum += prog.Loss() * float64(n)
		if err := nn.Argmax(prog.Output(0), b.pred); err != nil {
			return nil, err
		}
		for i, y := range b.y {
			if p := b.pred[i]; y >= 0 && y < k && p < k {
				ev.Confusion[y][p]++
			}
			if b.pred[i] == y {
				correct++
			}
		}
	}
	if d.Len() == 0 {
		ev.Loss, ev.Accuracy = math.NaN(), math.NaN()
		return ev, nil
	}
	ev.Loss, ev.Accuracy = sum/float64(d.Len()), float64(correct)/float64(d.Len())
	return ev, nil
}

// fits reports whether the program's inputs can take the examples of d: an
// input nn.InputName of as many values per example as d's example shape (the
// program may see an image as a vector), and integer labels nn.LabelName.
func fits(p *graph.Program, name string, d datasets.Dataset) error {
	x, ok := p.Input(nn.InputName)
	if !ok || x.Shape().Dims() < 1 {
		return fmt.Errorf("%w: the model has no input %q (batch, …)", ErrData, nn.InputName)
	}
	if x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64 {
		return fmt.Errorf("%w: the model's input %q is %v, want float32 or float64", ErrData, nn.InputName, x.Dtype())
	}
	if y, ok := p.Input(nn.LabelName); !ok || y.Dtype() != tensor.Int || y.Shape().Dims() != 1 {
		return fmt.Errorf("%w: the model has no integer label input %q (batch)", ErrData, nn.LabelName)
	}
	if s := p.OutputShape(0); len(s) != 2 || s[1] < d.Classes() {
		return fmt.Errorf("%w: %s data has %d classes, the model's output 0 is %v, want (batch, ≥ %d) logits",
			ErrData, name, d.Classes(), s, d.Classes())
	}
	want, got := x.Shape()[1:].TotalSize(), datasets.Size(d.Shape())
	if x.Shape().Dims() == 1 {
		want = 1
	}
	if want != got {
		return fmt.Errorf("%w: %s examples are %v (%d values), the model's input %q takes %v (%d values) per example",
			ErrData, name, d.Shape(), got, nn.InputName, x.Shape()[1:], want)
	}
	return nil
}

// feeder fills the feeds of a program's batch from a dataset, reusing one
// buffer per program (that is, per batch size).
type feeder struct{ bufs map[*graph.Program]*batchBuf }

type batchBuf struct {
	x     *tensor.Dense
	y     []int
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
		n := len(idx)
		b = &batchBuf{x: tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape()...)), y: make([]int, n), pred: make([]int, n)}
		b.feeds = graph.Feeds{nn.InputName: b.x, nn.LabelName: tensor.New(tensor.WithShape(n), tensor.WithBacking(b.y))}
		f.bufs[p] = b
	}
	if err := d.Gather(idx, b.x, b.y); err != nil {
		return nil, err
	}
	return b, nil
}

// correct counts the predictions of the last run that match the labels.
func (b *batchBuf) correct(p *graph.Program) (int, error) {
	if err := nn.Argmax(p.Output(0), b.pred); err != nil {
		return 0, err
	}
	c := 0
	for i, y := range b.y {
		if b.pred[i] == y {
			c++
		}
	}
	return c, nil
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
