package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
)

// Tensor name prefixes in a checkpoint.
const (
	paramPrefix  = "param/"
	statePrefix  = "state/"
	solverPrefix = "solver/"
)

// progress is the resumable bookkeeping of a run, kept as JSON metadata:
// the global step and the history as rows of metrics.csv's columns (NaN
// and ±Inf written as null, which JSON lacks). A checkpoint written before
// the columns were recorded has rows of oldColumns.
type progress struct {
	Step    int          `json:"step"`
	Columns []string     `json:"columns,omitempty"`
	History [][]*float64 `json:"history"`
}

// oldColumns are the fixed columns of the first checkpoints' history.
var oldColumns = []string{"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "val_loss", "val_acc", "lr", "seconds"}

func toJS(v []float64) []*float64 {
	j := make([]*float64, len(v))
	for i := range v {
		if !math.IsNaN(v[i]) && !math.IsInf(v[i], 0) {
			j[i] = &v[i]
		}
	}
	return j
}

func fromJS(j []*float64) []float64 {
	v := make([]float64, len(j))
	for i, p := range j {
		v[i] = math.NaN()
		if p != nil {
			v[i] = *p
		}
	}
	return v
}

// ModelTensors returns the model's parameters and states under their
// checkpoint names ("param/fc1/w", "state/bn1/running_mean"). The model must
// have compiled a program (which makes its parameters).
func ModelTensors(m Model) (map[string]*tensor.Dense, error) {
	if len(m.Params()) == 0 && len(m.States()) == 0 {
		return nil, fmt.Errorf("%w: the model has no parameters or states yet (compile a program first)", ErrCheckpoint)
	}
	out := map[string]*tensor.Dense{}
	for _, n := range m.Params() {
		d, ok := n.Value().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("train: parameter %q holds a %T", n.Name(), n.Value())
		}
		out[paramPrefix+n.Name()] = d
	}
	for _, s := range m.States() {
		out[statePrefix+s.Name] = s.Value
	}
	return out, nil
}

// Save writes the run's checkpoint to path, atomically: the model's
// parameters and states, the solver's state, the configuration and the
// progress (step and history) that a resume needs.
func (r *Run) Save(path string) error {
	tensors, err := ModelTensors(r.model)
	if err != nil {
		return err
	}
	for k, v := range r.solver.State() {
		tensors[solverPrefix+k] = v
	}
	cfg, err := json.Marshal(r.cfg)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	cols := r.Columns()
	p := progress{Step: r.step, Columns: cols, History: [][]*float64{}}
	for _, e := range r.history {
		p.History = append(p.History, toJS(row(cols, e)))
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	meta := map[string]string{
		"config":   string(cfg),
		"epoch":    strconv.Itoa(len(r.history)),
		"progress": string(pj),
		"rng":      fmt.Sprintf("shuffle: PCG(seed=%d, stream=%#x+epoch); dropout: state/*step counters", r.cfg.Seed, shuffleStream),
	}
	return checkpoint.Write(path, &checkpoint.File{Tensors: tensors, Metadata: meta})
}

// ReadCheckpoint reads the checkpoint at path and the run configuration it holds.
func ReadCheckpoint(path string) (*checkpoint.File, Config, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, Config{}, err
	}
	cfg, err := ConfigOf(f)
	if err != nil {
		return nil, cfg, fmt.Errorf("%w (%s)", err, path)
	}
	return f, cfg, nil
}

// ConfigOf returns the run configuration stored in a checkpoint.
func ConfigOf(f *checkpoint.File) (Config, error) {
	c, err := ReadConfig([]byte(f.Metadata["config"]))
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	return c, nil
}

// restore loads a checkpoint written by a run of the same configuration
// (the number of epochs may differ: a resumed run may train longer).
func (r *Run) restore(path string) error {
	f, err := checkpoint.Read(path)
	if err != nil {
		return err
	}
	saved, err := ConfigOf(f)
	if err != nil {
		return err
	}
	a, b := saved, r.cfg
	a.Epochs, b.Epochs = 0, 0
	if jsonOf(a) != jsonOf(b) {
		return fmt.Errorf("%w: %s was written by a run with config %s; this run has %s", ErrCheckpoint, path, jsonOf(saved), jsonOf(r.cfg))
	}
	if err := RestoreModel(r.model, f); err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	st := map[string]*tensor.Dense{}
	for k, v := range f.Tensors {
		if rest, ok := strings.CutPrefix(k, solverPrefix); ok {
			st[rest] = v
		}
	}
	if err := r.solver.SetState(st); err != nil {
		return fmt.Errorf("%w: %s: solver state: %w", ErrCheckpoint, path, err)
	}
	if r.history, r.step, err = History(f); err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	if n := len(r.history); n > 0 {
		if have, want := columnsOf(r.history[n-1]), r.Columns(); !slices.Equal(have, want) {
			return fmt.Errorf("%w: %s records the columns %s; this run's are %s (other metrics or data sets)",
				ErrCheckpoint, path, strings.Join(have, ","), strings.Join(want, ","))
		}
	}
	return nil
}

// History returns the epochs a checkpoint records and its global step count.
func History(f *checkpoint.File) (epochs []Epoch, step int, err error) {
	var p progress
	if err := json.Unmarshal([]byte(f.Metadata["progress"]), &p); err != nil {
		return nil, 0, fmt.Errorf("%w: progress metadata: %w", ErrCheckpoint, err)
	}
	cols := p.Columns
	if cols == nil {
		cols = oldColumns
	}
	for i, row := range p.History {
		if len(row) != len(cols) {
			return nil, 0, fmt.Errorf("%w: progress metadata: epoch %d has %d values for %d columns", ErrCheckpoint, i+1, len(row), len(cols))
		}
		e := fromRow(cols, fromJS(row))
		if p.Columns == nil && math.IsNaN(e.Val.Get("loss")) {
			e.Val = nil // the old format always had validation columns
		}
		epochs = append(epochs, e)
	}
	return epochs, p.Step, nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// RestoreModel copies the parameters and states of checkpoint f into m.
// Every tensor the model has must be in f with the same dtype and shape, and
// f must hold no model tensor that m lacks; the error names the first
// difference.
func RestoreModel(m Model, f *checkpoint.File) error {
	have, err := ModelTensors(m)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		dst := have[name]
		src, ok := f.Tensors[name]
		if !ok {
			return fmt.Errorf("%w: the model has %s %v %v, the checkpoint does not", ErrCheckpoint, name, dst.Dtype(), dst.Shape())
		}
		if src.Dtype() != dst.Dtype() || !src.Shape().Eq(dst.Shape()) {
			return fmt.Errorf("%w: %s is %v %v in the checkpoint, %v %v in the model", ErrCheckpoint, name, src.Dtype(), src.Shape(), dst.Dtype(), dst.Shape())
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.Tensors)) {
		if _, ok := have[name]; !ok && (strings.HasPrefix(name, paramPrefix) || strings.HasPrefix(name, statePrefix)) {
			return fmt.Errorf("%w: the checkpoint has %s, the model does not", ErrCheckpoint, name)
		}
	}
	for name, dst := range have {
		reflect.Copy(reflect.ValueOf(dst.Data()), reflect.ValueOf(f.Tensors[name].Data()))
	}
	return nil
}

// columnsOf returns the columns a run that recorded e has.
func columnsOf(e Epoch) []string {
	cols := []string{"epoch"}
	for _, set := range []string{"train", "test", "val"} {
		for _, s := range e.Set(set) {
			cols = append(cols, set+"_"+s.Name)
		}
	}
	return append(cols, "lr", "seconds")
}
