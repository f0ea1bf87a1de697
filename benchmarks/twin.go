package benchmarks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/train"
)

// ErrTwin marks a run configuration the PyTorch twin cannot repeat.
var ErrTwin = errors.New("benchmarks: twin")

// Tensor names and metadata keys of a twin file (see WriteTwin).
const (
	TwinOrderPrefix = "order/"  // order/1 … order/E: the permutation of each epoch (int64, n)
	TwinCheckX      = "check/x" // the first TwinChecks training images as the model sees them (float32, k × 784)
	TwinCheckY      = "check/y" // their labels (int64, k)
	TwinChecks      = 4
)

// DefaultTwinConfig returns the configuration `gradlab train` runs without
// flags: train.Default with mlp.Default (seeded by the run's seed) on MNIST
// standardized, as cmd/gradlab builds it. Its config.json should be equal
// (the e2e driver reads the real run's config.json instead).
func DefaultTwinConfig() (train.Config, error) {
	cfg := train.Default()
	m := mlp.Default()
	m.Seed = cfg.Seed
	var err error
	if cfg.Model, err = train.NewSpec("mlp", m); err != nil {
		return cfg, err
	}
	if cfg.Data, err = train.NewSpec("mnist", struct {
		Scaling string `json:"scaling"`
	}{"standardize"}); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// WriteTwin writes what a PyTorch run needs to repeat the gradlab run cfg
// (torch_train.py reads it) as a safetensors file at path:
//
//   - param/… and state/…: the model's initial parameters and batch-norm
//     statistics, built as gradlab train builds them (models.Build with the
//     run's seed), under their checkpoint names;
//   - order/1 … order/E: train.Order of each epoch, the batches being
//     order/e[s·Batch : (s+1)·Batch];
//   - check/x, check/y: the first training images scaled as gradlab scales
//     them, so the script can check its own scaling;
//   - metadata "config" (the run's configuration as JSON), "data_dir" (the
//     MNIST directory read), "train_n" and "test_n".
//
// dataDir "" means the default MNIST files (mnist.DefaultDir). A
// configuration the twin cannot repeat (a validation split) wraps ErrTwin.
func WriteTwin(path string, cfg train.Config, dataDir string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Validation > 0 {
		return fmt.Errorf("%w: a validation split (validation = %d) is not repeated", ErrTwin, cfg.Validation)
	}
	if cfg.Data.Name != "mnist" {
		return fmt.Errorf("%w: data %q, only mnist is known", ErrTwin, cfg.Data.Name)
	}
	var ds struct {
		Scaling string `json:"scaling"`
	}
	if err := cfg.Data.Decode(&ds); err != nil {
		return err
	}
	scaling, err := mnist.ParseScaling(ds.Scaling)
	if err != nil {
		return err
	}
	if dataDir == "" {
		if dataDir, err = mnist.DefaultDir(); err != nil {
			return err
		}
	}
	tr, te, err := mnist.Load(dataDir)
	if err != nil {
		return err
	}
	tr.Scaling = scaling
	n, nTest := limit(tr.Len(), cfg.TrainLimit), limit(te.Len(), cfg.TestLimit)

	m, err := models.Build(cfg.Model.Name, cfg.Model.Config, cfg.Seed)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Program(min(cfg.Batch, n)); err != nil { // as train.Train does first: it makes the parameters
		return err
	}
	tensors, err := train.ModelTensors(m)
	if err != nil {
		return err
	}
	for e := 1; e <= cfg.Epochs; e++ {
		perm := train.Order(cfg.Seed, e, n)
		v := make([]int64, n)
		for i, p := range perm {
			v[i] = int64(p)
		}
		tensors[TwinOrderPrefix+strconv.Itoa(e)] = tensor.New(tensor.WithShape(n), tensor.WithBacking(v))
	}
	k := min(TwinChecks, n)
	idx, y := make([]int, k), make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(k, tr.Features()))
	if err := tr.Gather(idx, x, tensor.New(tensor.WithShape(k), tensor.WithBacking(y))); err != nil {
		return err
	}
	y64 := make([]int64, k)
	for i, v := range y {
		y64[i] = int64(v)
	}
	tensors[TwinCheckX] = x
	tensors[TwinCheckY] = tensor.New(tensor.WithShape(k), tensor.WithBacking(y64))

	cj, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTwin, err)
	}
	meta := map[string]string{
		"config":   string(cj),
		"data_dir": dataDir,
		"train_n":  strconv.Itoa(n),
		"test_n":   strconv.Itoa(nTest),
	}
	return checkpoint.Write(path, &checkpoint.File{Tensors: tensors, Metadata: meta})
}

func limit(n, l int) int {
	if l > 0 {
		return min(n, l)
	}
	return n
}
