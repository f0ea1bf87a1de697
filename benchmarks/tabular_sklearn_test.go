package benchmarks

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gradlab/gradlab/datasets/table"
)

// EnvSklearn names the directory of scikit-learn's bundled data sets
// (sklearn/datasets/data in Debian's python3-sklearn); the tests that need
// them skip when it is unset.
const EnvSklearn = "GRADLAB_SKLEARN_DIR"

// sklearnSet is one of scikit-learn's classic data sets and the table
// flags `gradlab train` reads it with.
type sklearnSet struct {
	name, file string
	opt        table.Options
	flags      []string
}

var sklearnSets = []sklearnSet{
	{"diabetes", "diabetes.txt", table.Options{NoHeader: true, Target: "-1"}, []string{"-no-header", "-target", "-1"}},
	{"boston", "boston_house_prices.csv", table.Options{Skip: 1, Target: "MEDV"}, []string{"-skip", "1", "-target", "MEDV"}},
	{"iris", "iris.csv", table.Options{Skip: 1, NoHeader: true, Target: "-1"}, []string{"-skip", "1", "-no-header", "-target", "-1"}},
	{"wine", "wine_data.csv", table.Options{Skip: 1, NoHeader: true, Target: "-1"}, []string{"-skip", "1", "-no-header", "-target", "-1"}},
	{"breast_cancer", "breast_cancer.csv", table.Options{Skip: 1, NoHeader: true, Target: "-1"}, []string{"-skip", "1", "-no-header", "-target", "-1"}},
}

// sklearnFile returns the path of a data set's file; diabetes is made in
// tmp from its two gzipped files (features, then the target, joined by a
// space per line).
func sklearnFile(t *testing.T, dir, tmp string, s sklearnSet) string {
	t.Helper()
	if s.name != "diabetes" {
		return filepath.Join(dir, s.file)
	}
	lines := func(name string) []string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		sc := bufio.NewScanner(z)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				out = append(out, l)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	x, y := lines("diabetes_data_raw.csv.gz"), lines("diabetes_target.csv.gz")
	if len(x) != len(y) || len(x) == 0 {
		t.Fatalf("diabetes: %d feature lines, %d target lines", len(x), len(y))
	}
	var b strings.Builder
	for i := range x {
		fmt.Fprintf(&b, "%s %s\n", x[i], y[i])
	}
	path := filepath.Join(tmp, s.file)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// linearBaseline fits the linear baseline on the training rows of the
// seeded split gradlab train makes and returns its test metric: R² of
// least squares with an intercept (regression), or the accuracy of a
// multinomial logistic regression with an L2 penalty ½|W|² on the summed
// cross-entropy over standardized features (scikit-learn's
// LogisticRegression defaults), fitted by accelerated gradient descent.
func linearBaseline(t *testing.T, file string, opt table.Options, seed uint64) (task string, metric float64) {
	t.Helper()
	tb, err := table.ReadFile(file, opt)
	if err != nil {
		t.Fatal(err)
	}
	trainRows, testRows, err := table.Split(tb.Rows(), 0.2, seed)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := table.Fit(tb, trainRows, "", false)
	if err != nil {
		t.Fatal(err)
	}
	w := enc.Width()
	get := func(rows []int) (*mat.Dense, []int, []float64) {
		x, labels, values, bad, err := enc.Encode(tb, rows)
		if err != nil || len(bad) > 0 {
			t.Fatalf("encode: %v %v", err, bad)
		}
		m := mat.NewDense(len(rows), w+1, nil)
		for i := range rows {
			for j := range w {
				m.Set(i, j, float64(x[i*w+j]))
			}
			m.Set(i, w, 1)
		}
		v := make([]float64, len(values))
		for i, f := range values {
			v[i] = float64(f)
		}
		return m, labels, v
	}
	xtr, ltr, vtr := get(trainRows)
	xte, lte, vte := get(testRows)
	if enc.Target.Task == table.Regression {
		var coef mat.VecDense
		if err := coef.SolveVec(xtr, mat.NewVecDense(len(vtr), vtr)); err != nil {
			t.Fatal(err)
		}
		var pred mat.VecDense
		pred.MulVec(xte, &coef)
		var mean, ss, tot float64
		for _, v := range vte {
			mean += v / float64(len(vte))
		}
		for i, v := range vte {
			ss += (v - pred.AtVec(i)) * (v - pred.AtVec(i))
			tot += (v - mean) * (v - mean)
		}
		return table.Regression, 1 - ss/tot
	}
	// standardize with the training rows (the intercept column stays 1)
	n := len(trainRows)
	for j := range w {
		var m, s float64
		for i := range n {
			m += xtr.At(i, j) / float64(n)
		}
		for i := range n {
			s += (xtr.At(i, j) - m) * (xtr.At(i, j) - m) / float64(n)
		}
		if s = math.Sqrt(s); s == 0 {
			s = 1
		}
		for _, x := range []*mat.Dense{xtr, xte} {
			r, _ := x.Dims()
			for i := range r {
				x.Set(i, j, (x.At(i, j)-m)/s)
			}
		}
	}
	k := enc.Classes()
	logits := func(x *mat.Dense, p []float64, i int, out []float64) {
		for c := range k {
			var z float64
			for j := range w + 1 {
				z += x.At(i, j) * p[j*k+c]
			}
			out[c] = z
		}
	}
	f := func(p, grad []float64) float64 {
		for i := range grad {
			grad[i] = 0
		}
		var loss float64
		z := make([]float64, k)
		for i := range n {
			logits(xtr, p, i, z)
			mx := z[0]
			for _, v := range z {
				mx = math.Max(mx, v)
			}
			var sum float64
			for c := range z {
				z[c] = math.Exp(z[c] - mx)
				sum += z[c]
			}
			loss -= math.Log(z[ltr[i]] / sum)
			for c := range z {
				g := z[c] / sum
				if c == ltr[i] {
					g--
				}
				for j := range w + 1 {
					grad[j*k+c] += g * xtr.At(i, j)
				}
			}
		}
		for j := range w { // the intercept is not penalized
			for c := range k {
				loss += p[j*k+c] * p[j*k+c] / 2
				grad[j*k+c] += p[j*k+c]
			}
		}
		return loss
	}
	p := minimize(f, (w+1)*k, 0.5*lambdaMax(xtr)+1, 3000)
	z := make([]float64, k)
	correct := 0
	for i, l := range lte {
		logits(xte, p, i, z)
		best := 0
		for c := range z {
			if z[c] > z[best] {
				best = c
			}
		}
		if best == l {
			correct++
		}
	}
	return table.Classification, float64(correct) / float64(len(lte))
}

// lastRow returns the last row of a run's metrics.csv by column.
func lastRow(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %d rows, %v", path, len(rows), err)
	}
	out := map[string]float64{}
	for j, name := range rows[0] {
		v, err := strconv.ParseFloat(rows[len(rows)-1][j], 64)
		if err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		out[name] = v
	}
	return out
}

// TestTabularSklearn trains `gradlab train` at its defaults on each of
// scikit-learn's data sets for three seeds and checks that its mean test
// metric (R², accuracy) is at least the linear baseline's on the same
// splits, less a tolerance of about one test row's worth for accuracy (the
// test sets have 30 to 114 rows; TABULAR.md has the full comparison).
// It needs $GRADLAB_SKLEARN_DIR.
func TestTabularSklearn(t *testing.T) {
	dir := os.Getenv(EnvSklearn)
	if dir == "" {
		t.Skipf("$%s is not set (scikit-learn's datasets/data directory)", EnvSklearn)
	}
	if testing.Short() {
		t.Skip("-short: trains 15 models")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "gradlab")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gradlab/gradlab/cmd/gradlab").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seeds := []uint64{1, 2, 3}
	for _, s := range sklearnSets {
		t.Run(s.name, func(t *testing.T) {
			file := sklearnFile(t, dir, tmp, s)
			var gl, lin float64
			var task string
			for _, seed := range seeds {
				out := filepath.Join(tmp, fmt.Sprintf("%s-%d", s.name, seed))
				args := append([]string{"train", "-data", file, "-seed", strconv.FormatUint(seed, 10), "-out", out}, s.flags...)
				if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
					t.Fatalf("gradlab %s: %v\n%s", strings.Join(args, " "), err, b)
				}
				row := lastRow(t, filepath.Join(out, "metrics.csv"))
				var l float64
				task, l = linearBaseline(t, file, s.opt, seed)
				metric := "test_acc"
				if task == table.Regression {
					metric = "test_r2"
				}
				g, ok := row[metric]
				if !ok {
					t.Fatalf("metrics.csv has no %s: %v", metric, row)
				}
				t.Logf("seed %d: gradlab %s %.4f, linear %.4f", seed, metric, g, l)
				gl += g / float64(len(seeds))
				lin += l / float64(len(seeds))
			}
			tol := 0.0
			if task == table.Classification {
				tol = 0.02
			}
			if gl < lin-tol {
				t.Errorf("gradlab's mean test metric %.4f < the linear baseline's %.4f (tolerance %.2f)", gl, lin, tol)
			}
		})
	}
}

// lambdaMax returns the largest eigenvalue of xᵀx (power iteration).
func lambdaMax(x *mat.Dense) float64 {
	var g mat.Dense
	g.Mul(x.T(), x)
	n, _ := g.Dims()
	v := mat.NewVecDense(n, nil)
	for i := range n {
		v.SetVec(i, 1)
	}
	var l float64
	for range 200 {
		var u mat.VecDense
		u.MulVec(&g, v)
		l = mat.Norm(&u, 2) / mat.Norm(v, 2)
		u.ScaleVec(1/mat.Norm(&u, 2), &u)
		v = &u
	}
	return l
}

// minimize returns the minimum of the convex f (value and gradient into
// its second argument) of n variables whose gradient is L-Lipschitz, from
// 0, by iters steps of Nesterov's accelerated gradient descent with step 1/L.
func minimize(f func(p, grad []float64) float64, n int, L float64, iters int) []float64 {
	x, y, prev, grad := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for k := range iters {
		f(y, grad)
		copy(prev, x)
		for i := range x {
			x[i] = y[i] - grad[i]/L
		}
		mom := float64(k) / float64(k+3)
		for i := range y {
			y[i] = x[i] + mom*(x[i]-prev[i])
		}
	}
	return x
}
