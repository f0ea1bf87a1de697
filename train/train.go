package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
)

// shuffleStream is the PCG stream of epoch 0's permutation; epoch e uses shuffleStream+e.
const shuffleStream = 0x5eed0000

// CheckpointFile is the name of the checkpoint in the output directory.
const CheckpointFile = "checkpoint.safetensors"

// Model is what the trainer trains: a family of programs, one per batch
// size, sharing parameters and states (nn.Model is one). Every program reads
// the examples as input nn.InputName (batch, …) and their targets as
// nn.LabelName, returns the mean loss, and gives its prediction as
// Output(0), which the metrics read. A model that also has a method
// Loss() nn.Loss (nn.Model does) tells the trainer its task, so that the
// data and the metrics are checked against it and the default metrics fit.
type Model interface {
	Program(batch int) (*graph.Program, error)
	// Params and States list the model's tensors once a program exists.
	Params() []*gorgonia.Node
	States() []graph.State
	// SetMode sets the mode of every program, including later ones.
	SetMode(graph.Mode)
}

// Data is the data of a run. Train is required; Val (a validation set
// given explicitly, instead of Config.Validation's split) and Test are
// optional.
type Data struct {
	Train, Val, Test datasets.Dataset
}

// Step is what the step callbacks see after each training step.
type Step struct {
	Epoch    int     // from 1
	Step     int     // global step, from 0
	Examples int     // in this batch
	Loss     float64 // mean loss of the batch, in Train mode
	LR       float64 // learning rate of the step
}

// Options control a run's outputs, callbacks, metrics and, as values, its
// solver and schedule. The first four fields make the default callbacks
// (DefaultCallbacks): leave one empty to remove its callback, and add your
// own (or a replacement) in Callbacks.
type Options struct {
	Out      string    // output directory (metrics.csv, curves.png, config.json, checkpoint); "" writes nothing
	Resume   bool      // continue from Out/checkpoint.safetensors
	Log      io.Writer // one line per epoch; nil for none
	Progress io.Writer // a progress bar per epoch (use only on a terminal); nil for none
	// OnStep and OnEpoch are shorthands for a Hooks callback (run after the
	// defaults, before Callbacks). OnStep is also called with the NaN loss
	// of a step that diverged, before Train returns ErrDiverged.
	OnStep  func(Step) error
	OnEpoch func(Epoch) error
	// Callbacks run after the defaults, in order (see Callback).
	Callbacks []Callback
	// Metrics are measured after the mean loss (always the first column,
	// "loss") on every data set; nil means metrics.For(the model's loss
	// kind): accuracy for a classifier, RMSE, MAE and R² for a regressor.
	// Each must fit the model's loss.
	Metrics []metrics.Metric
	// Solver, if set, is the solver of the run (any type with the
	// solvers.Solver interface, from any package) instead of the one
	// Config.Optimizer names, which must then be empty; Config.Solver may
	// then only set LR (the schedule's base rate; 0 means Solver.LR()).
	// A resumed run restores its state from the checkpoint (State/SetState).
	Solver solvers.Solver
	// Schedule, if set, gives the learning rate of every global step (from
	// 0) instead of Config.Schedule, which must then be empty.
	Schedule func(step int) float64
	// World, if set, makes the run data-parallel across its processes
	// (see World): each takes its shard of every global batch of
	// Config.Batch, the gradients are all-reduced before each step, and
	// only rank 0 runs the default callbacks that write (Out, Log,
	// Progress). Rank 0's parameters and states are given to every rank
	// before the first step (models built with RankSeed draw their own
	// dropout masks). A last partial batch smaller than the world is a step
	// too: the ranks without examples add zero gradients, so the steps and
	// the learning rates are one process's. Evaluation is sharded: each
	// rank evaluates a contiguous part of each set, and the metrics (each
	// a metrics.Mergeable) are merged, so every rank gets one process's
	// values; the training set's metrics are merged at the end of the epoch
	// in the same way (the progress bar shows rank 0's shard). Batch norm
	// keeps per-rank statistics (PyTorch DDP's default; see SyncBatchNorm);
	// rank 0's running statistics are given to every rank at the end of
	// each epoch, before evaluation, as DDP's broadcast_buffers does. At the
	// end of an epoch the ranks agree: an ErrStop or a failure of a callback
	// on any rank ends the run on all. A failure inside a step (a bad
	// batch) is one rank's: the caller must then abort the world (gradlab
	// train calls MPI_Abort), or the others wait in the next all-reduce.
	World World
	// SyncBatchNorm makes the batch norm of a data-parallel run
	// synchronized (PyTorch's SyncBatchNorm; see ops.BatchNorm's op and
	// graph.SyncOp): in Train mode the batch statistics are those of the
	// global batch, as one process with batch Config.Batch computes them,
	// at the cost of three small all-reduces per batch-norm layer and step.
	// The default (false) is per-rank statistics, PyTorch DDP's default:
	// each rank normalizes by its own shard's statistics. It needs a last
	// partial batch of at least one example per rank (or DropLast), and
	// changes nothing without a World of several processes.
	SyncBatchNorm bool
}

// Score is one metric's value.
type Score struct {
	Name  string
	Value float64
}

// Scores are the metrics of one data set, the loss first.
type Scores []Score

// Get returns the value of the named metric, NaN when there is none.
func (s Scores) Get(name string) float64 {
	for _, x := range s {
		if x.Name == name {
			return x.Value
		}
	}
	return math.NaN()
}

// String renders the scores as a log line shows them: "loss 0.2429 acc 92.45%".
func (s Scores) String() string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.Name + " " + metrics.Format(x.Name, x.Value)
	}
	return strings.Join(parts, " ")
}

// Epoch is one row of metrics.csv.
type Epoch struct {
	Epoch int
	// Train holds the running means over the epoch's steps (Train mode, as
	// the solver saw them), or with Config.EvalTrain the whole training
	// set's metrics in Eval mode after the epoch. Val and Test are nil
	// without those sets.
	Train, Val, Test Scores
	LR               float64 // learning rate of the epoch's last step
	Seconds          float64 // wall time of training and evaluation
}

// Set returns the scores of the named set: "train", "val" or "test".
func (e Epoch) Set(name string) Scores {
	switch name {
	case "train":
		return e.Train
	case "val":
		return e.Val
	case "test":
		return e.Test
	}
	return nil
}

// Line renders the epoch as the log shows it:
// "epoch 3/10  train loss 0.1 acc 97.00%  test loss 0.1 acc 97.10%  lr 0.002  3.3s".
func (e Epoch) Line(epochs int) string {
	return fmt.Sprintf("epoch %d/%d  %s", e.Epoch, epochs, e.Summary())
}

// Summary is Line without the epoch: the scores of each set, the rate and the time.
func (e Epoch) Summary() string {
	var parts []string
	for _, set := range []string{"train", "test", "val"} {
		if s := e.Set(set); s != nil {
			parts = append(parts, set+" "+s.String())
		}
	}
	return strings.Join(append(parts, fmt.Sprintf("lr %.3g", e.LR), fmt.Sprintf("%.1fs", e.Seconds)), "  ")
}

// Result is what a run produced.
type Result struct {
	Epochs  []Epoch
	Stopped string // why the run ended early ("early stopping: …", a callback's ErrStop), or ""
}

// Run is a run in progress, as callbacks see it.
type Run struct {
	cfg       Config
	model     Model
	solver    solvers.Solver
	schedule  func(step int) float64
	kind      nn.TargetKind // of the model's loss; 0 when unknown
	metrics   []metrics.Metric
	train     datasets.Dataset
	val, test datasets.Dataset // nil when absent
	feed      *feeder
	history   []Epoch
	step      int // global step
	spe       int // steps per epoch
	world     World
	red       *reducer              // nil unless the world has several processes
	last      *graph.Program        // of the last training step
	sync      func([]float64) error // the all-reduce of synchronized batch norm, or nil
}

// Config returns the run's configuration.
func (r *Run) Config() Config { return r.cfg }

// Model returns the model being trained.
func (r *Run) Model() Model { return r.model }

// Solver returns the run's solver.
func (r *Run) Solver() solvers.Solver { return r.solver }

// History returns the epochs recorded so far (those of a resumed run's
// checkpoint included). The caller must not modify it.
func (r *Run) History() []Epoch { return r.history }

// Steps returns the number of training steps taken so far.
func (r *Run) Steps() int { return r.step }

// Metric returns the metric of the given name ("loss", "acc", …), or nil.
func (r *Run) Metric(name string) metrics.Metric {
	for _, m := range r.metrics {
		if m.Name() == name {
			return m
		}
	}
	return nil
}

// Columns returns the columns of metrics.csv: epoch, the metrics of each
// set the run has (train_loss, train_acc, test_loss, …), lr, seconds.
func (r *Run) Columns() []string {
	cols := []string{"epoch"}
	for _, set := range r.sets() {
		for _, m := range r.metrics {
			cols = append(cols, set+"_"+m.Name())
		}
	}
	return append(cols, "lr", "seconds")
}

// sets names the data sets the run measures, in the order of the columns.
func (r *Run) sets() []string {
	s := []string{"train"}
	if r.test != nil {
		s = append(s, "test")
	}
	if r.val != nil {
		s = append(s, "val")
	}
	return s
}

// Running returns the run's metrics as they stand: during an epoch's steps
// the training set's running values (what the progress bar shows); in
// EpochEnd, the values of the last set evaluated — use the Epoch's scores
// there.
func (r *Run) Running() Scores { return r.scores() }

// Train trains m on data as cfg says. It validates everything, including
// that the data and the metrics fit the model, before any work starts; on a
// NaN or infinite loss it stops with ErrDiverged and leaves the last good
// checkpoint in place. The caller owns m (and closes it).
func Train(ctx context.Context, cfg Config, m Model, data Data, opt Options) (*Result, error) {
	r, err := newRun(cfg, m, data, opt)
	if err != nil {
		return nil, err
	}
	if opt.Resume {
		if opt.Out == "" {
			return nil, fmt.Errorf("%w: resume needs an output directory", ErrConfig)
		}
		if err := r.restore(filepath.Join(opt.Out, CheckpointFile)); err != nil {
			return nil, err
		}
	}
	if err := r.shareParams(); err != nil {
		return nil, err
	}
	if err := r.shareStates(); err != nil {
		return nil, err
	}
	cbs := append(DefaultCallbacks(cfg, opt), opt.Callbacks...)
	if cfg.Patience > 0 {
		cbs = append(cbs, &EarlyStopping{Monitor: cfg.monitor(), Patience: cfg.Patience})
	}
	res := &Result{Epochs: r.history}
	stop := func(err error) (*Result, error) {
		res.Epochs = r.history
		for _, c := range cbs {
			if e := c.End(r, err); e != nil {
				err = errors.Join(err, e)
			}
		}
		if errors.Is(err, ErrStop) && !errors.Is(err, ErrDiverged) {
			res.Stopped = err.Error()
			if opt.Log != nil {
				fmt.Fprintln(opt.Log, res.Stopped)
			}
			return res, nil
		}
		return res, err
	}
	for _, c := range cbs {
		if err := c.Begin(r); err != nil {
			return stop(err)
		}
	}
	for epoch := len(r.history) + 1; epoch <= r.cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return stop(err)
		}
		e, err := r.epoch(ctx, epoch, cbs)
		if err != nil {
			return stop(err)
		}
		r.history = append(r.history, e)
		res.Epochs = r.history
		var cbErr error
		for _, c := range cbs {
			if cbErr = c.EpochEnd(r, e); cbErr != nil {
				break
			}
		}
		if err := r.agree(&cbErr); err != nil {
			return stop(err) // every rank returns: none waits for another
		}
		if cbErr != nil {
			return stop(cbErr)
		}
	}
	return stop(nil)
}

func newRun(cfg Config, m Model, data Data, opt Options) (*Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no model", ErrConfig)
	}
	if data.Train == nil {
		return nil, fmt.Errorf("%w: training data is required", ErrData)
	}
	r := &Run{cfg: cfg, model: m, train: data.Train, val: data.Val, test: data.Test, schedule: opt.Schedule, world: opt.World}
	if w := opt.World; w != nil && w.Size() > 1 {
		if cfg.Batch < w.Size() {
			return nil, fmt.Errorf("%w: batch %d is the global batch, split across %d processes: want at least one example each", ErrConfig, cfg.Batch, w.Size())
		}
		if n := data.Train.Len(); n < w.Size() {
			return nil, fmt.Errorf("%w: %d training examples, split across %d processes: want at least one each", ErrConfig, n, w.Size())
		}
		r.red = &reducer{w: w}
		if opt.SyncBatchNorm {
			r.sync = w.AllReduceSum64
		}
	}
	var err error
	if cfg.TrainLimit > 0 {
		if r.train, err = datasets.Head(data.Train, cfg.TrainLimit); err != nil {
			return nil, err
		}
	}
	if cfg.TestLimit > 0 && r.test != nil {
		if r.test, err = datasets.Head(data.Test, cfg.TestLimit); err != nil {
			return nil, err
		}
	}
	if cfg.Validation > 0 {
		if r.val != nil {
			return nil, fmt.Errorf("%w: validation = %d splits the training data, and a validation set is given too", ErrConfig, cfg.Validation)
		}
		if cfg.Validation >= r.train.Len() {
			return nil, fmt.Errorf("%w: validation = %d leaves no training data (%d examples)", ErrConfig, cfg.Validation, r.train.Len())
		}
		if r.train, r.val, err = datasets.Split(r.train, cfg.Validation, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if cfg.Patience > 0 && r.val == nil {
		return nil, fmt.Errorf("%w: patience = %d needs a validation set (validation > 0, or Data.Val)", ErrConfig, cfg.Patience)
	}
	if r.train.Len() == 0 {
		return nil, fmt.Errorf("%w: the training set is empty", ErrData)
	}
	if cfg.DropLast && r.train.Len() < cfg.Batch {
		return nil, fmt.Errorf("%w: drop_last with batch %d leaves no step in %d training examples", ErrConfig, cfg.Batch, r.train.Len())
	}
	if err := r.pickSolver(opt); err != nil {
		return nil, err
	}
	if opt.Schedule != nil && (cfg.Schedule != Schedule{} && cfg.Schedule != Schedule{Kind: "constant"}) {
		return nil, fmt.Errorf("%w: Options.Schedule is given and Config.Schedule is %+v: set one", ErrConfig, cfg.Schedule)
	}
	if l := lossOf(m); l != nil {
		r.kind = l.Kind()
	}
	r.metrics = append([]metrics.Metric{metrics.Loss()}, opt.Metrics...)
	if opt.Metrics == nil {
		r.metrics = append(r.metrics, metrics.For(r.kind)...)
	}
	seen := map[string]bool{}
	for i, mt := range r.metrics {
		if mt == nil {
			return nil, fmt.Errorf("%w: metric %d is nil", ErrConfig, i)
		}
		if seen[mt.Name()] {
			return nil, fmt.Errorf("%w: two metrics are named %q", ErrConfig, mt.Name())
		}
		seen[mt.Name()] = true
		if err := mt.Fits(r.kind); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if _, ok := mt.(metrics.Mergeable); !ok && r.red != nil {
			return nil, fmt.Errorf("%w: metric %s is a %T, which a data-parallel run cannot merge across processes: want a metrics.Mergeable", ErrConfig, mt.Name(), mt)
		}
	}
	// Build the full-batch program now: it creates the parameters, and its
	// inputs say what the data must look like.
	p, err := m.Program(r.localBatch(min(cfg.Batch, r.train.Len())))
	if err != nil {
		return nil, err
	}
	if err := checkData(p, min(cfg.Batch, r.train.Len()), namedSet{"training", r.train}, namedSet{"test", r.test}, namedSet{"validation", r.val}); err != nil {
		return nil, err
	}
	r.feed = newFeeder()
	if last := r.train.Len() % cfg.Batch; r.sync != nil && !cfg.DropLast && last > 0 && last < r.world.Size() {
		return nil, fmt.Errorf("%w: synchronized batch norm across %d processes: the last batch of %d training examples in batches of %d has %d, want at least one per process (or drop_last)",
			ErrConfig, r.world.Size(), r.train.Len(), cfg.Batch, last)
	}
	if r.cfg.DropLast {
		r.spe = r.train.Len() / r.cfg.Batch
	} else {
		r.spe = (r.train.Len() + r.cfg.Batch - 1) / r.cfg.Batch
	}
	return r, nil
}

// pickSolver sets the run's solver: Options.Solver, or the one Config names.
func (r *Run) pickSolver(opt Options) error {
	if opt.Solver != nil {
		if r.cfg.Optimizer != "" {
			return fmt.Errorf("%w: Options.Solver is given and Config.Optimizer is %q: set one (clear Optimizer for a solver value)", ErrConfig, r.cfg.Optimizer)
		}
		if r.cfg.Solver != (solvers.Config{LR: r.cfg.Solver.LR}) {
			return fmt.Errorf("%w: Options.Solver is given: Config.Solver may only set LR, it is %+v", ErrConfig, r.cfg.Solver)
		}
		r.solver = opt.Solver
		return nil
	}
	if r.cfg.Optimizer == "" {
		return fmt.Errorf("%w: no solver: set Config.Optimizer (%s) or Options.Solver", ErrConfig, strings.Join(solvers.Names(), ", "))
	}
	s, err := solvers.New(r.cfg.Optimizer, r.cfg.Solver)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	r.solver = s
	return nil
}

// localBatch is rank 0's share of a global batch of n (the smallest share).
func (r *Run) localBatch(n int) int {
	if r.red == nil {
		return n
	}
	return max(1, len(shard(make([]int, n), 0, r.world.Size())))
}

// agree makes the processes of a data-parallel run end an epoch alike:
// every rank takes part in one all-reduce of its outcome (0 go on, 1 a
// callback's ErrStop, 2 a failure), so a rank that stops or fails never
// leaves the others waiting in the next step's all-reduce. When another
// rank stopped, *err becomes ErrStop here; when another failed, agree
// returns an error saying so (this rank's own failure is *err).
func (r *Run) agree(err *error) error {
	if r.red == nil {
		return nil
	}
	flag := []float64{0, 0} // ranks that stopped, ranks that failed
	switch {
	case *err == nil:
	case errors.Is(*err, ErrStop):
		flag[0] = 1
	default:
		flag[1] = 1
	}
	if e := r.world.AllReduceSum64(flag); e != nil {
		return errors.Join(*err, fmt.Errorf("train: agreeing on the end of the epoch: %w", e))
	}
	switch {
	case *err != nil && !errors.Is(*err, ErrStop):
		return *err
	case flag[1] > 0:
		return fmt.Errorf("train: %v of %d processes failed at the end of the epoch (see their errors); this one stops too", flag[1], r.world.Size())
	case flag[0] > 0 && *err == nil:
		*err = fmt.Errorf("%w: another process stopped the run", ErrStop)
	}
	return nil
}

// lr returns the learning rate of the run's current step.
func (r *Run) lr() float64 {
	if r.schedule != nil {
		return r.schedule(r.step)
	}
	base := r.cfg.Solver.LR
	if base == 0 {
		base = r.solver.LR() // the solver's default
	}
	return r.cfg.Schedule.LR(base, r.step, r.spe, r.spe*r.cfg.Epochs)
}

// scores returns the current values of the run's metrics.
func (r *Run) scores() Scores {
	s := make(Scores, len(r.metrics))
	for i, m := range r.metrics {
		s[i] = Score{m.Name(), m.Value()}
	}
	return s
}

func (r *Run) resetMetrics() {
	for _, m := range r.metrics {
		m.Reset()
	}
}

// epoch trains one epoch and evaluates.
func (r *Run) epoch(ctx context.Context, epoch int, cbs []Callback) (Epoch, error) {
	start := time.Now()
	e := Epoch{Epoch: epoch}
	n := r.train.Len()
	perm := Order(r.cfg.Seed, epoch, n)
	r.model.SetMode(graph.Train)
	r.resetMetrics()
	for s := range r.spe {
		if err := ctx.Err(); err != nil {
			return e, err
		}
		global := perm[s*r.cfg.Batch : min((s+1)*r.cfg.Batch, n)]
		idx := global
		if r.red != nil {
			idx = shard(global, r.world.Rank(), r.world.Size())
		}
		// A rank whose shard is empty (a last partial batch smaller than
		// the world) runs nothing and adds zero gradients, through the
		// program of its previous step, so that it still takes the step
		// (the first batch of an epoch is never one: Batch ≥ Size).
		prog := r.last
		var err error
		if len(idx) > 0 || prog == nil {
			if prog, err = r.model.Program(len(idx)); err != nil {
				return e, err
			}
			r.last = prog
		}
		if r.red != nil {
			prog.SetSync(r.sync)
		}
		e.LR = r.lr()
		r.solver.SetLR(e.LR)
		var b *batchBuf
		local := 0.0
		if len(idx) > 0 {
			if b, err = r.feed.fill(prog, r.train, idx); err != nil {
				return e, err
			}
			if err := prog.Run(b.feeds); err != nil {
				return e, fmt.Errorf("train: epoch %d step %d: %w", epoch, r.step, err)
			}
			local = prog.Loss()
		}
		loss := local
		if r.red != nil {
			if loss, err = r.red.reduce(prog, local, len(idx), len(global)); err != nil {
				return e, fmt.Errorf("train: epoch %d step %d: %w", epoch, r.step, err)
			}
		}
		info := Step{Epoch: epoch, Step: r.step, Examples: len(global), Loss: loss, LR: e.LR}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			for _, c := range cbs {
				c.StepEnd(r, info) // the run ends either way
			}
			return e, fmt.Errorf("%w: loss is %v at epoch %d, step %d (learning rate %g); the checkpoint of epoch %d is kept",
				ErrDiverged, loss, epoch, r.step, e.LR, epoch-1)
		}
		if b != nil {
			if err := r.update(prog, b, local, len(idx)); err != nil {
				return e, err
			}
		}
		if err := r.solver.Step(prog.Learnables()); err != nil {
			return e, fmt.Errorf("train: epoch %d step %d: %w", epoch, r.step, err)
		}
		r.step++
		for _, c := range cbs {
			if err := c.StepEnd(r, info); err != nil {
				return e, err
			}
		}
	}
	if err := r.mergeMetrics(r.metrics); err != nil {
		return e, err
	}
	e.Train = r.scores()
	if err := r.shareStates(); err != nil {
		return e, err
	}
	evals := []struct {
		d   datasets.Dataset
		dst *Scores
	}{{r.test, &e.Test}, {r.val, &e.Val}}
	if r.cfg.EvalTrain {
		evals = append(evals, struct {
			d   datasets.Dataset
			dst *Scores
		}{r.train, &e.Train})
	}
	for _, ev := range evals {
		if ev.d == nil {
			continue
		}
		if err := r.evaluate(ev.d, ev.dst); err != nil {
			return e, err
		}
	}
	e.Seconds = time.Since(start).Seconds()
	return e, nil
}

// evaluate scores d into *dst. In a data-parallel run each rank evaluates
// its shard of d (a contiguous run, in batches of its share of
// Config.Batch) and the metrics are merged, so every rank gets the
// metrics of the whole set.
func (r *Run) evaluate(d datasets.Dataset, dst *Scores) error {
	from, to, batch := 0, d.Len(), r.cfg.Batch
	if r.red != nil {
		k, rank := r.world.Size(), r.world.Rank()
		from, to, batch = rank*to/k, (rank+1)*to/k, r.localBatch(batch)
	}
	if _, err := evaluate(r.model, r.feed, d, from, to, batch, r.metrics); err != nil {
		return err
	}
	if err := r.mergeMetrics(r.metrics); err != nil {
		return err
	}
	*dst = r.scores()
	return nil
}

// update feeds the batch just run to every metric.
func (r *Run) update(p *graph.Program, b *batchBuf, loss float64, n int) error {
	return updateMetrics(r.metrics, p, b, loss, n)
}
