package experiments

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gradlab/gradlab/internal/atomicfile"
	"github.com/gradlab/gradlab/internal/plots"
)

// writeCSV writes a CSV file atomically: a header line, then rows.
func writeCSV(path, header string, rows func(w io.Writer) error) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if _, err := fmt.Fprintln(bw, header); err != nil {
			return err
		}
		if err := rows(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("experiments: write %s: %w", path, err)
	}
	return nil
}

// savePNG saves plots in a grid, sizes in centimetres.
func savePNG(path string, wcm, hcm float64, cols int, ps ...*plot.Plot) error {
	if err := plots.SavePNG(path, vg.Length(wcm)*vg.Centimeter, vg.Length(hcm)*vg.Centimeter, cols, ps...); err != nil {
		return fmt.Errorf("experiments: write %s: %w", path, err)
	}
	return nil
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("experiments: %w", err)
	}
	return nil
}

// logY puts p's y axis on a log scale.
func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: 1}
}
