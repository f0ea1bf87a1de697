package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/train"
)

// lastEpoch returns the last epoch recorded in the checkpoint (ok false
// when none is) and its step count.
func lastEpoch(f *checkpoint.File) (e train.Epoch, step int, ok bool, err error) {
	h, step, err := train.History(f)
	if err != nil || len(h) == 0 {
		return e, step, false, err
	}
	return h[len(h)-1], step, true, nil
}

// scalingOf returns the pixel scaling of a run's data spec.
func scalingOf(spec train.Spec) (mnist.Scaling, error) {
	if spec.Name != "mnist" {
		return 0, fmt.Errorf("data %q: only mnist is known", spec.Name)
	}
	var md mnistData
	if err := spec.Decode(&md); err != nil {
		return 0, err
	}
	return mnist.ParseScaling(md.Scaling)
}

// exportScaling is the scaling as the exported graph applies it to pixels
// in [0, 1].
func exportScaling(s mnist.Scaling) (onnx.Options, string) {
	switch s {
	case mnist.Standardize:
		return onnx.Options{Mean: mnist.Mean, Std: mnist.Std}, fmt.Sprintf("standardize: (x − %g)/%g", mnist.Mean, mnist.Std)
	case mnist.Symmetric:
		return onnx.Options{Mean: 0.5, Std: 0.5}, "symmetric: (x − 0.5)/0.5"
	}
	return onnx.Options{}, "unit: x"
}

func runSummary(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "runs/mnist/"+train.CheckpointFile, "checkpoint to describe")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("summary: unexpected arguments %q", fs.Args())
	}
	m, err := models.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg, f := m.Config, m.Checkpoint
	table, err := m.Summary()
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	e, step, ok, err := lastEpoch(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	fmt.Fprintf(stdout, "%s: model %s\n\n%s\n", *model, models.Describe(cfg.Model.Name, cfg.Model.Config), table)
	data := cfg.Data.Name
	if s, err := scalingOf(cfg.Data); err == nil {
		data += " (scaling " + s.String() + ")"
	}
	if spec, ok, err := csvSpec(cfg.Data); err == nil && ok && spec.Encoder != nil {
		data += " " + spec.File
		fmt.Fprint(stdout, columnsTable(spec.Encoder))
	}
	fmt.Fprintf(stdout, "training: %s lr %g, batch %d, %d epochs, schedule %s, seed %d, data %s\n",
		cfg.Optimizer, cfg.Solver.LR, cfg.Batch, cfg.Epochs, cfg.Schedule.Kind, cfg.Seed, data)
	if ok {
		fmt.Fprintf(stdout, "epoch %d of %d (step %d): %s\n", e.Epoch, cfg.Epochs, step, e.Summary())
	} else {
		fmt.Fprintf(stdout, "no epoch recorded yet (step %d)\n", step)
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, []byte(f.Metadata["config"]), "", "  "); err != nil {
		return fmt.Errorf("%s: %w: config metadata: %w", *model, train.ErrCheckpoint, err)
	}
	fmt.Fprintf(stdout, "configuration:\n%s\n", strings.TrimSpace(ind.String()))
	return nil
}
