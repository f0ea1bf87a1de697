// Package plots draws the line charts gradlab writes (learning curves,
// per-layer statistics) with gonum/plot, and saves them as PNG atomically.
package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"github.com/gradlab/gradlab/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named line.
type Series struct {
	Name string
	X, Y []float64
}

// Lines returns a plot of the series with a title, axis labels and a legend.
func Lines(title, xlabel, ylabel string, series ...Series) (*plot.Plot, error) {
	return lines(title, xlabel, ylabel, true, series)
}

// Plain is Lines without point markers, for long series (a loss per step).
func Plain(title, xlabel, ylabel string, series ...Series) (*plot.Plot, error) {
	return lines(title, xlabel, ylabel, false, series)
}

func lines(title, xlabel, ylabel string, markers bool, series []Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		c := plotutil.Color(i)
		l.Color, sc.Color = c, c
		l.Dashes = plotutil.Dashes(i / 7)
		if !markers {
			l.Width = vg.Points(1.3)
			p.Add(l)
			p.Legend.Add(s.Name, l)
			continue
		}
		sc.Shape = plotutil.Shape(i)
		sc.Radius = vg.Points(2)
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
	}
	placeLegend(p, series)
	return p, nil
}

// placeLegend puts the legend in the corner the data leaves emptiest (top
// right when it is free, as for a falling loss; bottom right for a rising
// accuracy), counting the points in the corner boxes of 40% × 30% of the
// data's ranges.
func placeLegend(p *plot.Plot, series []Series) {
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for j := range s.X {
			if !math.IsNaN(s.Y[j]) && !math.IsInf(s.Y[j], 0) {
				x0, x1, y0, y1 = min(x0, s.X[j]), max(x1, s.X[j]), min(y0, s.Y[j]), max(y1, s.Y[j])
			}
		}
	}
	if !(x1 > x0 && y1 > y0) {
		return
	}
	corners := []struct{ top, left bool }{{true, false}, {false, false}, {true, true}, {false, true}}
	best, fewest := 0, math.MaxInt
	for i, c := range corners {
		n := 0
		for _, s := range series {
			for j := range s.X {
				fx, fy := (s.X[j]-x0)/(x1-x0), (s.Y[j]-y0)/(y1-y0)
				if (c.left && fx <= 0.4 || !c.left && fx >= 0.6) && (c.top && fy >= 0.7 || !c.top && fy <= 0.3) {
					n++
				}
			}
		}
		if n < fewest {
			best, fewest = i, n
		}
	}
	p.Legend.Top, p.Legend.Left = corners[best].top, corners[best].left
}

// Color returns the i-th color of the palette the line plots use.
func Color(i int) color.Color { return plotutil.Color(i) }

// SavePNG draws plots in a grid of the given columns (rows follow) on one
// PNG of the given size in centimetres, written atomically to path.
func SavePNG(path string, width, height vg.Length, cols int, plots ...*plot.Plot) error {
	if cols < 1 || len(plots) == 0 {
		return fmt.Errorf("plots: %d plots in %d columns", len(plots), cols)
	}
	rows := (len(plots) + cols - 1) / cols
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		for j := range grid[i] {
			if k := i*cols + j; k < len(plots) {
				grid[i][j] = plots[k]
			}
		}
	}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}
