package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/solvers"
)

// shuffleStream is the PCG stream of epoch 0's permutation; epoch e uses shuffleStream+e.
const shuffleStream = 0x5eed0000

// CheckpointFile is the name of the checkpoint in the output directory.
const CheckpointFile = "checkpoint.safetensors"

// Model is what the trainer trains: a family of programs, one per batch
// size, sharing parameters and states (nn.Model is one). Every program reads
// the examples as input "x" (batch, …) and the integer labels as "y"
// (batch), returns the mean loss, and gives the logits (batch, classes) as
// Output(0).
type Model interface {
	Program(batch int) (*graph.Program, error)
	// Params and States list the model's tensors once a program exists.
	Params() []*gorgonia.Node
	States() []graph.State
	// SetMode sets the mode of every program, including later ones.
	SetMode(graph.Mode)
}

// Data is the training and test data of a run.
type Data struct {
	Train, Test datasets.Dataset
}

// Step is what the step hook sees after each training step.
type Step struct {
	Epoch    int     // from 1
	Step     int     // global step, from 0
	Examples int     // in this batch
	Loss     float64 // mean loss of the batch, in Train mode
	LR       float64 // learning rate of the step
}

// Options control a run's outputs and hooks; they do not change its numbers
// (unless a hook stops the run).
type Options struct {
	Out      string    // output directory (metrics.csv, curves.png, config.json, checkpoint); "" writes nothing
	Resume   bool      // continue from Out/checkpoint.safetensors
	Log      io.Writer // one line per epoch; nil for none
	Progress io.Writer // a progress bar per epoch (use only on a terminal); nil for none
	// OnStep is called after every step (also with the NaN loss of a step
	// that diverged, before Train returns ErrDiverged). Returning ErrStop
	// ends the run at once: the unfinished epoch is not recorded.
	OnStep func(Step) error
	// OnEpoch is called with each epoch's metrics once they are recorded
	// (and checkpointed). Returning ErrStop ends the run after that epoch.
	OnEpoch func(Epoch) error
}

// Epoch holds one row of metrics.csv (and validation numbers when a
// validation set is held out).
type Epoch struct {
	Epoch int
	// TrainLoss and TrainAcc are the running means over the epoch's steps
	// (Train mode, as the solver saw them), or with Config.EvalTrain the
	// whole training set's numbers in Eval mode after the epoch.
	TrainLoss, TrainAcc float64
	TestLoss, TestAcc   float64
	ValLoss, ValAcc     float64 // NaN without a validation set
	LR                  float64 // learning rate of the epoch's last step
	Seconds             float64 // wall time of training and evaluation
}

// Result is what a run produced.
type Result struct {
	Epochs  []Epoch
	Stopped string // why the run ended early ("early stopping: …", a hook's ErrStop), or ""
}

// run is the state of a run that a checkpoint saves.
type run struct {
	cfg     Config
	model   Model
	solver  solvers.Solver
	train   datasets.Dataset
	val     datasets.Dataset // nil without validation
	test    datasets.Dataset
	feed    *feeder
	history []Epoch
	best    float64 // best validation loss
	bad     int     // epochs since it improved
	step    int     // global step
}

// Train trains m on data as cfg says. It validates everything, including
// that the data fits the model, before any work starts; on a NaN or infinite
// loss it stops with ErrDiverged and leaves the last good checkpoint in
// place. The caller owns m (and closes it).
func Train(ctx context.Context, cfg Config, m Model, data Data, opt Options) (*Result, error) {
	r, err := newRun(cfg, m, data)
	if err != nil {
		return nil, err
	}
	if opt.Out != "" {
		if err := os.MkdirAll(opt.Out, 0o755); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if opt.Resume {
		if opt.Out == "" {
			return nil, fmt.Errorf("%w: resume needs an output directory", ErrConfig)
		}
		if err := r.restore(filepath.Join(opt.Out, CheckpointFile)); err != nil {
			return nil, err
		}
	}
	if opt.Out != "" {
		if err := writeConfig(filepath.Join(opt.Out, "config.json"), r.cfg); err != nil {
			return nil, err
		}
	}
	res := &Result{Epochs: r.history}
	stop := func(err error) (*Result, error) {
		if errors.Is(err, ErrStop) {
			res.Stopped = err.Error()
			if opt.Log != nil {
				fmt.Fprintln(opt.Log, res.Stopped)
			}
			return res, nil
		}
		return res, err
	}
	for epoch := len(r.history) + 1; epoch <= r.cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		e, err := r.epoch(ctx, epoch, opt)
		if err != nil {
			return stop(err)
		}
		r.history = append(r.history, e)
		res.Epochs = r.history
		if opt.Log != nil {
			fmt.Fprintln(opt.Log, e.line(r.cfg.Epochs))
		}
		if r.val != nil {
			if e.ValLoss < r.best {
				r.best, r.bad = e.ValLoss, 0
			} else {
				r.bad++
			}
		}
		if opt.Out != "" {
			if err := r.save(opt.Out); err != nil {
				return res, err
			}
		}
		if opt.OnEpoch != nil {
			if err := opt.OnEpoch(e); err != nil {
				return stop(err)
			}
		}
		if r.cfg.Patience > 0 && r.bad >= r.cfg.Patience {
			return stop(fmt.Errorf("%w: early stopping: validation loss has not improved on %.6f for %d epochs", ErrStop, r.best, r.bad))
		}
	}
	return res, nil
}

func newRun(cfg Config, m Model, data Data) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no model", ErrConfig)
	}
	if data.Train == nil || data.Test == nil {
		return nil, fmt.Errorf("%w: training and test data are required", ErrData)
	}
	r := &run{cfg: cfg, model: m, best: math.Inf(1), train: data.Train, test: data.Test}
	var err error
	if cfg.TrainLimit > 0 {
		if r.train, err = datasets.Head(data.Train, cfg.TrainLimit); err != nil {
			return nil, err
		}
	}
	if cfg.TestLimit > 0 {
		if r.test, err = datasets.Head(data.Test, cfg.TestLimit); err != nil {
			return nil, err
		}
	}
	if cfg.Validation > 0 {
		if cfg.Validation >= r.train.Len() {
			return nil, fmt.Errorf("%w: validation = %d leaves no training data (%d examples)", ErrConfig, cfg.Validation, r.train.Len())
		}
		if r.train, r.val, err = datasets.Split(r.train, cfg.Validation, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if r.train.Len() == 0 {
		return nil, fmt.Errorf("%w: the training set is empty", ErrData)
	}
	if cfg.DropLast && r.train.Len() < cfg.Batch {
		return nil, fmt.Errorf("%w: drop_last with batch %d leaves no step in %d training examples", ErrConfig, cfg.Batch, r.train.Len())
	}
	if r.solver, err = solvers.New(cfg.Optimizer, cfg.Solver); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// Build the full-batch program now: it creates the parameters, and its
	// inputs say what the data must look like.
	p, err := m.Program(min(cfg.Batch, r.train.Len()))
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		d    datasets.Dataset
	}{{"training", r.train}, {"test", r.test}, {"validation", r.val}} {
		if d.d != nil {
			if err := fits(p, d.name, d.d); err != nil {
				return nil, err
			}
		}
	}
	r.feed = newFeeder()
	return r, nil
}

func (r *run) stepsPerEpoch() int {
	if r.cfg.DropLast {
		return r.train.Len() / r.cfg.Batch
	}
	return (r.train.Len() + r.cfg.Batch - 1) / r.cfg.Batch
}

// epoch trains one epoch and evaluates.
func (r *run) epoch(ctx context.Context, epoch int, opt Options) (Epoch, error) {
	start := time.Now()
	e := Epoch{Epoch: epoch, ValLoss: math.NaN(), ValAcc: math.NaN()}
	n := r.train.Len()
	perm := Order(r.cfg.Seed, epoch, n)
	spe := r.stepsPerEpoch()
	total := spe * r.cfg.Epochs
	base := r.cfg.Solver.LR
	if base == 0 {
		base = r.solver.LR() // the solver's default
	}
	bar := newBar(opt.Progress, min(spe*r.cfg.Batch, n), fmt.Sprintf("epoch %d/%d", epoch, r.cfg.Epochs))
	r.model.SetMode(graph.Train)
	var sumLoss float64
	var correct, seen int
	for s := range spe {
		if err := ctx.Err(); err != nil {
			return e, err
		}
		idx := perm[s*r.cfg.Batch : min((s+1)*r.cfg.Batch, n)]
		prog, err := r.model.Program(len(idx))
		if err != nil {
			return e, err
		}
		b, err := r.feed.fill(prog, r.train, idx)
		if err != nil {
			return e, err
		}
		e.LR = r.cfg.Schedule.LR(base, r.step, spe, total)
		r.solver.SetLR(e.LR)
		if err := prog.Run(b.feeds); err != nil {
			return e, fmt.Errorf("train: epoch %d step %d: %w", epoch, r.step, err)
		}
		loss := prog.Loss()
		info := Step{Epoch: epoch, Step: r.step, Examples: len(idx), Loss: loss, LR: e.LR}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			if opt.OnStep != nil {
				opt.OnStep(info) // the run ends either way
			}
			return e, fmt.Errorf("%w: loss is %v at epoch %d, step %d (learning rate %g); the checkpoint of epoch %d is kept",
				ErrDiverged, loss, epoch, r.step, e.LR, epoch-1)
		}
		c, err := b.correct(prog)
		if err != nil {
			return e, err
		}
		if err := r.solver.Step(prog.Learnables()); err != nil {
			return e, fmt.Errorf("train: epoch %d step %d: %w", epoch, r.step, err)
		}
		r.step++
		sumLoss += loss * float64(len(idx))
		correct += c
		seen += len(idx)
		bar.update(len(idx), sumLoss/float64(seen), float64(correct)/float64(seen))
		if opt.OnStep != nil {
			if err := opt.OnStep(info); err != nil {
				return e, err
			}
		}
	}
	bar.finish()
	e.TrainLoss, e.TrainAcc = sumLoss/float64(seen), float64(correct)/float64(seen)
	type target struct {
		d         datasets.Dataset
		loss, acc *float64
	}
	evals := []target{{r.test, &e.TestLoss, &e.TestAcc}, {r.val, &e.ValLoss, &e.ValAcc}}
	if r.cfg.EvalTrain {
		evals = append(evals, target{r.train, &e.TrainLoss, &e.TrainAcc})
	}
	for _, ev := range evals {
		if ev.d == nil {
			continue
		}
		res, err := evaluate(r.model, r.feed, ev.d, r.cfg.Batch)
		if err != nil {
			return e, err
		}
		*ev.loss, *ev.acc = res.Loss, res.Accuracy
	}
	e.Seconds = time.Since(start).Seconds()
	return e, nil
}

func (e Epoch) line(epochs int) string {
	s := fmt.Sprintf("epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%",
		e.Epoch, epochs, e.TrainLoss, 100*e.TrainAcc, e.TestLoss, 100*e.TestAcc)
	if !math.IsNaN(e.ValLoss) {
		s += fmt.Sprintf("  val loss %.4f acc %.2f%%", e.ValLoss, 100*e.ValAcc)
	}
	return s + fmt.Sprintf("  lr %.3g  %.1fs", e.LR, e.Seconds)
}
