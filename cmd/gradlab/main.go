// Command gradlab trains and evaluates networks on MNIST or on a table (a
// CSV file) and regenerates the lecture's figures.
//
//	gradlab train [flags]              train a model: an MLP on MNIST by default, -model cnn, or -data FILE.csv -target COL (see gradlab train -h)
//	gradlab evaluate -model CKPT       test metrics (and the confusion matrix of a classifier) of a checkpoint
//	gradlab predict -model CKPT FILE…  classify PNG/JPEG images of digits, or predict the rows of CSV files
//	gradlab export -model CKPT -o F    write the model as an ONNX file
//	gradlab generate -model CKPT       continue a prompt with a charlm (train -model charlm)
//	gradlab summary -model CKPT        layers, columns, training configuration and last metrics
//	gradlab experiment <name>          regenerate the lecture's figures
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/datasets/table"
	"github.com/gradlab/gradlab/internal/mpi"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/models"
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

const usage = `gradlab trains neural networks on MNIST or on your own table
(CSV) with gradlab's solvers, initializers, batch normalization and dropout.

Usage:
  gradlab train [flags]          train a model (an MLP on MNIST by default; -model cnn;
                                 -data FILE.csv -target COL for a table); -h lists the flags
  gradlab evaluate -model CKPT [-data FILE.csv]
                                 print the test metrics (and a classifier's confusion matrix)
  gradlab predict -model CKPT FILE…
                                 classify PNG/JPEG images (any size) as digits, or append
                                 the predictions to the rows of CSV files (a table's model)
  gradlab export -model CKPT -o FILE.onnx
                                 write the model as ONNX (for ONNX Runtime and others)
  gradlab summary -model CKPT    layer table, training configuration, epoch and metrics
  gradlab generate -model CKPT -prompt TEXT -n 400 [-temperature 0.8 -top-k 0 -seed 1]
                                 continue a prompt with a character-level language model
                                 (gradlab train -model charlm [-text FILE])
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
	case "generate":
		return runGenerate(args[1:], stdout, stderr)
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

// underLauncher reports whether an MPI launcher (OpenMPI's mpirun, or a
// PMI one such as Slurm's srun) started this process. mpirun gives every
// rank's stdout a pseudo-terminal even when its own output goes to a file,
// so a progress bar there would fill the log with redraws: under a launcher
// the run logs its epoch lines only.
func underLauncher() bool {
	return os.Getenv("OMPI_COMM_WORLD_SIZE") != "" || os.Getenv("PMI_SIZE") != ""
}

// mnistData is the data spec of a run on MNIST: how pixels were scaled.
type mnistData struct {
	Scaling string `json:"scaling"`
}

// loadData loads the data of cfg.Data: MNIST from dir (or the default
// data) with its scaling, or the table its csv spec names. For a table it
// completes cfg: the spec gets the encoder fitted on the training rows and,
// with fit, the model's configuration what it takes from the training data.
func loadData(dir string, cfg *train.Config, fit bool) (train.Data, error) {
	if cfg.Data.Name == "text" {
		return loadText(cfg, fit)
	}
	spec, ok, err := csvSpec(cfg.Data)
	if err != nil {
		return train.Data{}, err
	}
	if ok {
		d, spec, err := loadTable(spec, cfg.Seed)
		if err != nil {
			return d, err
		}
		if cfg.Data, err = train.NewSpec("csv", spec); err != nil {
			return d, err
		}
		if fit {
			// The rows train.Train will train on: its -train-limit, then
			// without its validation split (no statistics from held-out rows).
			rows := d.Train
			if cfg.TrainLimit > 0 {
				if rows, err = datasets.Head(rows, cfg.TrainLimit); err != nil {
					return d, err
				}
			}
			if cfg.Validation > 0 && cfg.Validation < rows.Len() {
				if rows, _, err = datasets.Split(rows, cfg.Validation, cfg.Seed); err != nil {
					return d, err
				}
			}
			if cfg.Model.Config, err = models.Fit(cfg.Model.Name, cfg.Model.Config, rows); err != nil {
				return d, err
			}
		}
		return d, nil
	}
	return loadMNIST(dir, cfg.Data)
}

// loadMNIST loads MNIST from dir (or the default data) with the spec's scaling.
func loadMNIST(dir string, spec train.Spec) (train.Data, error) {
	if spec.Name != "mnist" {
		return train.Data{}, fmt.Errorf("data %q: only mnist and csv are known", spec.Name)
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

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, folds, err := f.config()
	if err != nil {
		return err
	}
	if folds != nil {
		return runFolds(ctx, cfg, *folds, *f.tf.folds, *f.out, stdout)
	}
	if *f.resume {
		saved, err := savedConfig(*f.out)
		if err != nil {
			return err
		}
		if err := resumeConflicts(f.set, cfg, saved); err != nil {
			return err
		}
		if cfg.Epochs != saved.Epochs {
			fmt.Fprintf(stdout, "gradlab train: resuming %s with -epochs %d (the run was started for %d)\n", *f.out, cfg.Epochs, saved.Epochs)
		}
	}
	return trainRun(ctx, cfg, *f.data, *f.out, runOpts{Resume: *f.resume, SyncBN: *f.syncBN}, stdout)
}

// trainFlags are gradlab train's parsed flags: the configuration they set
// directly, the ones read when the run is configured, and which were set.
type trainFlags struct {
	cfg                       train.Config
	set                       map[string]bool
	data, out, model, scaling *string
	resume, syncBN            *bool
	momentum, wd              *float64
	modelConfig               func(model string, seed uint64) (json.RawMessage, error)
	tf                        csvFlags
	cf                        charlmFlags
}

// parseTrainFlags defines and parses gradlab train's flags.
func parseTrainFlags(args []string, stderr io.Writer) (*trainFlags, error) {
	f := &trainFlags{cfg: train.Default(), set: map[string]bool{}}
	cfg := &f.cfg
	fs := flag.NewFlagSet("gradlab train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.data = fs.String("data", "", "MNIST directory (IDX files, gzip or raw; default $"+mnist.EnvDir+" or the GoMNIST module's data), or a table: a CSV file (with -target)")
	f.out = fs.String("out", "runs/mnist", "output directory: metrics.csv, curves.png, config.json, "+train.CheckpointFile)
	f.resume = fs.Bool("resume", false, "continue the run in -out from its checkpoint (its saved configuration; -epochs may extend it)")
	f.syncBN = fs.Bool("sync-bn", false, "under mpirun: synchronized batch norm (statistics of the global batch, PyTorch's SyncBatchNorm); default per-rank statistics (PyTorch DDP's default)")
	f.model = fs.String("model", "mlp", "model: "+modelList())
	f.momentum = fs.Float64("momentum", 0, "momentum (momentum, nesterov, rmsprop); 0 = the solver's default")
	f.wd = fs.Float64("wd", cfg.Solver.DecoupledDecay, "weight decay: decoupled for adamw and lion, coupled L2 for the others (default 0.05 with the default adamw, 3 for a table, else 0)")
	f.scaling = fs.String("scaling", "standardize", "pixel scaling: unit, symmetric, standardize")
	f.modelConfig = models.Flags(fs) // every model's own flags
	f.tf = addCSVFlags(fs)
	f.cf = addCharlmFlags(fs)
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
	fs.IntVar(&cfg.Patience, "patience", 0, "stop after this many epochs without improvement of -monitor; 0 = off (needs -val)")
	fs.StringVar(&cfg.Monitor, "monitor", "", "the metrics.csv column early stopping watches, e.g. val_acc (default val_loss)")
	fs.IntVar(&cfg.TrainLimit, "train-limit", 0, "use only the first N training images; 0 = all")
	fs.IntVar(&cfg.TestLimit, "test-limit", 0, "use only the first N test images; 0 = all")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("train: unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return f, nil
}

// config returns the run's configuration from the flags: the data's kind
// (MNIST, a table, a text) and its defaults, the model's configuration, the
// solver's decay. For -folds it returns the table's spec to split instead.
func (f *trainFlags) config() (train.Config, *csvData, error) {
	cfg, set, tf, cf := f.cfg, f.set, f.tf, f.cf
	data, out, model, wd, scaling, resume := f.data, f.out, f.model, f.wd, f.scaling, f.resume
	if *cf.text != "" && !set["model"] {
		*model = "charlm"
	}
	lm := *model == "charlm"
	if !lm && (set["text"] || set["binary"]) {
		return cfg, nil, errors.New("train: -text and -binary are for -model charlm")
	}
	tabular := *tf.target != "" || isTable(*data)
	if tabular {
		if !set["model"] {
			*model = "tabular"
		}
		tabularDefaults.apply(set, &cfg, out, wd)
		if set["scaling"] {
			return cfg, nil, errors.New("train: -scaling is MNIST's pixel scaling; a table's features are standardized by the model")
		}
		if *tf.target == "" {
			return cfg, nil, fmt.Errorf("train: -data %s is a table: name its target column with -target", *data)
		}
	} else {
		for _, name := range []string{"task", "test", "delim", "ignore", "categorical", "missing", "test-frac", "skip", "folds", "no-header", "impute"} {
			if set[name] {
				return cfg, nil, fmt.Errorf("train: -%s is for a table (-data FILE.csv -target COL)", name)
			}
		}
	}
	mcfg, err := f.modelConfig(*model, cfg.Seed)
	if err != nil {
		return cfg, nil, fmt.Errorf("train: %w", err)
	}
	cfg.Solver.Momentum = *f.momentum
	decay := *wd
	if !set["wd"] && cfg.Optimizer != train.Default().Optimizer {
		decay = 0 // the default decay belongs to the default optimizer
	}
	dc, err := solvers.DecayConfig(cfg.Optimizer, decay) // decoupled or coupled: the solver's own
	if err != nil {
		return cfg, nil, fmt.Errorf("train: -opt: %w", err)
	}
	cfg.Solver.DecoupledDecay, cfg.Solver.WeightDecay = dc.DecoupledDecay, dc.WeightDecay
	if cfg.Schedule.Kind != "step" { // the step fields mean nothing to other schedules
		cfg.Schedule.StepEpochs, cfg.Schedule.Gamma = 0, 0
	}
	if _, err := mnist.ParseScaling(*scaling); err != nil {
		return cfg, nil, fmt.Errorf("train: -scaling: %w", err)
	}
	cfg.Model = train.Spec{Name: *model, Config: mcfg}
	if tabular {
		opts, err := tf.options()
		if err != nil {
			return cfg, nil, fmt.Errorf("train: %w", err)
		}
		spec := csvData{File: *data, Test: *tf.test, Options: opts, Task: *tf.task, Impute: *tf.impute}
		if spec.Test == "" && *tf.folds == 0 {
			spec.TestFrac = *tf.testFrac
		}
		if *tf.folds > 0 {
			switch {
			case *resume:
				return cfg, nil, errors.New("train: -folds runs K trainings from scratch; -resume continues one run (resume a fold with -resume -out DIR/foldK)")
			case spec.Test != "":
				return cfg, nil, errors.New("train: -folds tests on each fold of -data in turn; it takes no -test file")
			case mpi.Launched():
				return cfg, nil, errors.New("train: -folds is not supported under mpirun; run the folds one by one")
			}
			return cfg, &spec, nil
		}
		if cfg.Data, err = train.NewSpec("csv", spec); err != nil {
			return cfg, nil, err
		}
	} else if lm {
		if cfg.Data, err = charlmDefaults(set, &cfg, out, wd, cf); err != nil {
			return cfg, nil, err
		}
	} else if cfg.Data, err = train.NewSpec("mnist", mnistData{Scaling: *scaling}); err != nil {
		return cfg, nil, err
	}
	return cfg, nil, nil
}

// resumeFields maps the flags of gradlab train to the fields of the run's
// configuration they set (dotted paths into its JSON; "model." paths into
// the model's configuration by the flag's field). -epochs may change on
// resume; -out, -resume and -data (where MNIST lives) say where, not what.
var resumeFields = map[string]string{
	"batch": "batch", "opt": "optimizer", "lr": "solver.LR", "momentum": "solver.Momentum",
	"wd": "solver.DecoupledDecay solver.WeightDecay", "clip": "solver.ClipNorm", "clip-value": "solver.ClipValue",
	"schedule": "schedule.kind", "step-epochs": "schedule.step_epochs", "gamma": "schedule.gamma", "warmup": "schedule.warmup_steps",
	"seed": "seed", "val": "validation", "patience": "patience", "monitor": "monitor",
	"train-limit": "train_limit", "test-limit": "test_limit", "model": "model.name", "scaling": "data.config.scaling",
	"target": "data.config.options.target", "task": "data.config.task", "test": "data.config.test", "test-frac": "data.config.test_frac",
	"delim": "data.config.options.delimiter", "ignore": "data.config.options.ignore", "categorical": "data.config.options.categorical",
	"missing": "data.config.options.missing", "skip": "data.config.options.skip", "no-header": "data.config.options.no_header",
	"impute": "data.config.impute", "folds": "data.config.folds",
}

// resumeConflicts returns an error naming every flag that was set and that
// gives the run another value than the saved run has: -resume continues the
// saved run as it was, and a flag it would ignore is a mistake to report.
func resumeConflicts(set map[string]bool, cfg, saved train.Config) error {
	fresh, old := asMap(cfg), asMap(saved)
	var bad []string
	for _, name := range slices.Sorted(maps.Keys(set)) {
		paths, ok := resumeFields[name]
		if !ok {
			paths = "model.config." + name // a model's flag: compare the fields it sets on each side
		}
		for _, path := range strings.Fields(paths) {
			fp, op := path, path
			if rest, isModel := strings.CutPrefix(path, "model.config."); isModel {
				kf, okf := models.FlagField(cfg.Model.Name, rest)
				ko, oko := models.FlagField(saved.Model.Name, rest)
				if !okf && !oko {
					continue
				}
				fp, op = "model.config."+kf, "model.config."+ko
			}
			a, b := lookup(fresh, fp), lookup(old, op)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				bad = append(bad, fmt.Sprintf("-%s gives %s = %v, the saved run has %v", name, path, a, b))
				break
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("train: -resume continues the saved run as it was; %s (drop the flag, or train into a new -out)", strings.Join(bad, "; "))
	}
	return nil
}

// asMap decodes a configuration's JSON, the specs' configurations included.
func asMap(c train.Config) map[string]any {
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// lookup follows a dotted path through decoded JSON (nil where it ends).
func lookup(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// joinWorld starts MPI when gradlab runs under mpirun (internal/mpi: a
// build with -tags mpi; the default build refuses with a named error) and
// checks that every rank has the same configuration; it returns nil when
// gradlab runs alone.
func joinWorld(cfg train.Config, how runOpts) (*mpi.World, error) {
	if !mpi.Launched() {
		return nil, nil
	}
	w, err := mpi.Init()
	if err != nil {
		return nil, fmt.Errorf("train: under mpirun: %w", err)
	}
	b, _ := json.Marshal(struct {
		train.Config
		Resume, SyncBN bool
	}{cfg, how.Resume, how.SyncBN})
	n, err := w.Differing(b)
	if err == nil && n > 0 {
		err = fmt.Errorf("train: %d of %d ranks were started with another configuration than rank 0's: start every rank with the same flags", n, w.Size())
	}
	if err != nil {
		w.Finalize()
		return nil, err
	}
	return w, nil
}

// runDefaults are a kind of run's values for the flags the user did not
// set; a zero field keeps gradlab train's own default.
type runDefaults struct {
	out           string
	epochs, batch int
	lr, wd, clip  float64
	warmup        int
}

// apply sets each default whose flag was not given: in cfg, and -out and
// -wd (read later) through their flags.
func (d runDefaults) apply(set map[string]bool, cfg *train.Config, out *string, wd *float64) {
	def := func(flag string, zero bool, assign func()) {
		if !set[flag] && !zero {
			assign()
		}
	}
	def("out", d.out == "", func() { *out = d.out })
	def("epochs", d.epochs == 0, func() { cfg.Epochs = d.epochs })
	def("batch", d.batch == 0, func() { cfg.Batch = d.batch })
	def("lr", d.lr == 0, func() { cfg.Solver.LR = d.lr })
	def("wd", d.wd == 0, func() { *wd = d.wd }) // dropped later unless the optimizer is the default adamw
	def("clip", d.clip == 0, func() { cfg.Solver.ClipNorm = d.clip })
	def("warmup", d.warmup == 0, func() { cfg.Schedule.WarmupSteps = d.warmup })
}

// tabularDefaults are a run on a table's, chosen on validation rows, never
// the test rows (benchmarks/TABULAR.md, "Choosing the defaults"): of the
// candidates, 200 epochs with AdamW's decoupled decay 3 (lr·wd = 0.006 a
// step) was the one at or above the linear baseline on every data set's
// validation rows; the decay keeps the 64-64 MLP near the linear fit on
// small, noisy tables (diabetes) and the epochs give the smallest tables
// (iris: 4 steps an epoch) the steps to fit.
var tabularDefaults = runDefaults{out: "runs/tabular", epochs: 200, batch: 32, wd: 3}

// runFolds trains one run per fold into out/foldK and reports them.
func runFolds(ctx context.Context, cfg train.Config, spec csvData, folds int, out string, stdout io.Writer) error {
	var finals []train.Scores
	for k := 1; k <= folds; k++ {
		spec.Fold, spec.Folds = k, folds
		c := cfg
		var err error
		if c.Data, err = train.NewSpec("csv", spec); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fold %d of %d\n", k, folds)
		res, err := trainResult(ctx, c, "", filepath.Join(out, fmt.Sprintf("fold%d", k)), runOpts{}, stdout)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k, err)
		}
		if n := len(res.Epochs); n > 0 {
			finals = append(finals, res.Epochs[n-1].Test)
		}
	}
	foldReport(stdout, finals)
	return nil
}

// trainRun trains the run cfg describes (data from dir for MNIST, or the
// table its spec names), writing into out.
// runOpts are the flags of a run that are not in its configuration.
type runOpts struct {
	Resume bool // continue from the checkpoint in out
	SyncBN bool // synchronized batch norm under mpirun (train.Options.SyncBatchNorm)
}

func trainRun(ctx context.Context, cfg train.Config, dir, out string, how runOpts, stdout io.Writer) error {
	_, err := trainResult(ctx, cfg, dir, out, how, stdout)
	return err
}

func trainResult(ctx context.Context, cfg train.Config, dir, out string, how runOpts, stdout io.Writer) (res *train.Result, err error) {
	resume := how.Resume
	world, err := joinWorld(cfg, how)
	if err != nil {
		return nil, err
	}
	if world != nil {
		defer func() {
			if err != nil && world.Size() > 1 {
				// A failure may be this rank's alone (a step's error): end
				// the whole job rather than leave the others in an all-reduce.
				fmt.Fprintln(os.Stderr, "gradlab: rank", world.Rank(), "of", world.Size(), "failed:", err)
				world.Abort(1)
			}
			if ferr := world.Finalize(); err == nil && ferr != nil {
				err = ferr
			}
		}()
		if world.Rank() != 0 {
			stdout = io.Discard // rank 0 alone reports
		}
	}
	if resume {
		saved, err := savedConfig(out)
		if err != nil {
			return nil, err
		}
		saved.Epochs = cfg.Epochs
		cfg = saved
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := models.Check(cfg.Model.Name, cfg.Model.Config, cfg.Seed); err != nil {
		return nil, err // before any data is read
	}
	d, err := loadData(dir, &cfg, !resume)
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if world != nil {
		seed = train.RankSeed(cfg.Seed, world.Rank()) // each rank's own dropout masks
	}
	m, err := models.Build(cfg.Model.Name, cfg.Model.Config, seed)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	opt := train.Options{Out: out, Resume: resume, Log: stdout}
	if world != nil && world.Size() > 1 {
		opt.World, opt.SyncBatchNorm = world, how.SyncBN
	}
	if cfg.Data.Name == "text" {
		if opt, err = textOptions(opt, m, cfg, stdout); err != nil {
			return nil, err
		}
	}
	if isTerminal(stdout) && !underLauncher() {
		opt.Progress = stdout
	}
	limit := func(n, l int) int {
		if l > 0 {
			return min(n, l)
		}
		return n
	}
	if _, err := m.Program(max(1, min(cfg.Batch, limit(d.Train.Len(), cfg.TrainLimit)-cfg.Validation))); err != nil {
		return nil, err
	}
	testN := 0
	if d.Test != nil {
		testN = limit(d.Test.Len(), cfg.TestLimit)
	}
	unit := "images"
	if cfg.Data.Name == "csv" {
		unit = "rows"
	} else if cfg.Data.Name == "text" {
		unit = "windows"
	}
	fmt.Fprintf(stdout, "gradlab train: %d train / %d test %s, model %s (%s parameters), %s lr %g, %d epochs of batch %d → %s\n",
		limit(d.Train.Len(), cfg.TrainLimit)-cfg.Validation, testN, unit, models.Describe(cfg.Model.Name, cfg.Model.Config),
		nn.Thousands(m.ParamCount()), cfg.Optimizer, cfg.Solver.LR, cfg.Epochs, cfg.Batch, out)
	res, err = train.Train(ctx, cfg, m, d, opt)
	if err != nil {
		return res, err
	}
	if n := len(res.Epochs); n > 0 {
		fmt.Fprintf(stdout, "final %s after %d epochs; metrics.csv, curves.png and %s in %s\n",
			final(res.Epochs[n-1]), n, train.CheckpointFile, out)
	}
	if cfg.Data.Name == "csv" && d.Test != nil {
		if ev, err := train.Evaluate(m, d.Test, cfg.Batch); err == nil && ev.Confusion != nil {
			fmt.Fprint(stdout, "test confusion matrix:\n"+ev.ConfusionTable())
		}
	}
	return res, nil
}

// apply sets *dst to v when the flag was given.
func apply[T any](set map[string]bool, flag string, dst *T, v T) {
	if set[flag] {
		*dst = v
	}
}

// final names the headline number of an epoch: the test set's first
// metric after the loss ("test accuracy 98.58%"), else its loss.
func final(e train.Epoch) string {
	set, scores := "test", e.Test
	if scores == nil {
		set, scores = "validation", e.Val
	}
	if scores == nil {
		set, scores = "train", e.Train
	}
	s := scores[0]
	if len(scores) > 1 {
		s = scores[1]
	}
	return fmt.Sprintf("%s %s %s", set, longName(s.Name), metrics.Format(s.Name, s.Value))
}

// longName spells out a metric's name in sentences: acc is accuracy.
func longName(name string) string {
	if name == "acc" {
		return "accuracy"
	}
	return name
}

// modelList names the models with their summaries, for -h.
func modelList() string {
	var parts []string
	for _, e := range models.Entries() {
		parts = append(parts, e.Name+" ("+e.Summary+")")
	}
	return strings.Join(parts, ", ")
}

func savedConfig(dir string) (train.Config, error) {
	_, cfg, err := train.ReadCheckpoint(dir + "/" + train.CheckpointFile)
	return cfg, err
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "runs/mnist/"+train.CheckpointFile, "checkpoint to evaluate")
	data := fs.String("data", "", "MNIST directory (default $"+mnist.EnvDir+" or the GoMNIST module's data); for a model of a table, a labelled CSV file to score (default the run's test rows)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := models.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg := m.Config
	var test datasets.Dataset
	if spec, ok, err := csvSpec(cfg.Data); err != nil {
		return err
	} else if ok && *data != "" {
		t, err := table.ReadFile(*data, spec.Encoder.ReadOptions(spec.Options, true)) // read as the training file was, its columns as the encoder takes them
		if err != nil {
			return err
		}
		if test, err = spec.Encoder.Dataset(t, table.All(t.Rows())); err != nil {
			return err
		}
	} else {
		d, err := loadData(*data, &cfg, false)
		if err != nil {
			return err
		}
		test = d.Test
	}
	if test == nil {
		return fmt.Errorf("%s: the run has no test set; score a labelled file with -data FILE.csv", *model)
	}
	ev, err := train.Evaluate(m, test, cfg.Batch, dataMetrics(cfg)...)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	var parts []string
	for _, s := range ev.Scores {
		parts = append(parts, longName(s.Name)+" "+metrics.Format(s.Name, s.Value))
	}
	fmt.Fprintf(stdout, "%s: test %s (%d examples)\n", *model, strings.Join(parts, ", "), ev.N)
	if mc, _, err := charlmOf(cfg); err == nil {
		fmt.Fprintf(stdout, "held-out bits per character %.4f, perplexity %.4f over %s characters (%d windows of %d, the text's last %g%%)\n",
			ev.Scores.Get("bits_per_token"), ev.Scores.Get("perplexity"), nn.Thousands(ev.N*mc.Context), ev.N, mc.Context, 100*heldFrac)
	}
	if ev.Confusion != nil {
		fmt.Fprint(stdout, ev.ConfusionTable())
	}
	return nil
}
