package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Callback is run by Train at the points of a run (Keras's callbacks,
// GoMLX's loop hooks): Begin once before the first epoch (after a resume
// restored the history), StepEnd after every training step, EpochEnd after
// each epoch's metrics are recorded, End once when the run ends (err is why,
// nil when every epoch ran). A Begin, StepEnd or EpochEnd that returns an
// error wrapping ErrStop ends the run without failing it (a StepEnd stop
// leaves its unfinished epoch unrecorded); any other error fails it. The
// callbacks run in order: DefaultCallbacks, Options.OnStep/OnEpoch, then
// Options.Callbacks, then early stopping. Embed Hooks, or use its function
// fields, to implement only some of the methods.
type Callback interface {
	Begin(r *Run) error
	StepEnd(r *Run, s Step) error
	EpochEnd(r *Run, e Epoch) error
	End(r *Run, err error) error
}

// Hooks is a Callback of optional functions; a nil field does nothing.
type Hooks struct {
	OnBegin func(r *Run) error
	OnStep  func(r *Run, s Step) error
	OnEpoch func(r *Run, e Epoch) error
	OnEnd   func(r *Run, err error) error
}

var _ Callback = Hooks{}

// Begin calls OnBegin.
func (h Hooks) Begin(r *Run) error {
	if h.OnBegin == nil {
		return nil
	}
	return h.OnBegin(r)
}

// StepEnd calls OnStep.
func (h Hooks) StepEnd(r *Run, s Step) error {
	if h.OnStep == nil {
		return nil
	}
	return h.OnStep(r, s)
}

// EpochEnd calls OnEpoch.
func (h Hooks) EpochEnd(r *Run, e Epoch) error {
	if h.OnEpoch == nil {
		return nil
	}
	return h.OnEpoch(r, e)
}

// End calls OnEnd.
func (h Hooks) End(r *Run, err error) error {
	if h.OnEnd == nil {
		return nil
	}
	return h.OnEnd(r, err)
}

// DefaultCallbacks returns the callbacks the Options' fields ask for, in
// the order Train runs them: the progress bar (Progress), the log line of
// every epoch (Log), the run's files (Out: config.json, metrics.csv,
// curves.png and the checkpoint), and OnStep/OnEpoch. Early stopping
// (Config.Patience) runs after Options.Callbacks.
func DefaultCallbacks(cfg Config, opt Options) []Callback {
	var cbs []Callback
	if opt.World != nil && opt.World.Rank() != 0 {
		opt.Progress, opt.Log, opt.Out = nil, nil, "" // rank 0 alone writes
	}
	if opt.Progress != nil {
		cbs = append(cbs, &ProgressBar{W: opt.Progress})
	}
	if opt.Log != nil {
		cbs = append(cbs, Logger{W: opt.Log})
	}
	if opt.Out != "" {
		cbs = append(cbs, Outputs{Dir: opt.Out})
	}
	if opt.OnStep != nil || opt.OnEpoch != nil {
		h := Hooks{}
		if f := opt.OnStep; f != nil {
			h.OnStep = func(_ *Run, s Step) error { return f(s) }
		}
		if f := opt.OnEpoch; f != nil {
			h.OnEpoch = func(_ *Run, e Epoch) error { return f(e) }
		}
		cbs = append(cbs, h)
	}
	return cbs
}

// Logger writes each epoch's line (Epoch.Line) to W.
type Logger struct {
	Hooks
	W io.Writer
}

// EpochEnd writes the line.
func (l Logger) EpochEnd(r *Run, e Epoch) error {
	_, err := fmt.Fprintln(l.W, e.Line(r.cfg.Epochs))
	return err
}

// ProgressBar draws a bar per epoch on W (a terminal) with the running
// training metrics and samples/s.
type ProgressBar struct {
	Hooks
	W     io.Writer
	bar   bar
	epoch int
}

// StepEnd advances the bar, starting a new one at an epoch's first step.
func (p *ProgressBar) StepEnd(r *Run, s Step) error {
	if p.epoch != s.Epoch {
		p.bar.finish()
		p.epoch = s.Epoch
		p.bar = newBar(p.W, min(r.spe*r.cfg.Batch, r.train.Len()), fmt.Sprintf("epoch %d/%d", s.Epoch, r.cfg.Epochs))
	}
	p.bar.update(s.Examples, r.Running().String())
	return nil
}

// EpochEnd clears the bar.
func (p *ProgressBar) EpochEnd(*Run, Epoch) error {
	p.bar.finish()
	p.epoch = 0
	return nil
}

// Outputs writes a run's files into Dir: config.json at the start, and
// after every epoch metrics.csv, curves.png and then the checkpoint (so a
// failed checkpoint write leaves the previous one, which still matches the
// outputs a resume regenerates). Every file is written atomically.
type Outputs struct {
	Hooks
	Dir string
}

// Begin makes Dir and writes config.json.
func (o Outputs) Begin(r *Run) error {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return writeConfig(filepath.Join(o.Dir, "config.json"), r.cfg)
}

// EpochEnd writes metrics.csv, curves.png and the checkpoint.
func (o Outputs) EpochEnd(r *Run, _ Epoch) error {
	if err := r.writeOutputs(o.Dir); err != nil {
		return err
	}
	return r.Save(filepath.Join(o.Dir, CheckpointFile))
}

// EarlyStopping stops a run once the monitored column ("val_loss", or any
// "<set>_<metric>" of metrics.csv) has not improved for Patience epochs,
// in the metric's direction (lower loss, higher accuracy). Its state is
// recomputed from the history, so a resumed run stops where an
// uninterrupted one would.
type EarlyStopping struct {
	Hooks
	Monitor  string
	Patience int
	set      string
	higher   bool
}

// Begin checks the monitored column.
func (s *EarlyStopping) Begin(r *Run) error {
	set, name, ok := strings.Cut(s.Monitor, "_")
	m := r.Metric(name)
	if !ok || m == nil || (set != "train" && set != "val" && set != "test") {
		return fmt.Errorf("%w: early stopping monitors %q, want one of %s", ErrConfig, s.Monitor, strings.Join(r.Columns()[1:len(r.Columns())-2], ", "))
	}
	s.higher = m.Higher()
	if (set == "val" && r.val == nil) || (set == "test" && r.test == nil) {
		return fmt.Errorf("%w: early stopping monitors %q, but the run has no %s set", ErrConfig, s.Monitor, set)
	}
	s.set = set
	return nil
}

// EpochEnd returns ErrStop when the monitored value has not improved on
// its best for Patience epochs.
func (s *EarlyStopping) EpochEnd(r *Run, _ Epoch) error {
	_, name, _ := strings.Cut(s.Monitor, "_")
	best, bad := math.NaN(), 0
	for _, e := range r.history {
		v := e.Set(s.set).Get(name)
		if math.IsNaN(best) || (s.higher && v > best) || (!s.higher && v < best) {
			best, bad = v, 0
		} else {
			bad++
		}
	}
	if s.Patience > 0 && bad >= s.Patience {
		return fmt.Errorf("%w: early stopping: %s has not improved on %.6f for %d epochs", ErrStop, s.Monitor, best, bad)
	}
	return nil
}
