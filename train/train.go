package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/solvers"
)

// shuffleStream is the PCG stream of epoch 0's permutation; epoch e uses shuffleStream+e.
const shuffleStream = 0x5eed0000

// CheckpointFile is the name of the checkpoint in the output directory.
const CheckpointFile = "checkpoint.safetensors"

// Options control a run's outputs; they do not change its numbers.
type Options struct {
	Out      string    // output directory (metrics.csv, curves.png, config.json, checkpoint); "" writes nothing
	Resume   bool      // continue from Out/checkpoint.safetensors
	Log      io.Writer // one line per epoch; nil for none
	Progress io.Writer // a progress bar per epoch (use only on a terminal); nil for none
}

// Epoch holds one row of metrics.csv (and validation numbers when a
// validation set is held out).
type Epoch struct {
	Epoch               int
	TrainLoss, TrainAcc float64
	TestLoss, TestAcc   float64
	ValLoss, ValAcc     float64 // NaN without a validation set
	LR                  float64 // learning rate of the epoch's last step
	Seconds             float64 // wall time of training and evaluation
}

// Result is what a run produced.
type Result struct {
	Epochs  []Epoch
	Stopped string // why the run ended early ("early stopping: …"), or ""
}

// Data is the training and test data of a run.
type Data struct {
	Train, Test *mnist.Dataset
}

// run is the state of a run that a checkpoint saves.
type run struct {
	cfg     Config
	model   *mlp.Model
	solver  solvers.Solver
	train   *mnist.Dataset
	val     *mnist.Dataset // nil without validation
	test    *mnist.Dataset
	scaling mnist.Scaling
	feed    feeder
	history []Epoch
	best    float64 // best validation loss
	bad     int     // epochs since it improved
	step    int     // global step
}

// Train runs cfg on data. It validates everything before any work starts;
// on a NaN or infinite loss it stops with ErrDiverged and leaves the last
// good checkpoint in place.
func Train(ctx context.Context, cfg Config, data Data, opt Options) (*Result, error) {
	r, err := newRun(cfg, data)
	if err != nil {
		return nil, err
	}
	defer r.model.Close()
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
	for epoch := len(r.history) + 1; epoch <= r.cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		e, err := r.epoch(ctx, epoch, opt.Progress)
		if err != nil {
			return res, err
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
		if r.cfg.Patience > 0 && r.bad >= r.cfg.Patience {
			res.Stopped = fmt.Sprintf("early stopping: validation loss has not improved on %.6f for %d epochs", r.best, r.bad)
			if opt.Log != nil {
				fmt.Fprintln(opt.Log, res.Stopped)
			}
			break
		}
	}
	return res, nil
}

func newRun(cfg Config, data Data) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data.Train == nil || data.Test == nil {
		return nil, fmt.Errorf("%w: training and test data are required", ErrConfig)
	}
	cfg.Model.Seed = cfg.Seed
	r := &run{cfg: cfg, test: data.Test, train: data.Train, best: math.Inf(1)}
	r.scaling, _ = mnist.ParseScaling(cfg.Scaling)
	var err error
	if cfg.TrainLimit > 0 && cfg.TrainLimit < r.train.N {
		if r.train, err = r.train.Slice(0, cfg.TrainLimit); err != nil {
			return nil, err
		}
	}
	if cfg.TestLimit > 0 && cfg.TestLimit < r.test.N {
		if r.test, err = r.test.Slice(0, cfg.TestLimit); err != nil {
			return nil, err
		}
	}
	if cfg.Validation > 0 {
		if cfg.Validation >= r.train.N {
			return nil, fmt.Errorf("%w: validation = %d leaves no training data (%d examples)", ErrConfig, cfg.Validation, r.train.N)
		}
		if r.train, r.val, err = r.train.Split(cfg.Validation, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if f := r.train.Features(); f != cfg.Model.Inputs {
		return nil, fmt.Errorf("%w: the data has %d features per example, the model takes %d", ErrConfig, f, cfg.Model.Inputs)
	}
	if r.model, err = mlp.New(cfg.Model); err != nil {
		return nil, err
	}
	if r.solver, err = solvers.New(cfg.Optimizer, cfg.Solver); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// Build the full-batch program now: it creates the parameters.
	if _, err := r.model.Program(min(cfg.Batch, r.train.N)); err != nil {
		return nil, err
	}
	r.feed = newFeeder(r.model.Dtype())
	return r, nil
}

func (r *run) stepsPerEpoch() int { return (r.train.N + r.cfg.Batch - 1) / r.cfg.Batch }

// epoch trains one epoch and evaluates.
func (r *run) epoch(ctx context.Context, epoch int, progress io.Writer) (Epoch, error) {
	start := time.Now()
	e := Epoch{Epoch: epoch, ValLoss: math.NaN(), ValAcc: math.NaN()}
	perm := rand.New(rand.NewPCG(r.cfg.Seed, shuffleStream+uint64(epoch))).Perm(r.train.N)
	spe := r.stepsPerEpoch()
	total := spe * r.cfg.Epochs
	base := r.cfg.Solver.LR
	if base == 0 {
		base = r.solver.LR() // the solver's default
	}
	bar := newBar(progress, r.train.N, fmt.Sprintf("epoch %d/%d", epoch, r.cfg.Epochs))
	r.model.SetMode(graph.Train)
	var sumLoss float64
	var correct, seen int
	for lo := 0; lo < r.train.N; lo += r.cfg.Batch {
		if err := ctx.Err(); err != nil {
			return e, err
		}
		idx := perm[lo:min(lo+r.cfg.Batch, r.train.N)]
		prog, err := r.model.Program(len(idx))
		if err != nil {
			return e, err
		}
		feeds, labels, err := r.feed.fill(r.train, idx, r.scaling)
		if err != nil {
			return e, err
		}
		e.LR = r.cfg.Schedule.LR(base, r.step, spe, total)
		r.solver.SetLR(e.LR)
		if err := prog.Run(feeds); err != nil {
			return e, fmt.Errorf("train: epoch %d step %d: %w", epoch, r.step, err)
		}
		loss := prog.Loss()
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return e, fmt.Errorf("%w: loss is %v at epoch %d, step %d (learning rate %g); the checkpoint of epoch %d is kept",
				ErrDiverged, loss, epoch, r.step, e.LR, epoch-1)
		}
		c, err := r.feed.correct(prog.Output(0), labels)
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
	}
	bar.finish()
	e.TrainLoss, e.TrainAcc = sumLoss/float64(seen), float64(correct)/float64(seen)
	var err error
	if e.TestLoss, e.TestAcc, _, err = r.evaluate(r.test); err != nil {
		return e, err
	}
	if r.val != nil {
		if e.ValLoss, e.ValAcc, _, err = r.evaluate(r.val); err != nil {
			return e, err
		}
	}
	e.Seconds = time.Since(start).Seconds()
	return e, nil
}

// evaluate runs d through the model in Eval mode and returns the mean loss,
// the accuracy and the confusion matrix (rows: true class, columns: predicted).
func (r *run) evaluate(d *mnist.Dataset) (loss, acc float64, confusion [][]int, err error) {
	return evaluate(r.model, r.feed, d, r.scaling, r.cfg.Batch)
}

func evaluate(m *mlp.Model, f feeder, d *mnist.Dataset, s mnist.Scaling, batch int) (loss, acc float64, confusion [][]int, err error) {
	m.SetMode(graph.Eval)
	defer m.SetMode(graph.Train)
	k := m.Config().Classes
	confusion = make([][]int, k)
	for i := range confusion {
		confusion[i] = make([]int, k)
	}
	idx := make([]int, batch)
	pred := make([]int, batch)
	var sum float64
	correct := 0
	for lo := 0; lo < d.N; lo += batch {
		n := min(batch, d.N-lo)
		for i := range n {
			idx[i] = lo + i
		}
		prog, err := m.Program(n)
		if err != nil {
			return 0, 0, nil, err
		}
		feeds, labels, err := f.fill(d, idx[:n], s)
		if err != nil {
			return 0, 0, nil, err
		}
		if err := prog.Run(feeds); err != nil {
			return 0, 0, nil, fmt.Errorf("train: evaluate: %w", err)
		}
		sum += prog.Loss() * float64(n)
		if err := mlp.Predict(prog.Output(0), pred[:n]); err != nil {
			return 0, 0, nil, err
		}
		for i, y := range labels {
			if y >= 0 && y < k {
				confusion[y][pred[i]]++
			}
			if pred[i] == y {
				correct++
			}
		}
	}
	if d.N == 0 {
		return math.NaN(), math.NaN(), confusion, nil
	}
	return sum / float64(d.N), float64(correct) / float64(d.N), confusion, nil
}

func (e Epoch) line(epochs int) string {
	s := fmt.Sprintf("epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%",
		e.Epoch, epochs, e.TrainLoss, 100*e.TrainAcc, e.TestLoss, 100*e.TestAcc)
	if !math.IsNaN(e.ValLoss) {
		s += fmt.Sprintf("  val loss %.4f acc %.2f%%", e.ValLoss, 100*e.ValAcc)
	}
	return s + fmt.Sprintf("  lr %.3g  %.1fs", e.LR, e.Seconds)
}

// feeder fills a batch's feeds from a dataset, reusing one buffer per batch
// size, and counts correct predictions.
type feeder interface {
	fill(d *mnist.Dataset, idx []int, s mnist.Scaling) (graph.Feeds, []int, error)
	correct(logits any, labels []int) (int, error)
}

func newFeeder(dt tensor.Dtype) feeder {
	if dt == tensor.Float64 {
		return &batches[float64]{bufs: map[int]*batchBuf[float64]{}}
	}
	return &batches[float32]{bufs: map[int]*batchBuf[float32]{}}
}

type batchBuf[T float32 | float64] struct {
	x     []T
	y     []int
	pred  []int
	feeds graph.Feeds
}

type batches[T float32 | float64] struct {
	bufs map[int]*batchBuf[T]
	last *batchBuf[T]
}

func (b *batches[T]) fill(d *mnist.Dataset, idx []int, s mnist.Scaling) (graph.Feeds, []int, error) {
	n, f := len(idx), d.Features()
	buf, ok := b.bufs[n]
	if !ok || len(buf.x) != n*f {
		buf = &batchBuf[T]{x: make([]T, n*f), y: make([]int, n), pred: make([]int, n)}
		buf.feeds = graph.Feeds{
			"x": tensor.New(tensor.WithShape(n, f), tensor.WithBacking(buf.x)),
			"y": tensor.New(tensor.WithShape(n), tensor.WithBacking(buf.y)),
		}
		b.bufs[n] = buf
	}
	if err := mnist.Gather(d, idx, s, buf.x, buf.y); err != nil {
		return nil, nil, err
	}
	b.last = buf
	return buf.feeds, buf.y, nil
}

func (b *batches[T]) correct(logits any, labels []int) (int, error) {
	v, ok := logits.(tensor.Tensor)
	if !ok || b.last == nil || len(b.last.pred) != len(labels) {
		return 0, errors.New("train: logits do not match the last batch")
	}
	if err := mlp.Predict(v, b.last.pred); err != nil {
		return 0, err
	}
	c := 0
	for i, y := range labels {
		if b.last.pred[i] == y {
			c++
		}
	}
	return c, nil
}
