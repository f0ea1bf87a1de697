// Command gradlab trains and evaluates networks on MNIST and regenerates the
// lecture's figures.
//
//	gradlab train [flags]              train an MLP on MNIST (see gradlab train -h)
//	gradlab evaluate -model CKPT       test accuracy and confusion matrix of a checkpoint
//	gradlab predict -model CKPT FILE…  classify PNG/JPEG images of digits
//	gradlab export -model CKPT -o F    write the model as an ONNX file
//	gradlab summary -model CKPT        layers, training configuration and last metrics
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
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/models/cnn"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
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
  gradlab predict -model CKPT FILE…
                                 classify PNG/JPEG images (any size) as digits
  gradlab export -model CKPT -o FILE.onnx
                                 write the model as ONNX (for ONNX Runtime and others)
  gradlab summary -model CKPT    layer table, training configuration, epoch and metrics
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
	case "evaluate":
		return runEvaluate(args[1:], stdout, stderr)
	case "predict":
		return runPredict(args[1:], stdout, stderr)
	case "export":
		return runExport(args[1:], stdout, stderr)
	case "summary":
		return runSummary(args[1:], stdout, stderr)
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

// mnistData is the data spec of a run on MNIST: how pixels were scaled.
type mnistData struct {
	Scaling string `json:"scaling"`
}

// loadData loads MNIST from dir (or the default data) with the spec's scaling.
func loadData(dir string, spec train.Spec) (train.Data, error) {
	if spec.Name != "mnist" {
		return train.Data{}, fmt.Errorf("data %q: only mnist is known", spec.Name)
	}
	var md mnistData
	if err := spec.Decode(&md); err != nil {
		return train.Data{}, err
	}
	s, err := mnist.ParseScaling(md.Scaling)
	if err != nil {
		return train.Data{}, err
	}
	var tr, te *mnist.Dataset
	if dir != "" {
		tr, te, err = mnist.Load(dir)
	} else {
		tr, te, err = mnist.LoadDefault()
	}
	if err != nil {
		return train.Data{}, err
	}
	tr.Scaling, te.Scaling = s, s
	return train.Data{Train: tr, Test: te}, nil
}

// buildModel builds the model a run configuration names.
func buildModel(cfg train.Config) (*nn.Model, error) {
	return models.Build(cfg.Model.Name, cfg.Model.Config, cfg.Seed)
}

func parseInts(flag, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%s %q: %q is not a positive integer", flag, s, f)
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
		model    = fs.String("model", "mlp", "model: "+strings.Join(models.Names(), ", "))
		hidden   = fs.String("hidden", "", "hidden dense layer sizes, comma-separated (default: mlp 512,256; cnn 128)")
		conv     = fs.String("conv", "", "cnn: output channels per convolution block, comma-separated (default 16,32)")
		kernel   = fs.Int("kernel", 0, "cnn: odd kernel size of the convolutions (default 5)")
		shift    = fs.Int("shift", 0, "cnn: data augmentation, random shifts of up to N pixels in training; 0 = off")
		act      = fs.String("act", "", "mlp: activation: "+strings.Join(mlp.Activations, ", ")+" (default relu)")
		winit    = fs.String("init", "", "mlp: weight initializer: "+strings.Join(initializers.Names(), ", ")+" (default he)")
		bn       = fs.Bool("bn", false, "batch normalization after each hidden layer (mlp) or convolution (cnn); default on for both")
		dropout  = fs.Float64("dropout", 0, "dropout (drop probability) after each hidden dense layer, 0 ≤ p < 1 (default: mlp 0.3, cnn 0.3)")
		dtype    = fs.String("dtype", "", "float32 or float64 (default float32)")
		momentum = fs.Float64("momentum", 0, "momentum (momentum, nesterov, rmsprop); 0 = the solver's default")
		wd       = fs.Float64("wd", cfg.Solver.DecoupledDecay, "weight decay: decoupled for adamw and lion, coupled L2 for the others (default 0.05 with the default adamw, else 0)")
		scaling  = fs.String("scaling", "standardize", "pixel scaling: unit, symmetric, standardize")
	)
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size (the last partial batch is used)")
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
	fs.IntVar(&cfg.TrainLimit, "train-limit", 0, "use only the first N training images; 0 = all")
	fs.IntVar(&cfg.TestLimit, "test-limit", 0, "use only the first N test images; 0 = all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// notFor refuses the flags that mean nothing to the chosen model.
	notFor := func(name string, flags ...string) error {
		for _, f := range flags {
			if set[f] {
				return fmt.Errorf("train: -%s does not apply to -model %s", f, name)
			}
		}
		return nil
	}
	var (
		mcfg  any
		units []int
		err   error
	)
	if set["hidden"] {
		if units, err = parseInts("-hidden", *hidden); err != nil {
			return err
		}
	}
	// shared applies the flags both models take; buildModel validates the
	// result before any data is read.
	shared := func(hiddenLayers *[]int, batchNorm *bool, drop *float64, dt *string, seed *uint64) {
		apply(set, "hidden", hiddenLayers, units)
		apply(set, "bn", batchNorm, *bn)
		apply(set, "dropout", drop, *dropout)
		apply(set, "dtype", dt, *dtype)
		*seed = cfg.Seed
	}
	switch *model {
	case "mlp":
		if err := notFor("mlp", "conv", "kernel", "shift"); err != nil {
			return err
		}
		c := mlp.Default()
		shared(&c.Hidden, &c.BatchNorm, &c.Dropout, &c.Dtype, &c.Seed)
		apply(set, "act", &c.Activation, *act)
		apply(set, "init", &c.Init, *winit)
		mcfg = c
	case "cnn":
		if err := notFor("cnn", "act", "init"); err != nil {
			return err
		}
		c := cnn.Default()
		if set["conv"] {
			if c.Conv, err = parseInts("-conv", *conv); err != nil {
				return err
			}
		}
		shared(&c.Dense, &c.BatchNorm, &c.Dropout, &c.Dtype, &c.Seed)
		apply(set, "kernel", &c.Kernel, *kernel)
		apply(set, "shift", &c.Shift, *shift)
		mcfg = c
	default:
		return fmt.Errorf("train: -model %q: %w; the models are %s", *model, models.ErrUnknown, strings.Join(models.Names(), ", "))
	}
	cfg.Solver.Momentum = *momentum
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
	if _, err := mnist.ParseScaling(*scaling); err != nil {
		return fmt.Errorf("train: -scaling: %w", err)
	}
	if cfg.Model, err = train.NewSpec(*model, mcfg); err != nil {
		return err
	}
	if cfg.Data, err = train.NewSpec("mnist", mnistData{Scaling: *scaling}); err != nil {
		return err
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
	m, err := buildModel(cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := loadData(*data, cfg.Data)
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
	if _, err := m.Program(min(cfg.Batch, limit(d.Train.Len(), cfg.TrainLimit)-cfg.Validation)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gradlab train: %d train / %d test images, model %s (%s parameters), %s lr %g, %d epochs of batch %d → %s\n",
		limit(d.Train.Len(), cfg.TrainLimit)-cfg.Validation, limit(d.Test.Len(), cfg.TestLimit), describe(cfg.Model),
		thousands(m.ParamCount()), cfg.Optimizer, cfg.Solver.LR, cfg.Epochs, cfg.Batch, *out)
	res, err := train.Train(ctx, cfg, m, d, opt)
	if err != nil {
		return err
	}
	if n := len(res.Epochs); n > 0 {
		fmt.Fprintf(stdout, "final test accuracy %.2f%% after %d epochs; metrics.csv, curves.png and %s in %s\n",
			100*res.Epochs[n-1].Test.Get("acc"), n, train.CheckpointFile, *out)
	}
	return nil
}

// apply sets *dst to v when the flag was given.
func apply[T any](set map[string]bool, flag string, dst *T, v T) {
	if set[flag] {
		*dst = v
	}
}

// describe names a model spec briefly: mlp 784-[512 256]-10 relu.
func describe(s train.Spec) string {
	var m mlp.Config
	var c cnn.Config
	switch {
	case s.Name == "mlp" && s.Decode(&m) == nil:
		return fmt.Sprintf("mlp %d-%v-%d %s", m.Inputs, m.Hidden, m.Classes, m.Activation)
	case s.Name == "cnn" && s.Decode(&c) == nil:
		return c.Name()
	}
	return s.Name
}

// thousands renders n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func savedConfig(dir string) (train.Config, error) {
	_, cfg, err := train.ReadCheckpoint(dir + "/" + train.CheckpointFile)
	return cfg, err
}

// loadCheckpoint rebuilds the model of the checkpoint at path and restores
// its parameters and states; it also returns the file, for its metadata.
func loadCheckpoint(path string) (*nn.Model, train.Config, *checkpoint.File, error) {
	f, cfg, err := train.ReadCheckpoint(path)
	if err != nil {
		return nil, cfg, nil, err
	}
	m, err := buildModel(cfg)
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := m.Program(cfg.Batch); err != nil {
		m.Close()
		return nil, cfg, nil, err
	}
	if err := train.RestoreModel(m, f); err != nil {
		m.Close()
		return nil, cfg, nil, fmt.Errorf("%w (%s)", err, path)
	}
	return m, cfg, f, nil
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "runs/mnist/"+train.CheckpointFile, "checkpoint to evaluate")
	data := fs.String("data", "", "MNIST directory; default $"+mnist.EnvDir+" or the GoMNIST module's data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, cfg, _, err := loadCheckpoint(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := loadData(*data, cfg.Data)
	if err != nil {
		return err
	}
	ev, err := train.Evaluate(m, d.Test, cfg.Batch)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	fmt.Fprintf(stdout, "%s: test loss %.4f, accuracy %.2f%% (%d images)\n", *model, ev.Scores.Get("loss"), 100*ev.Scores.Get("acc"), ev.N)
	fmt.Fprint(stdout, ev.ConfusionTable())
	return nil
}
