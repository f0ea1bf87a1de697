package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gradlab/gradlab/experiments"
	"github.com/gradlab/gradlab/train"
)

const experimentUsage = `Usage: gradlab experiment <name> [-out DIR] [-quick] [-seed N] [-data DIR]

Regenerates the lecture's figures (PNG), their data (CSV) and, for "all",
a report (report.md) in -out. Names:

  init-stats   activation statistics and histograms per layer for six initializations
  optimizers   optimizer paths on f(x, y) = x²/20 + y², and MNIST loss per optimizer
  init-mnist   MNIST loss for N(0, 0.01²), Xavier and He initialization
  batchnorm    MNIST training with and without batch norm across weight scales
  overfit      300 MNIST images: no regularization, weight decay, dropout
  all          everything above, and report.md

Flags:
`

// runExperiment implements gradlab experiment.
func runExperiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradlab experiment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, experimentUsage)
		fs.PrintDefaults()
	}
	out := fs.String("out", "runs/experiments", "output directory (the README's figures: -out docs)")
	quick := fs.Bool("quick", false, "small subsets and few epochs (seconds instead of minutes)")
	seed := fs.Uint64("seed", 1, "seed of every random choice")
	dataDir := fs.String("data", "", "MNIST directory (IDX files); default the GoMNIST module's data")
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("experiment: unexpected arguments %q", fs.Args())
	}
	if name == "" {
		fs.Usage()
		return errors.New("experiment: no experiment named")
	}
	opt := experiments.Options{Seed: *seed, Quick: *quick}
	var (
		once sync.Once
		data train.Data
		derr error
	)
	load := func() (train.Data, error) {
		once.Do(func() {
			data, derr = loadMNIST(*dataDir, train.Spec{Name: "mnist", Config: []byte(`{"scaling":"unit"}`)})
		})
		return data, derr
	}
	report := func(o *experiments.Outcome) {
		fmt.Fprintf(stdout, "%s: %.1fs, wrote %s\n", o.Name, o.Seconds, strings.Join(o.Files, ", "))
	}
	if name == "all" {
		if _, err := experiments.All(ctx, *out, load, opt, report); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report: %s/report.md\n", strings.TrimRight(*out, "/"))
		return nil
	}
	o, err := experiments.Run(ctx, name, *out, load, opt)
	if err != nil {
		if errors.Is(err, experiments.ErrUnknown) {
			fs.Usage()
		}
		return err
	}
	report(o)
	return nil
}
