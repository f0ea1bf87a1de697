package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/train"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "runs/mnist/"+train.CheckpointFile, "checkpoint to export")
	out := fs.String("o", "", "ONNX file to write (required), e.g. model.onnx; replaced atomically")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("export: -o FILE.onnx is required")
	}
	m, err := models.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg, f := m.Config, m.Checkpoint
	if spec, ok, err := csvSpec(cfg.Data); err != nil {
		return err
	} else if ok {
		return exportTable(m, spec, *model, *out, stdout)
	}
	if cfg.Data.Name == "text" {
		return exportCharlm(m, *model, *out, stdout)
	}
	s, err := scalingOf(cfg.Data)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	opt, formula := exportScaling(s)
	e, _, ok, err := lastEpoch(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	opt.Metadata = map[string]string{
		"gradlab.model":   models.Describe(cfg.Model.Name, cfg.Model.Config),
		"gradlab.config":  f.Metadata["config"],
		"gradlab.epoch":   f.Metadata["epoch"],
		"gradlab.scaling": formula + " (inside the graph)",
		"gradlab.input":   onnx.InputName + ": float32 (N, 1, 28, 28), pixels in [0, 1], white digit on black as in MNIST",
		"gradlab.outputs": onnx.LogitsName + " (N, 10), " + onnx.ProbabilitiesName + " (N, 10): softmax of the logits",
	}
	opt.DocString = "gradlab " + models.Describe(cfg.Model.Name, cfg.Model.Config)
	if ok {
		metrics := fmt.Sprintf(`{"epoch":%d,"train_loss":%s,"train_acc":%s,"test_loss":%s,"test_acc":%s,"lr":%s}`,
			e.Epoch, num(e.Train.Get("loss")), num(e.Train.Get("acc")), num(e.Test.Get("loss")), num(e.Test.Get("acc")), num(e.LR))
		opt.Metadata["gradlab.metrics"] = metrics
		opt.DocString += fmt.Sprintf(", epoch %d, test accuracy %.2f%% (gradlab)", e.Epoch, 100*e.Test.Get("acc"))
	}
	if err := onnx.WriteFile(*out, m.Model, opt); err != nil {
		return fmt.Errorf("export %s: %w", *model, err)
	}
	size := ""
	if st, err := os.Stat(*out); err == nil {
		size = fmt.Sprintf("%.1f kB, ", float64(st.Size())/1e3)
		if st.Size() >= 1e6 {
			size = fmt.Sprintf("%.1f MB, ", float64(st.Size())/1e6)
		}
	}
	fmt.Fprintf(stdout, "gradlab export: %s (%s) → %s (%sONNX IR %d, opset %d; input %s float32 (N, 1, 28, 28) in [0, 1], %s inside; outputs %s)\n",
		*model, models.Describe(cfg.Model.Name, cfg.Model.Config), *out, size, onnx.IRVersion, onnx.Opset, onnx.InputName, strings.SplitN(formula, ":", 2)[0],
		onnx.LogitsName+", "+onnx.ProbabilitiesName)
	return nil
}

// num renders a metric for JSON (null for NaN or ±Inf).
func num(v float64) string {
	if v != v || v > 1e308 || v < -1e308 {
		return "null"
	}
	return fmt.Sprintf("%g", v)
}
