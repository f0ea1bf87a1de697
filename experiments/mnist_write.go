package experiments

import (
	"fmt"
	"io"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gradlab/gradlab/internal/plots"
)

// WriteCurves writes an MNIST experiment into dir:
//
//	<experiment>_steps.csv    run,step,loss          (mini-batch loss of every step)
//	<experiment>_epochs.csv   run,epoch,train_loss,train_acc,test_loss,test_acc
//	<experiment>.png          the figure: loss per step and test accuracy
//	                          (optimizers-mnist, init-mnist), training accuracy
//	                          per epoch with and without batch norm per weight
//	                          scale (batchnorm), train and test accuracy per
//	                          epoch per regularization (overfit)
//
// It returns the names of the files written.
func WriteCurves(dir string, r *CurvesResult) ([]string, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	name := r.Experiment
	steps, epochs := name+"_steps.csv", name+"_epochs.csv"
	err := writeCSV(filepath.Join(dir, steps), "run,step,loss", func(w io.Writer) error {
		for _, c := range r.Curves {
			for i, l := range c.StepLoss {
				if _, err := fmt.Fprintf(w, "%s,%d,%.6g\n", c.Name, i+1, l); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = writeCSV(filepath.Join(dir, epochs), "run,epoch,train_loss,train_acc,test_loss,test_acc", func(w io.Writer) error {
		for _, c := range r.Curves {
			for _, e := range c.Epochs {
				if _, err := fmt.Fprintf(w, "%s,%d,%.6g,%.6g,%.6g,%.6g\n", c.Name, e.Epoch, e.Train.Get("loss"), e.Train.Get("acc"), e.Test.Get("loss"), e.Test.Get("acc")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var panels []*plot.Plot
	cols := 2
	switch name {
	case "batchnorm":
		panels, err = bnPanels(r)
		cols = min(3, len(panels))
	case "overfit":
		panels, err = overfitPanels(r)
		cols = len(panels)
	default:
		panels, err = lossPanels(r)
	}
	if err != nil {
		return nil, err
	}
	rows := (len(panels) + cols - 1) / cols
	png := name + ".png"
	if err := savePNG(filepath.Join(dir, png), 13*float64(cols), 10*float64(rows), cols, panels...); err != nil {
		return nil, err
	}
	return []string{steps, epochs, png}, nil
}

// smooth returns the moving average of v over a trailing window of k.
func smooth(v []float64, k int) []float64 {
	out := make([]float64, len(v))
	var s float64
	for i, x := range v {
		s += x
		if i >= k {
			s -= v[i-k]
		}
		out[i] = s / float64(min(i+1, k))
	}
	return out
}

func seq(n int, from float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = from + float64(i)
	}
	return x
}

func label(c Curve) string {
	if c.Diverged {
		return fmt.Sprintf("%s (diverged at step %d)", c.Name, len(c.StepLoss))
	}
	return c.Name
}

// finite drops a diverged run's last (non-finite) loss.
func finite(v []float64) []float64 {
	if n := len(v); n > 0 && (math.IsNaN(v[n-1]) || math.IsInf(v[n-1], 0)) {
		return v[:n-1]
	}
	return v
}

func lossPanels(r *CurvesResult) ([]*plot.Plot, error) {
	var loss, acc []plots.Series
	for _, c := range r.Curves {
		l := smooth(finite(c.StepLoss), 20)
		loss = append(loss, plots.Series{Name: label(c), X: seq(len(l), 1), Y: l})
		a := plots.Series{Name: label(c)}
		for _, e := range c.Epochs {
			a.X, a.Y = append(a.X, float64(e.Epoch)), append(a.Y, e.Test.Get("acc"))
		}
		acc = append(acc, a)
	}
	pl, err := plots.Plain(fmt.Sprintf("%s: training loss (moving mean of 20 steps), %d images", r.Experiment, r.TrainN), "step", "cross-entropy loss", loss...)
	if err != nil {
		return nil, err
	}
	pa, err := plots.Lines(fmt.Sprintf("test accuracy (%d test images)", r.TestN), "epoch", "accuracy", acc...)
	if err != nil {
		return nil, err
	}
	pl.Legend.YOffs = -1.5 * vg.Centimeter // below the flat start of the curves
	pa.Legend.Top, pa.Legend.Left = false, false
	pa.Legend.YOffs = 1.5 * vg.Centimeter // above a curve that stays at chance
	return []*plot.Plot{pl, pa}, nil
}

func bnPanels(r *CurvesResult) ([]*plot.Plot, error) {
	var groups []string
	series := map[string][]plots.Series{}
	for i, c := range r.Curves {
		g := r.Runs[i].Group
		if _, ok := series[g]; !ok {
			groups = append(groups, g)
		}
		s := plots.Series{Name: "without batch norm"}
		if r.Runs[i].Net.BatchNorm {
			s.Name = "with batch norm"
		}
		if c.Diverged {
			s.Name += fmt.Sprintf(" (diverged at step %d)", len(c.StepLoss))
		}
		for _, e := range c.Epochs {
			s.X, s.Y = append(s.X, float64(e.Epoch)), append(s.Y, e.Train.Get("acc"))
		}
		series[g] = append(series[g], s)
	}
	var ps []*plot.Plot
	for _, g := range groups {
		p, err := plots.Lines(g, "epoch", fmt.Sprintf("training accuracy (%d images)", r.TrainN), series[g]...)
		if err != nil {
			return nil, err
		}
		p.Y.Min, p.Y.Max = 0, 1
		p.Legend.Top, p.Legend.Left = false, false
		ps = append(ps, p)
	}
	return ps, nil
}

func overfitPanels(r *CurvesResult) ([]*plot.Plot, error) {
	var ps []*plot.Plot
	for _, c := range r.Curves {
		tr, te := plots.Series{Name: "train"}, plots.Series{Name: "test"}
		for _, e := range c.Epochs {
			tr.X, tr.Y = append(tr.X, float64(e.Epoch)), append(tr.Y, e.Train.Get("acc"))
			te.X, te.Y = append(te.X, float64(e.Epoch)), append(te.Y, e.Test.Get("acc"))
		}
		f := c.Final()
		title := fmt.Sprintf("%s: train %.2f, test %.2f", label(c), f.Train.Get("acc"), f.Test.Get("acc"))
		p, err := plots.Plain(title, "epoch", fmt.Sprintf("accuracy (%d train / %d test images)", r.TrainN, r.TestN), tr, te)
		if err != nil {
			return nil, err
		}
		p.Y.Min, p.Y.Max = 0, 1
		p.Legend.Top, p.Legend.Left = false, false
		ps = append(ps, p)
	}
	return ps, nil
}
