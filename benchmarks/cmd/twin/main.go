// Command twin writes the file benchmarks/torch_train.py reads to repeat a
// gradlab train run in PyTorch: the initial weights, the per-epoch order of
// the training examples and the run's configuration (see
// benchmarks.WriteTwin).
//
//	go run ./benchmarks/cmd/twin -o twin.safetensors                    # the default gradlab train
//	go run ./benchmarks/cmd/twin -config runs/x/config.json -o twin.safetensors
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gradlab/gradlab/benchmarks"
	"github.com/gradlab/gradlab/train"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "twin:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("twin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "config.json of a gradlab train run; default the configuration of gradlab train without flags")
	data := fs.String("data", "", "MNIST directory; default $GRADLAB_MNIST_DIR or the GoMNIST module's data")
	out := fs.String("o", "", "file to write (required), e.g. twin.safetensors")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("-o FILE is required")
	}
	cfg, err := benchmarks.DefaultTwinConfig()
	if err != nil {
		return err
	}
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			return err
		}
		if cfg, err = train.ReadConfig(b); err != nil {
			return fmt.Errorf("%s: %w", *config, err)
		}
	}
	if err := benchmarks.WriteTwin(*out, cfg, *data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "twin: %s: %s, %d epochs of batch %d, seed %d → %s\n",
		cfgName(*config), cfg.Model.Name, cfg.Epochs, cfg.Batch, cfg.Seed, *out)
	return nil
}

func cfgName(path string) string {
	if path == "" {
		return "default gradlab train"
	}
	return path
}
