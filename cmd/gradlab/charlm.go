package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/gradlab/gradlab/datasets/text"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/train"
)

// textData is the data spec of a language model's run: the text file
// ("" is the default corpus), the held-out share of its end, whether a
// binary file was accepted, and the vocabulary (set when the run starts;
// evaluate and -resume check that the file still has it).
type textData struct {
	File   string      `json:"file,omitempty"`
	Held   float64     `json:"held"`
	Binary bool        `json:"binary,omitempty"`
	Vocab  *text.Vocab `json:"vocab,omitempty"`
}

// heldFrac is the share of a text's end held out for evaluation.
const heldFrac = 0.1

// defaultText is the corpus every Go installation carries.
func defaultText() string {
	return filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt")
}

// charlmRunDefaults are gradlab train -model charlm's (benchmarks/CHARLM.md).
var charlmRunDefaults = runDefaults{out: "runs/charlm", epochs: 10, batch: 32, lr: 3e-3, warmup: 100, clip: 1}

// charlmFlags are the flags of a run on a text.
type charlmFlags struct {
	text   *string
	binary *bool
}

func addCharlmFlags(fs *flag.FlagSet) charlmFlags {
	return charlmFlags{
		text:   fs.String("text", "", "charlm: the text to train on (default: Newton's Opticks, $GOROOT/src/testdata/Isaac.Newton-Opticks.txt); its last 10% is held out"),
		binary: fs.Bool("binary", false, "charlm: accept a binary (non-UTF-8) -text file, modelled byte by byte"),
	}
}

func init() {
	resumeFields["text"] = "data.config.file"
	resumeFields["binary"] = "data.config.binary"
}

// charlmDefaults applies the defaults of a language model's run to the
// flags that were not set, and returns its data spec.
func charlmDefaults(set map[string]bool, cfg *train.Config, out *string, wd *float64, f charlmFlags) (train.Spec, error) {
	charlmRunDefaults.apply(set, cfg, out, wd)
	for _, name := range []string{"scaling", "data", "target"} {
		if set[name] {
			return train.Spec{}, fmt.Errorf("train: -%s is not for -model charlm (its text is -text FILE)", name)
		}
	}
	return train.NewSpec("text", textData{File: *f.text, Held: heldFrac, Binary: *f.binary})
}

// loadText loads the text of cfg.Data as windows of the model's context:
// the training part, and the held-out span as the test set. It records the
// vocabulary in the spec (or checks the saved one) and, with fit, sets the
// model's vocabulary size.
func loadText(cfg *train.Config, fit bool) (train.Data, error) {
	var spec textData
	if err := cfg.Data.Decode(&spec); err != nil {
		return train.Data{}, err
	}
	var mc charlm.Config
	if err := (train.Spec{Name: cfg.Model.Name, Config: cfg.Model.Config}).Decode(&mc); err != nil || cfg.Model.Name != "charlm" {
		return train.Data{}, fmt.Errorf("data text: the model is %s, want charlm (%v)", cfg.Model.Name, err)
	}
	path := spec.File
	if path == "" {
		path = defaultText()
	}
	c, err := text.Load(path, spec.Held, spec.Binary)
	if err != nil {
		return train.Data{}, err
	}
	if spec.Vocab != nil && string(spec.Vocab.Bytes) != string(c.Vocab.Bytes) {
		return train.Data{}, fmt.Errorf("%w: %s now has %d distinct bytes, the run was trained on %d: not the same text", text.ErrText, path, c.Vocab.Size(), spec.Vocab.Size())
	}
	tr, err := text.NewWindows(c.Train, mc.Context, c.Vocab.Size())
	if err != nil {
		return train.Data{}, fmt.Errorf("%s (training part): %w", path, err)
	}
	te, err := text.NewWindows(c.Held, mc.Context, c.Vocab.Size())
	if err != nil {
		return train.Data{}, fmt.Errorf("%s (held-out last %g%%): %w", path, 100*spec.Held, err)
	}
	spec.Vocab = &c.Vocab
	if cfg.Data, err = train.NewSpec("text", spec); err != nil {
		return train.Data{}, err
	}
	if fit {
		if cfg.Model.Config, err = models.Fit(cfg.Model.Name, cfg.Model.Config, tr); err != nil {
			return train.Data{}, err
		}
	}
	return train.Data{Train: tr, Test: te}, nil
}

// dataMetrics returns the metrics of a run's data: bits per character,
// perplexity and next-byte accuracy for a text, nil (the model's default)
// otherwise.
func dataMetrics(cfg train.Config) []metrics.Metric {
	if cfg.Data.Name != "text" {
		return nil
	}
	return []metrics.Metric{metrics.BitsPerToken(), metrics.Perplexity(), metrics.Accuracy()}
}

// charlmOf returns the model's configuration and the vocabulary of a
// language model's run.
func charlmOf(cfg train.Config) (charlm.Config, text.Vocab, error) {
	var mc charlm.Config
	var spec textData
	if cfg.Model.Name != "charlm" || cfg.Data.Name != "text" {
		return mc, text.Vocab{}, fmt.Errorf("the model is %s on %s data, want a charlm trained on a text", cfg.Model.Name, cfg.Data.Name)
	}
	if err := (train.Spec{Name: "charlm", Config: cfg.Model.Config}).Decode(&mc); err != nil {
		return mc, text.Vocab{}, err
	}
	if err := cfg.Data.Decode(&spec); err != nil {
		return mc, text.Vocab{}, err
	}
	if spec.Vocab == nil || spec.Vocab.Size() != mc.Vocab {
		return mc, text.Vocab{}, fmt.Errorf("%w: the run's vocabulary does not match its model's %d tokens", train.ErrCheckpoint, mc.Vocab)
	}
	mc.Seed = cfg.Seed
	return mc, *spec.Vocab, nil
}

// samplePrompt is the prompt of the sample logged after every epoch.
const samplePrompt = "Light is"

// sampleChars is the length of that sample.
const sampleChars = 160

// textOptions adds what a language model's run logs: its metrics and,
// after every epoch, a sample of generated text (seeded by the run's seed
// and the epoch; it reads the parameters and never changes the run).
func textOptions(opt train.Options, m *nn.Model, cfg train.Config, log io.Writer) (train.Options, error) {
	opt.Metrics = dataMetrics(cfg)
	mc, vocab, err := charlmOf(cfg)
	if err != nil {
		return opt, err
	}
	prompt, err := vocab.Encode([]byte(samplePrompt))
	if err != nil {
		prompt = []int{0}
	}
	if log == nil {
		return opt, nil
	}
	opt.Callbacks = append(opt.Callbacks, train.Hooks{OnEpoch: func(_ *train.Run, e train.Epoch) error {
		g, err := charlm.NewGenerator(m, mc, 0)
		if err != nil {
			return err
		}
		out := vocab.Decode(prompt)
		err = g.Generate(prompt, sampleChars, charlm.Sampling{Temperature: 0.8, Seed: cfg.Seed + uint64(e.Epoch)}, func(id int) error {
			out = append(out, vocab.Bytes[id])
			return nil
		})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(log, "  sample: %s\n", strconv.Quote(string(out)))
		return err
	}})
	return opt, nil
}

// ErrPrompt reports a prompt that cannot start generation: empty, or with
// bytes outside the model's vocabulary (the message lists them; it also
// wraps text.ErrVocab).
var ErrPrompt = errors.New("generate: unusable prompt")

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "runs/charlm/"+train.CheckpointFile, "checkpoint of a charlm run")
	prompt := fs.String("prompt", samplePrompt, "text the generated text continues (printed first)")
	n := fs.Int("n", 400, "characters (bytes) to generate")
	temp := fs.Float64("temperature", 0.8, "sampling temperature > 0: below 1 sharper, above 1 flatter than the model")
	topK := fs.Int("top-k", 0, "sample among the k most likely next bytes only; 0 = all")
	seed := fs.Uint64("seed", 1, "seed of the sampling: the same seed, prompt and model give the same text")
	window := fs.Int("window", 0, "the most tokens a transformer attends to while generating; 0 = the model's context")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("generate: unexpected arguments %q", fs.Args())
	}
	s := charlm.Sampling{Temperature: *temp, TopK: *topK, Seed: *seed}
	if err := s.Check(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if *n < 0 {
		return fmt.Errorf("generate: %w: -n %d, want ≥ 0", charlm.ErrSampling, *n)
	}
	if *prompt == "" {
		return fmt.Errorf("%w: -prompt is empty; give at least one character", ErrPrompt)
	}
	m, err := models.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	mc, vocab, err := charlmOf(m.Config)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	ids, err := vocab.Encode([]byte(*prompt))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPrompt, err)
	}
	g, err := charlm.NewGenerator(m.Model, mc, *window)
	if err != nil {
		return fmt.Errorf("generate: -window: %w", err)
	}
	w := bufio.NewWriter(stdout)
	w.WriteString(*prompt)
	start := time.Now()
	err = g.Generate(ids, *n, s, func(id int) error {
		if err := w.WriteByte(vocab.Bytes[id]); err != nil {
			return err
		}
		if vocab.Bytes[id] == '\n' {
			return w.Flush()
		}
		return nil
	})
	w.WriteString("\n")
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	sec := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "gradlab generate: %d characters in %.3f s (%s characters/s, %s)\n", *n, sec, nn.Thousands(int(math.Round(float64(*n)/sec))), mc.Name())
	return nil
}

// exportCharlm writes a language model's ONNX file: input ids int64
// (N, T) with dynamic N and T ≤ the context, outputs logits and
// probabilities (N, T, V) over the vocabulary of gradlab.vocab (the bytes
// in token order, as a JSON array of numbers).
func exportCharlm(m *models.Loaded, model, out string, stdout io.Writer) error {
	mc, vocab, err := charlmOf(m.Config)
	if err != nil {
		return fmt.Errorf("%s: %w", model, err)
	}
	bytes := make([]int, vocab.Size())
	for i, b := range vocab.Bytes {
		bytes[i] = int(b)
	}
	vj, err := json.Marshal(bytes)
	if err != nil {
		return err
	}
	desc := models.Describe(m.Config.Model.Name, m.Config.Model.Config)
	input := fmt.Sprintf("%s: int64 (N, T), token ids in [0, %d), T ≤ %d (the context): the bytes of a text through gradlab.vocab", onnx.IDsName, mc.Vocab, mc.Context)
	outputs := fmt.Sprintf("%s (N, T, %d): the next byte's logits at every position; %s (N, T, %d): their softmax", onnx.LogitsName, mc.Vocab, onnx.ProbabilitiesName, mc.Vocab)
	opt := onnx.Options{Metadata: map[string]string{
		"gradlab.model":   desc,
		"gradlab.config":  m.Checkpoint.Metadata["config"],
		"gradlab.epoch":   m.Checkpoint.Metadata["epoch"],
		"gradlab.input":   input,
		"gradlab.vocab":   string(vj),
		"gradlab.outputs": outputs,
	}, DocString: "gradlab " + desc}
	if err := onnx.WriteFile(out, m.Model, opt); err != nil {
		return fmt.Errorf("export %s: %w", model, err)
	}
	fmt.Fprintf(stdout, "gradlab export: %s (%s) → %s (ONNX IR %d, opset %d; input %s; outputs %s)\n",
		model, desc, out, onnx.IRVersion, onnx.Opset, input, outputs)
	return nil
}
