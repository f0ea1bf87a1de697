package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path/filepath"
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

// progress is the resumable bookkeeping of a run, kept as JSON metadata.
type progress struct {
	Step    int       `json:"step"`
	Best    float64   `json:"best_val_loss"` // +Inf is written as null
	Bad     int       `json:"bad_epochs"`
	History []epochJS `json:"history"`
}

// epochJS is an Epoch with NaN/Inf-safe numbers (JSON has neither).
type epochJS [9]*float64

func toJS(e Epoch) epochJS {
	var j epochJS
	for i, v := range []float64{float64(e.Epoch), e.TrainLoss, e.TrainAcc, e.TestLoss, e.TestAcc, e.ValLoss, e.ValAcc, e.LR, e.Seconds} {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			j[i] = &v
		}
	}
	return j
}

func fromJS(j epochJS) Epoch {
	v := make([]float64, len(j))
	for i, p := range j {
		v[i] = math.NaN()
		if p != nil {
			v[i] = *p
		}
	}
	return Epoch{int(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]}
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

func (r *run) save(dir string) error {
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
	p := progress{Step: r.step, Bad: r.bad}
	if !math.IsInf(r.best, 1) {
		p.Best = r.best
	}
	for _, e := range r.history {
		p.History = append(p.History, toJS(e))
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
	// The outputs first: if writing the checkpoint fails, the previous one
	// still matches the data a resume would regenerate.
	if err := r.writeOutputs(dir); err != nil {
		return err
	}
	return checkpoint.Write(filepath.Join(dir, CheckpointFile), &checkpoint.File{Tensors: tensors, Metadata: meta})
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
func (r *run) restore(path string) error {
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
	var p progress
	if err := json.Unmarshal([]byte(f.Metadata["progress"]), &p); err != nil {
		return fmt.Errorf("%w: %s: progress metadata: %w", ErrCheckpoint, path, err)
	}
	r.step, r.bad, r.best = p.Step, p.Bad, math.Inf(1)
	if p.Best != 0 {
		r.best = p.Best
	}
	if r.history, _, err = History(f); err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	return nil
}

// History returns the epochs a checkpoint records and its global step count.
func History(f *checkpoint.File) (epochs []Epoch, step int, err error) {
	var p progress
	if err := json.Unmarshal([]byte(f.Metadata["progress"]), &p); err != nil {
		return nil, 0, fmt.Errorf("%w: progress metadata: %w", ErrCheckpoint, err)
	}
	for _, e := range p.History {
		epochs = append(epochs, fromJS(e))
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
