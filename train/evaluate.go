package train

import (
	"fmt"
	"strings"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models/mlp"
)

// Evaluation is a checkpoint's result on a data set.
type Evaluation struct {
	N         int
	Loss      float64
	Accuracy  float64
	Confusion [][]int // [true class][predicted class]
}

// EvaluateCheckpoint loads the model in the checkpoint at path (its
// configuration is in the checkpoint) and evaluates it on the data set
// test() returns, with the run's pixel scaling and batch size.
func EvaluateCheckpoint(path string, test func() (*mnist.Dataset, error)) (*Evaluation, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ConfigOf(f)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCheckpoint, path, err)
	}
	cfg.Model.Seed = cfg.Seed
	m, err := mlp.New(cfg.Model)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if _, err := m.Program(cfg.Batch); err != nil {
		return nil, err
	}
	if err := RestoreModel(m, f); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	d, err := test()
	if err != nil {
		return nil, err
	}
	if d.Features() != cfg.Model.Inputs {
		return nil, fmt.Errorf("%w: the data has %d features, the model in %s takes %d", ErrCheckpoint, d.Features(), path, cfg.Model.Inputs)
	}
	s, _ := mnist.ParseScaling(cfg.Scaling)
	loss, acc, conf, err := evaluate(m, newFeeder(m.Dtype()), d, s, cfg.Batch)
	if err != nil {
		return nil, err
	}
	return &Evaluation{N: d.N, Loss: loss, Accuracy: acc, Confusion: conf}, nil
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
