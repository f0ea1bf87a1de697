package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Histogram returns a bar histogram of precomputed counts: bin i spans
// [edges[i], edges[i+1]) and has height counts[i].
func Histogram(title, xlabel, ylabel string, edges, counts []float64) (*plot.Plot, error) {
	if len(edges) != len(counts)+1 || len(counts) == 0 {
		return nil, fmt.Errorf("plots: histogram %q has %d edges for %d counts", title, len(edges), len(counts))
	}
	bins := make([]plotter.HistogramBin, len(counts))
	for i, c := range counts {
		bins[i] = plotter.HistogramBin{Min: edges[i], Max: edges[i+1], Weight: c}
	}
	h := &plotter.Histogram{Bins: bins, Width: edges[1] - edges[0], FillColor: plotutil.Color(0), LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Width = vg.Points(0.5)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max = edges[0], edges[len(edges)-1]
	p.Add(h)
	return p, nil
}

// grid is a plotter.GridXYZ of z = f(x, y) sampled on xs × ys.
type grid struct {
	xs, ys []float64
	z      []float64
}

func (g grid) Dims() (c, r int)   { return len(g.xs), len(g.ys) }
func (g grid) Z(c, r int) float64 { return g.z[r*len(g.xs)+c] }
func (g grid) X(c int) float64    { return g.xs[c] }
func (g grid) Y(r int) float64    { return g.ys[r] }

// Contour returns a contour plot of f over [x0, x1] × [y0, y1] at the given
// levels, with series drawn on top as lines with points (optimizer paths).
func Contour(title, xlabel, ylabel string, f func(x, y float64) float64, x0, x1, y0, y1 float64, levels []float64, series ...Series) (*plot.Plot, error) {
	const n = 120
	g := grid{xs: make([]float64, n), ys: make([]float64, n), z: make([]float64, n*n)}
	for i := range n {
		g.xs[i] = x0 + (x1-x0)*float64(i)/(n-1)
		g.ys[i] = y0 + (y1-y0)*float64(i)/(n-1)
	}
	for r, y := range g.ys {
		for c, x := range g.xs {
			g.z[r*n+c] = f(x, y)
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = x0, x1, y0, y1
	p.Legend.Top = true
	c := plotter.NewContour(g, levels, grayPalette{})
	p.Add(c)
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			// Clip to the frame so a diverging path does not rescale it.
			pts = append(pts, plotter.XY{X: clamp(s.X[j], x0, x1), Y: clamp(s.Y[j], y0, y1)})
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		col := plotutil.Color(i)
		l.Color, sc.Color = col, col
		l.Width = vg.Points(1.2)
		sc.Shape = plotutil.Shape(i)
		sc.Radius = vg.Points(1.8)
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
	}
	return p, nil
}

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return hi
	}
	return math.Max(lo, math.Min(hi, v))
}

// grayPalette draws contour lines in light gray.
type grayPalette struct{}

func (grayPalette) Colors() []color.Color {
	return []color.Color{color.Gray{Y: 170}}
}

var _ palette.Palette = grayPalette{}
