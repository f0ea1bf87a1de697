package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/datasets/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// houses writes a table of n houses: size, rooms, a city (categorical),
// a quoted note with a comma, and the price, a function of them plus noise.
func houses(t *testing.T, n int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"size", "rooms", "city", "note", "price"})
	cities := []string{"Oslo", "Lyon", "Porto"}
	for range n {
		size, rooms, c := 50+100*rng.Float64(), 1+rng.IntN(5), rng.IntN(3)
		price := 2*size + 10*float64(rooms) + []float64{80, 20, -30}[c] + 5*rng.NormFloat64()
		w.Write([]string{fmt.Sprintf("%.1f", size), fmt.Sprint(rooms), cities[c], "nice, quiet", fmt.Sprintf("%.2f", price)})
	}
	w.Flush()
	path := filepath.Join(t.TempDir(), "houses.csv")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

// lastCSV returns metrics.csv's header and last row as a map.
func lastCSV(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head, last := strings.Split(lines[0], ","), strings.Split(lines[len(lines)-1], ",")
	m := map[string]string{}
	for i, h := range head {
		m[h] = last[i]
	}
	return m
}

func TestTableRegressionEndToEnd(t *testing.T) {
	data := houses(t, 400, 1)
	dir := t.TempDir()
	out, errb, err := runCmd("train", "-data", data, "-target", "price", "-ignore", "note", "-epochs", "40", "-out", dir)
	require.NoError(t, err, errb)
	assert.Contains(t, out, "gradlab train: 320 train / 80 test rows, model tabular 6-[64 64]-regression")
	assert.Contains(t, out, "final test rmse")
	assert.NotContains(t, out, "acc")
	m := lastCSV(t, dir)
	var r2 float64
	fmt.Sscan(m["test_r2"], &r2)
	assert.Greater(t, r2, 0.95, "price is nearly linear in the features: %v", m)
	for _, f := range []string{"metrics.csv", "curves.png", "config.json", "checkpoint.safetensors"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	ckpt := filepath.Join(dir, "checkpoint.safetensors")

	out, _, err = runCmd("summary", "-model", ckpt)
	require.NoError(t, err)
	assert.Contains(t, out, "categorical, one-hot over 3 levels (")
	assert.Contains(t, out, `target "price": regression`)

	onnxFile := filepath.Join(t.TempDir(), "houses.onnx")
	out, _, err = runCmd("export", "-model", ckpt, "-o", onnxFile)
	require.NoError(t, err)
	assert.Contains(t, out, "input features float32 (N, 6), standardization inside; outputs values (N): the predicted price")
	b, err := os.ReadFile(onnxFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), "city=Oslo", "the columns are in the metadata")

	out, _, err = runCmd("evaluate", "-model", ckpt, "-data", houses(t, 50, 2))
	require.NoError(t, err)
	assert.Contains(t, out, "rmse")
	assert.Contains(t, out, "(50 examples)")

	rows := filepath.Join(t.TempDir(), "rows.csv")
	require.NoError(t, os.WriteFile(rows, []byte("city,size,rooms\nOslo,100,3\nLyon,80\nTokyo,120,2\nPorto,abc,1\n"), 0o644))
	out, errb, err = runCmd("predict", "-model", ckpt, rows)
	require.Error(t, err, "two rows could not be predicted")
	assert.Contains(t, err.Error(), "2 of 4 rows")
	assert.Contains(t, errb, "line 3: 2 fields, want 3")
	assert.Contains(t, errb, `line 5, column "size": "abc" is not a number`)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3, "a header and the two good rows (an unseen city is predicted):\n%s", out)
	assert.Equal(t, []string{"city", "size", "rooms", "predicted_price"}, recs[0])
	var p float64
	fmt.Sscan(recs[1][3], &p)
	assert.InDelta(t, 2*100+30+80, p, 25, "Oslo, 100 m², 3 rooms")
}

func TestTableClassificationResumeAndFolds(t *testing.T) {
	// Three classes of points around three centres; a label column of words.
	rng := rand.New(rand.NewPCG(3, 3))
	var b strings.Builder
	b.WriteString("3 classes of points\n")
	for i := range 300 {
		k := i % 3
		fmt.Fprintf(&b, "%.3f;%.3f;%s\n", float64(k)+0.3*rng.NormFloat64(), float64(k%2)+0.3*rng.NormFloat64(), []string{"a", "b", "c"}[k])
	}
	data := filepath.Join(t.TempDir(), "pts.txt")
	require.NoError(t, os.WriteFile(data, []byte(b.String()), 0o644))
	args := []string{"train", "-data", data, "-skip", "1", "-no-header", "-target", "-1", "-schedule", "constant", "-epochs", "6"}

	full := t.TempDir()
	out, errb, err := runCmd(append(args, "-out", full)...)
	require.NoError(t, err, errb)
	assert.Contains(t, out, "final test accuracy")
	assert.Contains(t, out, "test confusion matrix:")
	m := lastCSV(t, full)
	var acc float64
	fmt.Sscan(m["test_acc"], &acc)
	assert.Greater(t, acc, 0.85)

	part := t.TempDir()
	_, _, err = runCmd(append(args[:len(args)-1], "3", "-out", part)...)
	require.NoError(t, err)
	_, errb, err = runCmd("train", "-resume", "-out", part, "-epochs", "6")
	require.NoError(t, err, errb)
	a, _ := os.ReadFile(filepath.Join(full, "metrics.csv"))
	c, _ := os.ReadFile(filepath.Join(part, "metrics.csv"))
	untime := func(s []byte) string {
		var rows []string
		for _, l := range strings.Split(strings.TrimSpace(string(s)), "\n") {
			rows = append(rows, l[:strings.LastIndex(l, ",")])
		}
		return strings.Join(rows, "\n")
	}
	assert.Equal(t, untime(a), untime(c), "resumed = uninterrupted")

	out, errb, err = runCmd("train", "-data", data, "-skip", "1", "-no-header", "-target", "-1", "-epochs", "3", "-folds", "3", "-out", t.TempDir())
	require.NoError(t, err, errb)
	assert.Contains(t, out, "fold 3: test loss")
	assert.Contains(t, out, "mean ± sd over 3 folds: loss")
	assert.Regexp(t, `acc \d+\.\d\d% ± \d`, out)
}

func TestTableBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	cases := []struct {
		name   string
		file   string
		target string
		says   string
	}{
		{"no target column", write("a.csv", []byte("x,y\n1,2\n")), "price", `target column "price" is not a column; the columns are x, y`},
		{"empty", write("b.csv", nil), "y", "is empty"},
		{"header only", write("c.csv", []byte("x,y\n")), "y", "has a header and no rows"},
		{"one class", write("d.csv", []byte("x,y\n1,a\n2,a\n3,a\n4,a\n5,a\n6,a\n")), "y", `has one class (a)`},
		{"NaN", write("e.csv", []byte("x,y\n1,2\nNaN,3\n4,5\n")), "y", `line 3, column "x": missing value`},
		{"Inf", write("f.csv", []byte("x,y\n1,2\n+Inf,3\n")), "y", `"+Inf" is not a finite number`},
		{"binary", write("g.csv", []byte("x,y\n\x00\x01\x02\x03")), "y", "is not text"},
		{"ragged", write("h.csv", []byte("x,y\n1,2\n3,4,5\n")), "y", "line 3: 3 fields, want 2"},
		{"stray word", write("i.csv", []byte("x,y\n1,2\n3,4\nabout 5,6\n")), "y", `line 4, column "x": "about 5" is not a number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "run-"+strings.ReplaceAll(c.name, " ", "-"))
			_, _, err := runCmd("train", "-data", c.file, "-target", c.target, "-out", out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
			assert.NoDirExists(t, out, "nothing written")
		})
	}
	_, _, err := runCmd("train", "-data", write("j.csv", []byte("x,y\n1,2\n")), "-target", "y", "-scaling", "unit")
	assert.ErrorContains(t, err, "-scaling is MNIST's")
	_, _, err = runCmd("train", "-impute", "-out", filepath.Join(dir, "k"))
	assert.ErrorContains(t, err, "-impute is for a table")
	_, _, err = runCmd("train", "-data", write("l.csv", []byte("x,y\n1,2\n")), "-target", "y", "-folds", "3", "-resume")
	assert.ErrorContains(t, err, "-folds runs K trainings from scratch")
	_, _, err = runCmd("train", "-data", write("m.csv", []byte("x,y\n1,2\n")), "-target", "y", "-folds", "3", "-test", "other.csv")
	assert.ErrorContains(t, err, "takes no -test file")
}

// TestTableStandardizationFittedOnTrainingRows checks that the means and
// standard deviations saved in a run's config are those of the rows it
// trained on: without its -test-frac rows and without its -val rows. The
// statistics are computed here from the file's values; the rows come from
// table.Split and datasets.Split with the run's seed (the splits train
// makes), and the values are far apart so that any held-out row moves them.
func TestTableStandardizationFittedOnTrainingRows(t *testing.T) {
	const n, val, seed = 40, 8, 7
	xs := make([]float64, n)
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range xs {
		xs[i] = float64(i*i) / 10 // distinct, so each row's absence shows
		fmt.Fprintf(&b, "%g,%g\n", xs[i], 3*xs[i]+float64(i%3))
	}
	data := filepath.Join(t.TempDir(), "t.csv")
	require.NoError(t, os.WriteFile(data, []byte(b.String()), 0o644))
	dir := t.TempDir()
	_, errb, err := runCmd("train", "-data", data, "-target", "y", "-test-frac", "0.25", "-val", fmt.Sprint(val),
		"-seed", fmt.Sprint(seed), "-epochs", "1", "-out", dir)
	require.NoError(t, err, errb)

	trainRows, testRows, err := table.Split(n, 0.25, seed)
	require.NoError(t, err)
	require.Len(t, testRows, n/4)
	// The positions in trainRows that train's validation split holds out.
	pos := make([]float32, len(trainRows))
	for i := range pos {
		pos[i] = float32(i)
	}
	d, err := datasets.New(pos, datasets.Field{Dtype: tensor.Float32, Shape: []int{1}}, make([]float32, len(pos)), datasets.Field{Dtype: tensor.Float32})
	require.NoError(t, err)
	fit, held, err := datasets.Split(d, val, seed)
	require.NoError(t, err)
	rowsOf := func(v *datasets.View) []int {
		x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(v.Len(), 1))
		require.NoError(t, v.Gather(table.All(v.Len()), x, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(v.Len()))))
		var rows []int
		for _, p := range x.Float32s() {
			rows = append(rows, trainRows[int(p)])
		}
		return rows
	}
	stats := func(rows []int) (mean, std float64) {
		for _, r := range rows {
			mean += xs[r]
		}
		mean /= float64(len(rows))
		for _, r := range rows {
			std += (xs[r] - mean) * (xs[r] - mean)
		}
		return mean, math.Sqrt(std / float64(len(rows)))
	}
	fitRows := rowsOf(fit)
	require.Len(t, fitRows, n-n/4-val)
	assert.Len(t, rowsOf(held), val)

	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var cfg struct {
		Model struct {
			Config struct {
				Mean, Std []float64
			}
		}
	}
	require.NoError(t, json.Unmarshal(raw, &cfg))
	require.Len(t, cfg.Model.Config.Mean, 1)
	wantMean, wantStd := stats(fitRows)
	assert.InDelta(t, wantMean, cfg.Model.Config.Mean[0], 1e-9*wantMean, "the mean of the %d rows trained on", len(fitRows))
	assert.InDelta(t, wantStd, cfg.Model.Config.Std[0], 1e-9*wantStd)
	withVal, _ := stats(trainRows)
	all, _ := stats(table.All(n))
	assert.Greater(t, math.Abs(withVal-wantMean), 1e-3, "the validation rows must move the mean for the test to mean anything")
	assert.Greater(t, math.Abs(all-wantMean), 1e-3)
}
