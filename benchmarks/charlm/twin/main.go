// Command twin writes what the PyTorch twin of a charlm run
// (benchmarks/charlm/torch_charlm.py) needs to repeat it, as a safetensors
// file:
//
//   - param/…: the model's initial parameters, built as gradlab train builds
//     them (models.Build with the run's seed), under their checkpoint names;
//   - order/1 … order/E: train.Order of each epoch over the training windows
//     (the batches being order/e[s·Batch : (s+1)·Batch]);
//   - tokens/train, tokens/held: the text's token ids (int64), cut as
//     gradlab cuts them (windows of the context, targets shifted by one);
//   - metadata "config": the run's configuration.
//
// Usage: go run ./benchmarks/charlm/twin -config runs/charlm/config.json -o runs/charlm/twin.safetensors
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/text"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/train"
)

func main() {
	cfgPath := flag.String("config", "runs/charlm/config.json", "config.json of the gradlab run")
	out := flag.String("o", "runs/charlm/twin.safetensors", "output file")
	flag.Parse()
	if err := write(*cfgPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "twin:", err)
		os.Exit(1)
	}
}

func ints64(v []int) *tensor.Dense {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(out))
}

func write(cfgPath, out string) error {
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var cfg train.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	if cfg.Model.Name != "charlm" || cfg.Data.Name != "text" {
		return fmt.Errorf("%s: a %s run on %s data, want charlm on a text", cfgPath, cfg.Model.Name, cfg.Data.Name)
	}
	if cfg.Validation != 0 || cfg.TrainLimit != 0 || cfg.TestLimit != 0 {
		return fmt.Errorf("%s: -val, -train-limit and -test-limit are not repeated by the twin", cfgPath)
	}
	var spec struct {
		File   string  `json:"file"`
		Held   float64 `json:"held"`
		Binary bool    `json:"binary"`
	}
	var mc charlm.Config
	if err := json.Unmarshal(cfg.Data.Config, &spec); err != nil {
		return err
	}
	if err := json.Unmarshal(cfg.Model.Config, &mc); err != nil {
		return err
	}
	if spec.File == "" {
		spec.File = filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt")
	}
	c, err := text.Load(spec.File, spec.Held, spec.Binary)
	if err != nil {
		return err
	}
	m, err := models.Build(cfg.Model.Name, cfg.Model.Config, cfg.Seed)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Program(cfg.Batch); err != nil {
		return err
	}
	ts, err := train.ModelTensors(m)
	if err != nil {
		return err
	}
	n := (len(c.Train) - 1) / mc.Context
	for e := 1; e <= cfg.Epochs; e++ {
		ts[fmt.Sprintf("order/%d", e)] = ints64(train.Order(cfg.Seed, e, n))
	}
	ts["tokens/train"], ts["tokens/held"] = ints64(c.Train), ints64(c.Held)
	return checkpoint.Write(out, &checkpoint.File{Tensors: ts, Metadata: map[string]string{"config": string(b)}})
}
