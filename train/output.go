package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/internal/plots"
)

// MetricsHeader is the first line of metrics.csv.
const MetricsHeader = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds"

func writeConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("train: config: %w", err)
	}
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
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

// metricsCSV renders the history as metrics.csv. Numbers are written in
// full precision (strconv 'g', -1), so equal runs give equal files.
func metricsCSV(history []Epoch) []byte {
	var b strings.Builder
	b.WriteString(MetricsHeader + "\n")
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, e := range history {
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s,%.3f\n", e.Epoch, f(e.TrainLoss), f(e.TrainAcc), f(e.TestLoss), f(e.TestAcc), f(e.LR), e.Seconds)
	}
	return []byte(b.String())
}

func (r *run) writeOutputs(dir string) error {
	err := checkpoint.WriteAtomic(filepath.Join(dir, "metrics.csv"), func(w io.Writer) error {
		_, err := w.Write(metricsCSV(r.history))
		return err
	})
	if err != nil {
		return err
	}
	return writeCurves(filepath.Join(dir, "curves.png"), r.history)
}

func writeCurves(path string, history []Epoch) error {
	n := len(history)
	x := make([]float64, n)
	cols := map[string][]float64{}
	for i, e := range history {
		x[i] = float64(e.Epoch)
		for k, v := range map[string]float64{"train loss": e.TrainLoss, "test loss": e.TestLoss, "val loss": e.ValLoss,
			"train acc": e.TrainAcc, "test acc": e.TestAcc, "val acc": e.ValAcc} {
			cols[k] = append(cols[k], v)
		}
	}
	series := func(names ...string) []plots.Series {
		var s []plots.Series
		for _, name := range names {
			if !math.IsNaN(cols[name][0]) {
				s = append(s, plots.Series{Name: strings.Fields(name)[0], X: x, Y: cols[name]})
			}
		}
		return s
	}
	loss, err := plots.Lines("Loss", "epoch", "cross-entropy", series("train loss", "val loss", "test loss")...)
	if err != nil {
		return err
	}
	acc, err := plots.Lines("Accuracy", "epoch", "accuracy", series("train acc", "val acc", "test acc")...)
	if err != nil {
		return err
	}
	return plots.SavePNG(path, 24*vg.Centimeter, 10*vg.Centimeter, 2, loss, acc)
}
