// Command gradlab trains and evaluates networks on MNIST and regenerates the
// lecture's figures.
//
//	gradlab train [flags]              train an MLP on MNIST (see gradlab train -h)
//	gradlab evaluate -model CKPT       test accuracy and confusion matrix of a checkpoint
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gradlab:", err)
		}
		os.Exit(1)
	}
}

const usage = `gradlab trains neural networks on MNIST with gradlab's solvers,
initializers, batch normalization and dropout.

Usage:
  gradlab train [flags]          train an MLP; gradlab train -h lists the flags
  gradlab evaluate -model CKPT   print test accuracy and the confusion matrix
  gradlab experiment <name>      regenerate the lecture's figures (gradlab experiment -h)
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "train":
		return runTrain(ctx, args[1:], stdout, stderr)
	case "experiment":
		return runExperiment(ctx, args[1:], stdout, stderr)
	case "evaluate", "predict":
		return runEvaluate(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// isTerminal reports whether w is a terminal (progress bars only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func loadData(dir string) (train.Data, error) {
	var tr, te *mnist.Dataset
	var err error
	if dir != "" {
		tr, te, err = mnist.Load(dir)
	} else {
		tr, te, err = mnist.LoadDefault()
	}
	return train.Data{Train: tr, Test: te}, err
}

func parseInts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-hidden %q: %q is not a positive integer", s, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := train.Default()
	fs := flag.NewFlagSet("gradlab train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		data     = fs.String("data", "", "MNIST directory (IDX files, gzip or raw); default $"+mnist.EnvDir+" or the GoMNIST module's data")
		out      = fs.String("out", "runs/mnist", "output directory: metrics.csv, curves.png, config.json, "+train.CheckpointFile)
		resume   = fs.Bool("resume", false, "continue the run in -out from its checkpoint (its saved configuration; -epochs may extend it)")
		hidden   = fs.String("hidden", "512,256", "hidden layer sizes, comma-separated")
		momentum = fs.Float64("momentum", 0, "momentum (momentum, nesterov, rmsprop); 0 = the solver's default")
		wd       = fs.Float64("wd", cfg.Solver.DecoupledDecay, "weight decay: decoupled for adamw and lion, coupled L2 for the others (default 0.05 with the default adamw, else 0)")
	)
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size (the last partial batch is used)")
	fs.StringVar(&cfg.Model.Activation, "act", cfg.Model.Activation, "activation: "+strings.Join(mlp.Activations, ", "))
	fs.StringVar(&cfg.Model.Init, "init", cfg.Model.Init, "weight initializer: "+strings.Join(initializers.Names(), ", "))
	fs.BoolVar(&cfg.Model.BatchNorm, "bn", cfg.Model.BatchNorm, "batch normalization after each hidden layer")
	fs.Float64Var(&cfg.Model.Dropout, "dropout", cfg.Model.Dropout, "dropout (drop probability) after each hidden layer, 0 ≤ p < 1")
	fs.StringVar(&cfg.Model.Dtype, "dtype", cfg.Model.Dtype, "float32 or float64")
	fs.StringVar(&cfg.Optimizer, "opt", cfg.Optimizer, "optimizer: "+strings.Join(solvers.Names(), ", "))
	fs.Float64Var(&cfg.Solver.LR, "lr", cfg.Solver.LR, "base learning rate")
	fs.StringVar(&cfg.Schedule.Kind, "schedule", cfg.Schedule.Kind, "learning-rate schedule: "+strings.Join(train.ScheduleKinds, ", "))
	fs.IntVar(&cfg.Schedule.StepEpochs, "step-epochs", 3, "step schedule: decay every N epochs")
	fs.Float64Var(&cfg.Schedule.Gamma, "gamma", 0.1, "step schedule: decay factor")
	fs.IntVar(&cfg.Schedule.WarmupSteps, "warmup", 0, "linear warm-up steps")
	fs.Float64Var(&cfg.Solver.ClipNorm, "clip", 0, "clip gradients to this global L2 norm; 0 = off")
	fs.Float64Var(&cfg.Solver.ClipValue, "clip-value", 0, "clip each gradient element to ±this; 0 = off")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for initialization, dropout and shuffling")
	fs.IntVar(&cfg.Validation, "val", 0, "training examples held out for validation (early stopping)")
	fs.IntVar(&cfg.Patience, "patience", 0, "stop after this many epochs without validation-loss improvement; 0 = off (needs -val)")
	fs.StringVar(&cfg.Scaling, "scaling", cfg.Scaling, "pixel scaling: unit, symmetric, standardize")
	fs.IntVar(&cfg.TrainLimit, "train-limit", 0, "use only the first N training images; 0 = all")
	fs.IntVar(&cfg.TestLimit, "test-limit", 0, "use only the first N test images; 0 = all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.Model.Hidden, err = parseInts(*hidden); err != nil {
		return err
	}
	cfg.Solver.Momentum = *momentum
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	decay := *wd
	if !set["wd"] && cfg.Optimizer != train.Default().Optimizer {
		decay = 0 // the default decay belongs to the default optimizer
	}
	cfg.Solver.DecoupledDecay, cfg.Solver.WeightDecay = 0, 0
	switch cfg.Optimizer {
	case "adamw", "lion":
		cfg.Solver.DecoupledDecay = decay
	default:
		cfg.Solver.WeightDecay = decay
	}
	if cfg.Schedule.Kind != "step" { // the step fields mean nothing to other schedules
		cfg.Schedule.StepEpochs, cfg.Schedule.Gamma = 0, 0
	}
	if *resume {
		saved, err := savedConfig(*out)
		if err != nil {
			return err
		}
		saved.Epochs = cfg.Epochs
		cfg = saved
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := loadData(*data)
	if err != nil {
		return err
	}
	opt := train.Options{Out: *out, Resume: *resume, Log: stdout}
	if isTerminal(stdout) {
		opt.Progress = stdout
	}
	limit := func(n, l int) int {
		if l > 0 {
			return min(n, l)
		}
		return n
	}
	fmt.Fprintf(stdout, "gradlab train: %d train / %d test images, model %d-%v-%d %s, %s lr %g, %d epochs of batch %d → %s\n",
		limit(d.Train.N, cfg.TrainLimit)-cfg.Validation, limit(d.Test.N, cfg.TestLimit), cfg.Model.Inputs, cfg.Model.Hidden,
		cfg.Model.Classes, cfg.Model.Activation, cfg.Optimizer, cfg.Solver.LR, cfg.Epochs, cfg.Batch, *out)
	res, err := train.Train(ctx, cfg, d, opt)
	if err != nil {
		return err
	}
	if n := len(res.Epochs); n > 0 {
		fmt.Fprintf(stdout, "final test accuracy %.2f%% after %d epochs; metrics.csv, curves.png and %s in %s\n",
			100*res.Epochs[n-1].TestAcc, n, train.CheckpointFile, *out)
	}
	return nil
}

func savedConfig(dir string) (train.Config, error) {
	f, err := checkpoint.Read(dir + "/" + train.CheckpointFile)
	if err != nil {
		return train.Config{}, err
	}
	return train.ConfigOf(f)
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "runs/mnist/"+train.CheckpointFile, "checkpoint to evaluate")
	data := fs.String("data", "", "MNIST directory; default $"+mnist.EnvDir+" or the GoMNIST module's data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ev, err := train.EvaluateCheckpoint(*model, func() (*mnist.Dataset, error) {
		d, err := loadData(*data)
		return d.Test, err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: test loss %.4f, accuracy %.2f%% (%d images)\n", *model, ev.Loss, 100*ev.Accuracy, ev.N)
	fmt.Fprint(stdout, ev.ConfusionTable())
	return nil
}
