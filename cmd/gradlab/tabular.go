package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/table"
	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/train"
)

// csvData is the data spec of a run on a table: the file, how it was read
// and split, and the encoder fitted on its training rows (so evaluate,
// predict, export and -resume reapply it exactly).
type csvData struct {
	File     string         `json:"file"`
	Test     string         `json:"test,omitempty"`      // a separate test file, or "" for a split of File
	TestFrac float64        `json:"test_frac,omitempty"` // the seeded split's test share
	Fold     int            `json:"fold,omitempty"`      // with Folds: this run's fold, from 1
	Folds    int            `json:"folds,omitempty"`
	Options  table.Options  `json:"options"`
	Task     string         `json:"task,omitempty"` // as asked: "", classification, regression
	Impute   bool           `json:"impute,omitempty"`
	Encoder  *table.Encoder `json:"encoder,omitempty"`
}

// csvFlags are the flags of a run on a table.
type csvFlags struct {
	target, task, test, delim, ignore, categorical, missing *string
	testFrac                                                *float64
	skip, folds                                             *int
	noHeader, impute                                        *bool
}

func addCSVFlags(fs *flag.FlagSet) csvFlags {
	return csvFlags{
		target:      fs.String("target", "", "table: the target column (a name, or an index from 0; -1 is the last); -data FILE.csv -target COL trains on a table"),
		task:        fs.String("task", "", "table: classification or regression (default: from the target: categorical, or integers with at most "+strconv.Itoa(table.MaxIntClasses)+" values, is classification)"),
		test:        fs.String("test", "", "table: a separate test file (default: a seeded split of -data, see -test-frac)"),
		delim:       fs.String("delim", "", `table: the field delimiter: ",", ";", "tab" or "space" (runs of spaces); default detected`),
		ignore:      fs.String("ignore", "", "table: columns to leave out, comma-separated names or indices"),
		categorical: fs.String("categorical", "", "table: numeric columns to read as categories, comma-separated"),
		missing:     fs.String("missing", "", `table: the cells that mean missing, comma-separated (default "", NA, NaN, ?)`),
		testFrac:    fs.Float64("test-frac", 0.2, "table: the share of rows held out as the test set (a split seeded by -seed)"),
		skip:        fs.Int("skip", 0, "table: leading lines to skip (a count line, a title)"),
		folds:       fs.Int("folds", 0, "table: K-fold cross-validation: K runs, each testing on one fold, then each fold's metrics and their mean ± standard deviation"),
		noHeader:    fs.Bool("no-header", false, "table: the first line is data; the columns are c0, c1, …"),
		impute:      fs.Bool("impute", false, "table: fill missing cells with the training mean (numeric) or most frequent value (categorical) and add an indicator column; default: a missing cell is an error"),
	}
}

// options returns the read options the flags give.
func (f csvFlags) options() (table.Options, error) {
	split := func(s string) []string {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	o := table.Options{NoHeader: *f.noHeader, Skip: *f.skip, Target: *f.target, Ignore: split(*f.ignore), Categorical: split(*f.categorical)}
	if *f.missing != "" {
		o.Missing = strings.Split(*f.missing, ",")
	}
	switch *f.delim {
	case "":
	case "tab", `\t`:
		o.Delimiter = '\t'
	case "space", " ":
		o.Delimiter = ' '
	default:
		r := []rune(*f.delim)
		if len(r) != 1 {
			return o, fmt.Errorf("-delim %q: want one character, tab or space", *f.delim)
		}
		o.Delimiter = r[0]
	}
	if *f.skip < 0 {
		return o, fmt.Errorf("-skip %d: want ≥ 0", *f.skip)
	}
	return o, nil
}

// isTable reports whether -data names a file (a table) rather than an MNIST directory.
func isTable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// loadTable reads the table of a csv data spec, splits it by seed (or
// reads its test file), fits the encoder on the training rows unless the
// spec has one, and returns the data sets with the spec completed.
func loadTable(spec csvData, seed uint64) (train.Data, csvData, error) {
	t, err := table.ReadFile(spec.File, spec.Options)
	if err != nil {
		return train.Data{}, spec, err
	}
	var trainRows, testRows []int
	switch {
	case spec.Folds > 0:
		trainRows, testRows, err = table.Folds(t.Rows(), spec.Fold-1, spec.Folds, seed)
	case spec.Test != "":
		trainRows = table.All(t.Rows())
	default:
		trainRows, testRows, err = table.Split(t.Rows(), spec.TestFrac, seed)
	}
	if err != nil {
		return train.Data{}, spec, err
	}
	if spec.Encoder == nil {
		if spec.Encoder, err = table.Fit(t, trainRows, spec.Task, spec.Impute); err != nil {
			return train.Data{}, spec, err
		}
	}
	testTable := t
	if spec.Test != "" { // read as the encoder takes its columns
		if testTable, err = table.ReadFile(spec.Test, spec.Encoder.ReadOptions(spec.Options, true)); err != nil {
			return train.Data{}, spec, err
		}
		testRows = table.All(testTable.Rows())
	}
	var d train.Data
	if d.Train, err = spec.Encoder.Dataset(t, trainRows); err != nil {
		return d, spec, err
	}
	if len(testRows) > 0 {
		if d.Test, err = spec.Encoder.Dataset(testTable, testRows); err != nil {
			return d, spec, err
		}
	}
	return d, spec, nil
}

// csvSpec decodes a run's data spec as a table's, or reports that it is not one.
func csvSpec(s train.Spec) (csvData, bool, error) {
	if s.Name != "csv" {
		return csvData{}, false, nil
	}
	var c csvData
	err := s.Decode(&c)
	return c, true, err
}

// foldReport prints each fold's final test metrics and their mean ± standard deviation.
func foldReport(w io.Writer, finals []train.Scores) {
	if len(finals) == 0 {
		return
	}
	fmt.Fprintln(w, "cross-validation:")
	for k, s := range finals {
		fmt.Fprintf(w, "  fold %d: test %s\n", k+1, s)
	}
	var parts []string
	for i, sc := range finals[0] {
		var sum, sq float64
		for _, s := range finals {
			sum += s[i].Value
		}
		mean := sum / float64(len(finals))
		for _, s := range finals {
			sq += (s[i].Value - mean) * (s[i].Value - mean)
		}
		sd := math.Sqrt(sq / float64(max(len(finals)-1, 1)))
		parts = append(parts, fmt.Sprintf("%s %s ± %s", sc.Name, metrics.Format(sc.Name, mean), metrics.Format(sc.Name, sd)))
	}
	fmt.Fprintf(w, "  mean ± sd over %d folds: %s\n", len(finals), strings.Join(parts, ", "))
}

// predictTable writes the rows of each CSV file with the model's
// prediction appended (classification: the label and its probability;
// regression: the value in the target's units) as CSV on stdout; a row that
// cannot be read or encoded is named on stderr with its line and left out.
// It returns an error when any row failed.
func predictTable(m *models.Loaded, spec csvData, files []string, skip int, stdout, stderr io.Writer) error {
	enc := spec.Encoder
	if enc == nil {
		return fmt.Errorf("the checkpoint's data spec has no encoder")
	}
	w := csv.NewWriter(stdout)
	failed, total := 0, 0
	var first []string
	for i, file := range files {
		opt := enc.ReadOptions(spec.Options, false)
		opt.Lenient, opt.Records = true, true
		if skip >= 0 {
			opt.Skip = skip
		}
		t, err := table.ReadFile(file, opt)
		if err != nil {
			return err
		}
		x, _, _, bad, err := enc.Encode(t, table.All(t.Rows()))
		if err != nil {
			return err
		}
		for _, b := range t.Bad { // their errors name the file and line
			fmt.Fprintf(stderr, "gradlab predict: %v\n", b.Err)
		}
		for _, b := range bad {
			fmt.Fprintf(stderr, "gradlab predict: %s line %d: %v\n", file, b.Line, b.Err)
		}
		failed += len(t.Bad) + len(bad)
		total += t.Rows() + len(t.Bad)
		badLine := map[int]bool{}
		for _, b := range bad {
			badLine[b.Line] = true
		}
		head := slices.Clone(t.Header)
		if enc.Target.Task == table.Classification {
			head = append(head, "predicted_"+enc.Target.Name, "probability")
		} else {
			head = append(head, "predicted_"+enc.Target.Name)
		}
		if i == 0 { // one CSV on stdout: the first file's header (files with other columns need a run each)
			if err := w.Write(head); err != nil {
				return err
			}
		} else if !slices.Equal(t.Header, first) {
			return fmt.Errorf("%s has the columns %s, %s had %s: predict files of one layout in one run", file, strings.Join(t.Header, ","), files[0], strings.Join(first, ","))
		}
		if i == 0 {
			first = t.Header
		}
		if t.Rows() == 0 {
			continue
		}
		in := tensor.New(tensor.WithShape(t.Rows(), enc.Width()), tensor.WithBacking(x))
		if len(m.Params()) > 0 && m.Params()[0].Dtype() == tensor.Float64 { // a -dtype float64 model
			x64 := make([]float64, len(x))
			for i, v := range x {
				x64[i] = float64(v)
			}
			in = tensor.New(tensor.WithShape(t.Rows(), enc.Width()), tensor.WithBacking(x64))
		}
		p, err := m.Infer(in)
		if err != nil {
			return err
		}
		out := floatsOf(p)
		k := enc.Classes()
		for r, rec := range t.Records {
			if badLine[t.Lines[r]] {
				continue
			}
			row := slices.Clone(rec)
			if k > 0 {
				probs := out[r*k : (r+1)*k]
				best := nn.ArgmaxRow(probs)
				row = append(row, enc.Target.Classes[best], strconv.FormatFloat(probs[best], 'f', 4, 64))
			} else {
				row = append(row, strconv.FormatFloat(out[r], 'g', 7, 64))
			}
			if err := w.Write(row); err != nil {
				return err
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("predict: %d of %d rows could not be predicted", failed, total)
	}
	return nil
}

// columnsTable describes a table's encoding: each feature column, its kind
// and the inputs it becomes, then the target.
func columnsTable(e *table.Encoder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "columns (%d model inputs, in this order):\n", e.Width())
	for _, f := range e.Features {
		kind := "numeric, 1 input"
		if f.Levels != nil {
			kind = fmt.Sprintf("categorical, one-hot over %d levels (%s) + 1 for unseen", len(f.Levels), strings.Join(f.Levels, ", "))
		}
		if f.Indicator {
			kind += "; missing → " + map[bool]string{true: fmt.Sprintf("%g", f.Fill), false: f.FillLevel}[f.Levels == nil] + " + a missing indicator"
		}
		fmt.Fprintf(&b, "  %-20s %s\n", f.Name, kind)
	}
	if e.Target.Task == table.Classification {
		fmt.Fprintf(&b, "target %q: classification, %d classes (%s)\n", e.Target.Name, e.Classes(), strings.Join(e.Target.Classes, ", "))
	} else {
		fmt.Fprintf(&b, "target %q: regression\n", e.Target.Name)
	}
	return b.String()
}

// exportTable writes a table's model as ONNX: input "features", float32
// (N, inputs) in the encoder's column order (a numeric column's value as it
// is in the file, a categorical one as 0/1 columns, one per training level
// and one for an unseen level), with the standardization inside the graph;
// outputs the values (regression) or the logits and probabilities. The
// metadata say all of it, the encoder included as JSON.
func exportTable(m *models.Loaded, spec csvData, model, out string, stdout io.Writer) error {
	enc := spec.Encoder
	if enc == nil {
		return fmt.Errorf("%s: the data spec has no encoder", model)
	}
	ej, err := json.Marshal(enc)
	if err != nil {
		return err
	}
	outputs := onnx.ValuesName + " (N): the predicted " + enc.Target.Name + ", in its units"
	if enc.Target.Task == table.Classification {
		outputs = fmt.Sprintf("%s (N, %d), %s (N, %d): softmax of the logits; classes in order: %s",
			onnx.LogitsName, enc.Classes(), onnx.ProbabilitiesName, enc.Classes(), strings.Join(enc.Target.Classes, ", "))
	}
	opt := onnx.Options{InputName: "features", Input: []int{enc.Width()}, Metadata: map[string]string{
		"gradlab.model":   models.Describe(m.Config.Model.Name, m.Config.Model.Config),
		"gradlab.config":  m.Checkpoint.Metadata["config"],
		"gradlab.epoch":   m.Checkpoint.Metadata["epoch"],
		"gradlab.input":   fmt.Sprintf("features: float32 (N, %d), in the order of gradlab.columns: a numeric column's value as in the file; a categorical column as one 0/1 column per training level (name=level) and one for a level unseen in training (name=(unseen)); a missing-value indicator name(missing) where the run imputed; standardization is inside the graph", enc.Width()),
		"gradlab.columns": strings.Join(enc.Inputs(), ","),
		"gradlab.encoder": string(ej),
		"gradlab.outputs": outputs,
	}, DocString: "gradlab " + models.Describe(m.Config.Model.Name, m.Config.Model.Config) + " on " + spec.File}
	if err := onnx.WriteFile(out, m.Model, opt); err != nil {
		return fmt.Errorf("export %s: %w", model, err)
	}
	fmt.Fprintf(stdout, "gradlab export: %s (%s) → %s (ONNX IR %d, opset %d; input features float32 (N, %d), standardization inside; outputs %s)\n",
		model, models.Describe(m.Config.Model.Name, m.Config.Model.Config), out, onnx.IRVersion, onnx.Opset, enc.Width(), outputs)
	return nil
}

// floatsOf returns a float32 or float64 tensor's values as float64.
func floatsOf(t *tensor.Dense) []float64 {
	if d, ok := t.Data().([]float64); ok {
		return d
	}
	d := t.Float32s()
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}
