package experiments

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"

	"github.com/gradlab/gradlab/internal/plots"
)

// WritePaths writes the 2-D optimizer experiment into dir:
//
//	path_<optimizer>.csv   step,x,y,f   (step 0 is the start)
//	optimizer_paths.png    one contour panel of f per optimizer with its
//	                       path, and f against step for all of them
//
// It returns the names of the files written.
func WritePaths(dir string, r *PathsResult) ([]string, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	var files []string
	levels := []float64{0.05, 0.2, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 25}
	var panels []*plot.Plot
	var fs []plots.Series
	for _, p := range r.Paths {
		name := "path_" + strings.ToLower(p.Spec.Name) + ".csv"
		err := writeCSV(filepath.Join(dir, name), "step,x,y,f", func(w io.Writer) error {
			for i := range p.X {
				if _, err := fmt.Fprintf(w, "%d,%.8g,%.8g,%.8g\n", i, p.X[i], p.Y[i], p.F[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		files = append(files, name)
		title := fmt.Sprintf("%s (lr %g): f = %.2g after %d steps", p.Spec.Name, p.Spec.Config.LR, p.F[len(p.F)-1], r.Steps)
		c, err := plots.Contour(title, "x", "y", Bowl, -10, 10, -5, 5, levels, plots.Series{Name: p.Spec.Name, X: p.X, Y: p.Y})
		if err != nil {
			return nil, err
		}
		c.Legend = plot.NewLegend() // one path per panel: the title names it
		panels = append(panels, c)
		steps := make([]float64, len(p.F))
		for i := range steps {
			steps[i] = float64(i)
		}
		fs = append(fs, plots.Series{Name: p.Spec.Name, X: steps, Y: p.F})
	}
	pf, err := plots.Lines("f(x, y) = x²/20 + y² per step (log scale)", "step", "f", fs...)
	if err != nil {
		return nil, err
	}
	logY(pf)
	pf.Legend.Top, pf.Legend.Left = false, true
	panels = append(panels, pf)
	cols := 4
	rows := (len(panels) + cols - 1) / cols
	if err := savePNG(filepath.Join(dir, "optimizer_paths.png"), 11*float64(cols), 8*float64(rows), cols, panels...); err != nil {
		return nil, err
	}
	return append(files, "optimizer_paths.png"), nil
}
