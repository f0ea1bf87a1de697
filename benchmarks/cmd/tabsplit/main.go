// Command tabsplit writes, as JSON, the seeded train/test split of a table
// exactly as `gradlab train -data FILE -target COL` makes it
// (datasets/table.ReadFile, table.Split, table.Fit on the training rows,
// Encoder.Encode), so that benchmarks/torch_tabular.py can fit its
// baselines and its PyTorch twin on the same rows:
//
//	go run ./benchmarks/cmd/tabsplit -data iris.csv -skip 1 -no-header -target -1 -seed 1 -o split.json
//
// The file holds the row indices of both sets (from 0, in file order), the
// encoded features (float32 values, before the model's standardization, one
// row per list) and targets (class indices or values), the task, the class
// names and the feature names.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/datasets/table"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tabsplit:", err)
		}
		os.Exit(1)
	}
}

// Split is the file tabsplit writes.
type Split struct {
	File      string      `json:"file"`
	Seed      uint64      `json:"seed"`
	TestFrac  float64     `json:"test_frac"`
	Task      string      `json:"task"`              // classification or regression
	Classes   []string    `json:"classes,omitempty"` // classification: the class of each index
	Features  []string    `json:"features"`          // the encoded inputs' names
	TrainRows []int       `json:"train_rows"`
	TestRows  []int       `json:"test_rows"`
	XTrain    [][]float32 `json:"x_train"`
	XTest     [][]float32 `json:"x_test"`
	YTrain    []float64   `json:"y_train"` // class indices or values
	YTest     []float64   `json:"y_test"`
	// With -val N: the positions in TrainRows (and XTrain) of the N rows
	// `gradlab train -val N` holds out for validation (datasets.Split of the
	// training set by the same seed), in order.
	Val []int `json:"val,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tabsplit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the table (required)")
	target := fs.String("target", "", "the target column: a name, or an index (-1 is the last) (required)")
	skip := fs.Int("skip", 0, "leading lines to skip")
	noHeader := fs.Bool("no-header", false, "the first line is data")
	task := fs.String("task", "", "classification or regression (default: from the target, as gradlab train)")
	seed := fs.Uint64("seed", 1, "the split's seed (gradlab train -seed)")
	testFrac := fs.Float64("test-frac", 0.2, "the test share (gradlab train -test-frac)")
	val := fs.Int("val", 0, "also name the training rows gradlab train -val N holds out")
	out := fs.String("o", "", "file to write; default stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *data == "" || *target == "" {
		return errors.New("-data FILE and -target COL are required")
	}
	s, err := split(*data, table.Options{NoHeader: *noHeader, Skip: *skip, Target: *target}, *task, *seed, *testFrac)
	if err != nil {
		return err
	}
	if *val > 0 {
		if s.Val, err = valRows(len(s.TrainRows), *val, *seed); err != nil {
			return err
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

// split reads and splits the table as gradlab train does.
func split(file string, opt table.Options, task string, seed uint64, frac float64) (*Split, error) {
	t, err := table.ReadFile(file, opt)
	if err != nil {
		return nil, err
	}
	trainRows, testRows, err := table.Split(t.Rows(), frac, seed)
	if err != nil {
		return nil, err
	}
	enc, err := table.Fit(t, trainRows, task, false)
	if err != nil {
		return nil, err
	}
	s := &Split{File: file, Seed: seed, TestFrac: frac, Task: enc.Target.Task, Classes: enc.Target.Classes,
		Features: enc.Inputs(), TrainRows: trainRows, TestRows: testRows}
	if s.XTrain, s.YTrain, err = encode(enc, t, trainRows); err != nil {
		return nil, err
	}
	if s.XTest, s.YTest, err = encode(enc, t, testRows); err != nil {
		return nil, err
	}
	return s, nil
}

func encode(enc *table.Encoder, t *table.Table, rows []int) ([][]float32, []float64, error) {
	x, labels, values, bad, err := enc.Encode(t, rows)
	if err != nil {
		return nil, nil, err
	}
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("%s %v (and %d more rows)", t.File, bad[0], len(bad)-1)
	}
	w := enc.Width()
	xs, ys := make([][]float32, len(rows)), make([]float64, len(rows))
	for i := range rows {
		xs[i] = x[i*w : (i+1)*w]
		if labels != nil {
			ys[i] = float64(labels[i])
		} else {
			ys[i] = float64(values[i])
		}
	}
	return xs, ys, nil
}

// valRows returns the positions of the validation rows train.Train takes
// from n training rows with Config.Validation = val and seed: those
// datasets.Split puts in its second view, found by splitting a data set
// whose one feature is each row's position.
func valRows(n, val int, seed uint64) ([]int, error) {
	pos, y := make([]float32, n), make([]float32, n)
	for i := range pos {
		pos[i] = float32(i)
	}
	d, err := datasets.New(pos, datasets.Field{Dtype: tensor.Float32, Shape: []int{1}}, y, datasets.Field{Dtype: tensor.Float32})
	if err != nil {
		return nil, err
	}
	_, v, err := datasets.Split(d, val, seed)
	if err != nil {
		return nil, err
	}
	idx := table.All(v.Len())
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(v.Len(), 1))
	if err := v.Gather(idx, x, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(v.Len()))); err != nil {
		return nil, err
	}
	out := make([]int, v.Len())
	for i, p := range x.Float32s() {
		out[i] = int(p)
	}
	return out, nil
}
