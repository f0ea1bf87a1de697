package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gradlab/gradlab/internal/atomicfile"
	"github.com/gradlab/gradlab/internal/plots"
	"github.com/gradlab/gradlab/metrics"
)

// MetricsHeader is the first line of metrics.csv of a classifier's run
// with a test set and no validation set (the default run); in general the
// columns are Run.Columns.
const MetricsHeader = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds"

func writeConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("train: config: %w", err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadConfig reads a config.json written by a run.
func ReadConfig(b []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%w: config: %w", ErrConfig, err)
	}
	// config.json indents the specs; keep them in their compact form.
	for _, s := range []*Spec{&c.Model, &c.Data} {
		if len(s.Config) > 0 {
			var buf bytes.Buffer
			if err := json.Compact(&buf, s.Config); err != nil {
				return c, fmt.Errorf("%w: config of %s: %w", ErrConfig, s.Name, err)
			}
			s.Config = buf.Bytes()
		}
	}
	return c, nil
}

// metricsCSV renders the history under the given columns (Run.Columns) as
// metrics.csv. Numbers are written in full precision (strconv 'g', -1), so
// equal runs give equal files.
func metricsCSV(cols []string, history []Epoch) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	for _, e := range history {
		for i, v := range row(cols, e) {
			if i > 0 {
				b.WriteByte(',')
			}
			switch cols[i] {
			case "epoch":
				fmt.Fprintf(&b, "%d", e.Epoch)
			case "seconds":
				fmt.Fprintf(&b, "%.3f", v)
			default:
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// row returns the values of e under the columns cols: epoch, lr, seconds,
// or "<set>_<metric>" (NaN when e lacks it).
func row(cols []string, e Epoch) []float64 {
	v := make([]float64, len(cols))
	for i, c := range cols {
		switch c {
		case "epoch":
			v[i] = float64(e.Epoch)
		case "lr":
			v[i] = e.LR
		case "seconds":
			v[i] = e.Seconds
		default:
			set, name, _ := strings.Cut(c, "_")
			v[i] = e.Set(set).Get(name)
		}
	}
	return v
}

// fromRow is row's inverse.
func fromRow(cols []string, v []float64) Epoch {
	var e Epoch
	for i, c := range cols {
		switch c {
		case "epoch":
			e.Epoch = int(v[i])
		case "lr":
			e.LR = v[i]
		case "seconds":
			e.Seconds = v[i]
		default:
			set, name, _ := strings.Cut(c, "_")
			dst := map[string]*Scores{"train": &e.Train, "val": &e.Val, "test": &e.Test}[set]
			if dst != nil {
				*dst = append(*dst, Score{name, v[i]})
			}
		}
	}
	return e
}

func (r *Run) writeOutputs(dir string) error {
	err := atomicfile.Write(filepath.Join(dir, "metrics.csv"), func(w io.Writer) error {
		_, err := w.Write(metricsCSV(r.Columns(), r.history))
		return err
	})
	if err != nil {
		return err
	}
	lossName := "loss"
	if l := lossOf(r.model); l != nil {
		lossName = strings.ReplaceAll(l.Name(), "_", "-")
	}
	return writeCurves(filepath.Join(dir, "curves.png"), r.history, r.metrics, lossName)
}

// titles names the built-in metrics in plots.
var titles = map[string]string{"acc": "accuracy", "binary_acc": "binary accuracy", "rmse": "RMSE", "mae": "MAE", "r2": "R²",
	"bits_per_token": "bits per token", "perplexity": "perplexity"}

// writeCurves plots the loss (y-axis lossName) and, when the run has one,
// its first metric against the epoch, for each set.
func writeCurves(path string, history []Epoch, ms []metrics.Metric, lossName string) error {
	x := make([]float64, len(history))
	for i, e := range history {
		x[i] = float64(e.Epoch)
	}
	series := func(name string) []plots.Series {
		var s []plots.Series
		for _, set := range []string{"train", "val", "test"} {
			if len(history) > 0 && history[0].Set(set) != nil {
				y := make([]float64, len(history))
				for i, e := range history {
					y[i] = e.Set(set).Get(name)
				}
				s = append(s, plots.Series{Name: set, X: x, Y: y})
			}
		}
		return s
	}
	loss, err := plots.Lines("Loss", "epoch", lossName, series("loss")...)
	if err != nil {
		return err
	}
	panels := []*plot.Plot{loss}
	if len(ms) > 1 {
		name := ms[1].Name()
		label := name
		if t, ok := titles[name]; ok {
			label = t
		}
		title := strings.ToUpper(label[:1]) + label[1:]
		p, err := plots.Lines(title, "epoch", label, series(name)...)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	return plots.SavePNG(path, 24*vg.Centimeter, 10*vg.Centimeter, 2, panels...)
}
