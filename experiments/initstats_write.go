package experiments

import (
	"fmt"
	"io"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gradlab/gradlab/internal/plots"
)

// WriteInitStats writes the init-stats experiment into dir:
//
//	stats.csv                 case,layer,mean,std
//	grads.csv                 case,layer,grad_std (when gradients were computed)
//	init_stats.png            activation mean and std per layer, every case
//	init_hist_<case>.png      one histogram panel per layer
//
// It returns the names of the files written.
func WriteInitStats(dir string, r *InitStatsResult) ([]string, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	var files []string
	err := writeCSV(filepath.Join(dir, "stats.csv"), "case,layer,mean,std", func(w io.Writer) error {
		for _, c := range r.Cases {
			for _, l := range c.Layers {
				if _, err := fmt.Fprintf(w, "%s,%d,%.6g,%.6g\n", c.Case.Name, l.Layer, l.Mean, l.Std); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	files = append(files, "stats.csv")
	if r.hasGrads() {
		err := writeCSV(filepath.Join(dir, "grads.csv"), "case,layer,grad_std", func(w io.Writer) error {
			for _, c := range r.Cases {
				for _, l := range c.Layers {
					if _, err := fmt.Fprintf(w, "%s,%d,%.6g\n", c.Case.Name, l.Layer, l.GradStd); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		files = append(files, "grads.csv")
	}
	var means, stds, grads []plots.Series
	for _, c := range r.Cases {
		m := plots.Series{Name: c.Case.Name}
		s := plots.Series{Name: c.Case.Name}
		g := plots.Series{Name: c.Case.Name}
		for _, l := range c.Layers {
			m.X, m.Y = append(m.X, float64(l.Layer)), append(m.Y, l.Mean)
			s.X, s.Y = append(s.X, float64(l.Layer)), append(s.Y, l.Std)
			g.X, g.Y = append(g.X, float64(l.Layer)), append(g.Y, l.GradStd)
		}
		means, stds, grads = append(means, m), append(stds, s), append(grads, g)
	}
	pm, err := plots.Lines("activation mean per layer", "layer", "mean", means...)
	if err != nil {
		return nil, err
	}
	ps, err := plots.Lines("activation std per layer (log scale)", "layer", "std", stds...)
	if err != nil {
		return nil, err
	}
	logY(ps)
	ps.Legend.Top, ps.Legend.Left = false, true
	panels := []*plot.Plot{pm, ps}
	if r.hasGrads() {
		pg, err := plots.Lines("weight-gradient std per layer (log scale)", "layer", "std of dL/dW", grads...)
		if err != nil {
			return nil, err
		}
		logY(pg)
		pg.Legend.Top, pg.Legend.Left = false, true
		pg.Legend.YOffs = vg.Centimeter
		panels = append(panels, pg)
	}
	if err := savePNG(filepath.Join(dir, "init_stats.png"), 12*float64(len(panels)), 10, len(panels), panels...); err != nil {
		return nil, err
	}
	files = append(files, "init_stats.png")
	for _, c := range r.Cases {
		var hp []*plot.Plot
		for i, h := range c.Hists {
			l := c.Layers[i]
			title := fmt.Sprintf("%s, layer %d\nmean %.2g, std %.2g", c.Case.Name, l.Layer, l.Mean, l.Std)
			xl := "activation"
			if c.Activation == "relu" {
				xl = fmt.Sprintf("activation > 0 (%.0f%% zeros left out)", 100*l.Zeros)
			}
			p, err := plots.Histogram(title, xl, "count", h.Edges, h.Counts)
			if err != nil {
				return nil, err
			}
			hp = append(hp, p)
		}
		cols := min(5, len(hp))
		rows := (len(hp) + cols - 1) / cols
		name := "init_hist_" + c.Case.Name + ".png"
		if err := savePNG(filepath.Join(dir, name), 9*float64(cols), 7*float64(rows)+1, cols, hp...); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	return files, nil
}

func (r *InitStatsResult) hasGrads() bool {
	for _, c := range r.Cases {
		for _, l := range c.Layers {
			if l.GradStd != 0 {
				return true
			}
		}
	}
	return false
}
