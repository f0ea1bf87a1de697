package table

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
)

// Tasks a target can define.
const (
	Classification = "classification"
	Regression     = "regression"
)

// MaxIntClasses is the largest number of distinct integer values a numeric
// target may have and still be read as class labels (iris's 0, 1, 2); a
// numeric target with more, or with a fractional value, is a regression
// target. A categorical (non-numeric) target is always class labels.
const MaxIntClasses = 20

// Encoder is a table's preprocessing for a model, fitted on the training
// rows only: which columns are features, how each becomes numbers (a
// numeric value as it is; a category one-hot over the training levels plus
// one column for levels never seen in training), how missing cells are
// filled, and what the target is. It is JSON, kept in the run's
// configuration, so evaluate, predict and export reapply it exactly.
type Encoder struct {
	Features []Feature `json:"features"`
	Target   Target    `json:"target"`
	Impute   bool      `json:"impute,omitempty"`
}

// Feature is one input column.
type Feature struct {
	Name string `json:"name"`
	// Levels are a categorical column's training levels (one-hot columns
	// in this order, then one for an unseen level); nil for a numeric one.
	Levels []string `json:"levels,omitempty"`
	// With Impute: Fill is a numeric column's training mean, FillLevel a
	// categorical column's most frequent level, and Indicator adds a 0/1
	// column that says the cell was missing (columns with missing training
	// cells have one).
	Fill      float64 `json:"fill,omitempty"`
	FillLevel string  `json:"fill_level,omitempty"`
	Indicator bool    `json:"indicator,omitempty"`
}

// Width returns the number of model inputs the feature encodes into.
func (f Feature) Width() int {
	w := 1
	if f.Levels != nil {
		w = len(f.Levels) + 1
	}
	if f.Indicator {
		w++
	}
	return w
}

// Inputs returns the names of the encoded columns, in the model's input
// order: a numeric column's name, name=level for each level of a
// categorical one and name=(unseen), name(missing) for an indicator.
func (e *Encoder) Inputs() []string {
	var out []string
	for _, f := range e.Features {
		if f.Levels == nil {
			out = append(out, f.Name)
		} else {
			for _, l := range f.Levels {
				out = append(out, f.Name+"="+l)
			}
			out = append(out, f.Name+"=(unseen)")
		}
		if f.Indicator {
			out = append(out, f.Name+"(missing)")
		}
	}
	return out
}

// Target is the target column and its task.
type Target struct {
	Name    string   `json:"name"`
	Task    string   `json:"task"`              // Classification or Regression
	Classes []string `json:"classes,omitempty"` // classification: the labels, in class-index order
	// Numeric: the column held numbers (integer class labels are their
	// numbers written as %g); another file reads it the same way.
	Numeric bool `json:"numeric,omitempty"`
}

// Fit fits the encoder of t's features and target on the given rows (the
// training split). task is "", Classification or Regression ("" chooses:
// see MaxIntClasses). Without impute, a missing feature cell is an error
// naming its line and column; a missing target always is.
func Fit(t *Table, rows []int, task string, impute bool) (*Encoder, error) {
	if t.Target < 0 {
		return nil, fmt.Errorf("%w: %s: no target column given", ErrColumn, t.File)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: %s: no training rows", ErrFormat, t.File)
	}
	e := &Encoder{Impute: impute}
	tc := &t.Columns[t.Target]
	e.Target.Name, e.Target.Numeric = tc.Name, tc.Numeric
	for _, r := range rows {
		if isMissing(tc, r) {
			return nil, fmt.Errorf("%w: %s line %d: the target %q is missing", ErrFormat, t.File, t.Lines[r], tc.Name)
		}
	}
	switch {
	case task == Regression && !tc.Numeric:
		return nil, fmt.Errorf("%w: %s: task regression, but the target %q is categorical (e.g. %q)", ErrFormat, t.File, tc.Name, tc.Levels[0])
	case task != "" && task != Regression && task != Classification:
		return nil, fmt.Errorf("%w: task %q, want %s or %s", ErrFormat, task, Classification, Regression)
	case !tc.Numeric:
		e.Target.Task = Classification
		seen := make([]bool, len(tc.Levels))
		for _, r := range rows {
			seen[tc.Codes[r]] = true
		}
		for k, ok := range seen { // the training rows' classes, in order of first appearance in the file
			if ok {
				e.Target.Classes = append(e.Target.Classes, tc.Levels[k])
			}
		}
	default:
		distinct := map[float32]bool{}
		integer := true
		for _, r := range rows {
			v := tc.Values[r]
			distinct[v] = true
			integer = integer && v == float32(math.Trunc(float64(v)))
		}
		if task == Classification || (task == "" && integer && len(distinct) <= MaxIntClasses) {
			e.Target.Task = Classification
			vals := make([]float64, 0, len(distinct))
			for v := range distinct {
				vals = append(vals, float64(v))
			}
			slices.Sort(vals)
			for _, v := range vals {
				e.Target.Classes = append(e.Target.Classes, strconv.FormatFloat(v, 'g', -1, 32))
			}
		} else {
			e.Target.Task = Regression
		}
	}
	if e.Target.Task == Classification && len(e.Target.Classes) < 2 {
		return nil, fmt.Errorf("%w: %s: the target %q has one class (%s) in the training rows, want at least two", ErrFormat, t.File, tc.Name, e.Target.Classes[0])
	}
	for i := range t.Columns {
		if i == t.Target {
			continue
		}
		c := &t.Columns[i]
		f := Feature{Name: c.Name}
		missing := 0
		for _, r := range rows {
			if isMissing(c, r) {
				if !impute {
					return nil, fmt.Errorf("%w: %s line %d, column %q: missing value (impute it with -impute, or remove the row)", ErrFormat, t.File, t.Lines[r], c.Name)
				}
				missing++
			}
		}
		if missing == len(rows) {
			return nil, fmt.Errorf("%w: %s: column %q has no value in the training rows (ignore it)", ErrFormat, t.File, c.Name)
		}
		f.Indicator = missing > 0
		if c.Numeric {
			var sum float64
			for _, r := range rows {
				if !isMissing(c, r) {
					sum += float64(c.Values[r])
				}
			}
			if impute {
				f.Fill = sum / float64(len(rows)-missing)
			}
		} else {
			count := make([]int, len(c.Levels))
			for _, r := range rows {
				if k := c.Codes[r]; k >= 0 {
					count[k]++
				}
			}
			best := -1
			for k, n := range count { // levels in order of first appearance in the file
				if n > 0 {
					f.Levels = append(f.Levels, c.Levels[k])
					if best < 0 || n > count[best] {
						best = k
					}
				}
			}
			if impute {
				f.FillLevel = c.Levels[best]
			}
		}
		e.Features = append(e.Features, f)
	}
	if len(e.Features) == 0 {
		return nil, fmt.Errorf("%w: %s: no feature columns besides the target %q", ErrFormat, t.File, tc.Name)
	}
	return e, nil
}

func isMissing(c *Column, r int) bool {
	if c.Numeric {
		return math.IsNaN(float64(c.Values[r]))
	}
	return c.Codes[r] < 0
}

// ReadOptions returns opt made to read another file for this encoder
// (evaluate, predict, a test file): only the encoder's columns are kept
// (with the target, when withTarget), each read as the encoder takes it —
// a categorical feature as categories, a numeric one as numbers (a word is
// an error naming the cell, even in the first row) — instead of the kinds
// being guessed again from that file's values.
func (e *Encoder) ReadOptions(opt Options, withTarget bool) Options {
	opt.Keep, opt.Categorical, opt.Numeric, opt.Ignore = nil, nil, nil, nil
	for _, f := range e.Features {
		opt.Keep = append(opt.Keep, f.Name)
		if f.Levels != nil {
			opt.Categorical = append(opt.Categorical, f.Name)
		} else {
			opt.Numeric = append(opt.Numeric, f.Name)
		}
	}
	if withTarget {
		opt.Keep = append(opt.Keep, e.Target.Name)
		if e.Target.Numeric {
			opt.Numeric = append(opt.Numeric, e.Target.Name)
		} else {
			opt.Categorical = append(opt.Categorical, e.Target.Name) // compared as text with Classes
		}
	} else {
		opt.Target = ""
	}
	return opt
}

// Width returns the number of model inputs.
func (e *Encoder) Width() int {
	w := 0
	for _, f := range e.Features {
		w += f.Width()
	}
	return w
}

// Classes returns the number of classes (0 for regression).
func (e *Encoder) Classes() int { return len(e.Target.Classes) }

// RowError is a row Encode could not encode.
type RowError struct {
	Line int
	Err  error
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Encode returns the features of the given rows of t, row-major
// (len(rows)·Width() values), their targets (class indices, or values;
// nil when t has no target column), and the rows it could not encode —
// a missing cell without imputation, an unknown class, a missing column —
// whose features are left zero. t's columns are matched to the features by
// name, so t may be another file than the one the encoder was fitted on.
func (e *Encoder) Encode(t *Table, rows []int) (x []float32, labels []int, values []float32, bad []RowError, err error) {
	cols := make([]*Column, len(e.Features))
	for i, f := range e.Features {
		j := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == f.Name })
		if j < 0 {
			return nil, nil, nil, nil, fmt.Errorf("%w: %s has no column %q; the model's inputs are %s", ErrColumn, t.File, f.Name, strings.Join(e.names(), ", "))
		}
		cols[i] = &t.Columns[j]
		if !cols[i].Numeric && f.Levels == nil {
			return nil, nil, nil, nil, fmt.Errorf("%w: %s: column %q is categorical here (e.g. %q), numeric in the training data", ErrFormat, t.File, f.Name, cols[i].Levels[0])
		}
	}
	var tc *Column
	if t.Target >= 0 && t.Columns[t.Target].Name == e.Target.Name {
		tc = &t.Columns[t.Target]
	}
	w := e.Width()
	x = make([]float32, len(rows)*w)
	if tc != nil {
		if e.Target.Task == Classification {
			labels = make([]int, len(rows))
		} else {
			values = make([]float32, len(rows))
		}
	}
	for k, r := range rows {
		if rerr := e.encodeRow(cols, r, x[k*w:(k+1)*w]); rerr != nil {
			bad = append(bad, RowError{t.Lines[r], rerr})
			continue
		}
		if tc == nil {
			continue
		}
		if isMissing(tc, r) {
			bad = append(bad, RowError{t.Lines[r], fmt.Errorf("the target %q is missing", tc.Name)})
			continue
		}
		if values != nil {
			values[k] = tc.Values[r]
			continue
		}
		s := cellString(tc, r)
		c := slices.Index(e.Target.Classes, s)
		if c < 0 {
			bad = append(bad, RowError{t.Lines[r], fmt.Errorf("the target %q is %q, not one of the training classes %s", tc.Name, s, strings.Join(e.Target.Classes, ", "))})
			continue
		}
		labels[k] = c
	}
	return x, labels, values, bad, nil
}

// cellString renders a cell as the encoder names levels and classes.
func cellString(c *Column, r int) string {
	if c.Numeric {
		return strconv.FormatFloat(float64(c.Values[r]), 'g', -1, 32)
	}
	return c.Levels[c.Codes[r]]
}

func (e *Encoder) names() []string {
	var n []string
	for _, f := range e.Features {
		n = append(n, f.Name)
	}
	return n
}

func (e *Encoder) encodeRow(cols []*Column, r int, dst []float32) error {
	at := 0
	for i, f := range e.Features {
		c := cols[i]
		miss := isMissing(c, r)
		if miss && !e.Impute {
			return fmt.Errorf("column %q: missing value", f.Name)
		}
		if f.Levels == nil {
			v := c.Values[r]
			if miss {
				v = float32(f.Fill)
			}
			dst[at] = v
			at++
		} else {
			s := f.FillLevel
			if !miss {
				s = cellString(c, r)
			}
			k := slices.Index(f.Levels, s)
			if k < 0 {
				k = len(f.Levels) // unseen in training
			}
			dst[at+k] = 1
			at += len(f.Levels) + 1
		}
		if f.Indicator {
			if miss {
				dst[at] = 1
			}
			at++
		}
	}
	return nil
}

// Dataset returns the encoded rows as a dataset: float32 features of
// (Width()) per row and class labels or float32 values as targets. Rows
// that cannot be encoded are an error naming the first.
func (e *Encoder) Dataset(t *Table, rows []int) (datasets.Dataset, error) {
	x, labels, values, bad, err := e.Encode(t, rows)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s %v (and %d more rows)", ErrFormat, t.File, bad[0], len(bad)-1)
	}
	in := datasets.Field{Dtype: tensor.Float32, Shape: []int{e.Width()}}
	switch {
	case labels != nil:
		return datasets.New(x, in, labels, datasets.Field{Dtype: tensor.Int, Classes: e.Classes()})
	case values != nil:
		return datasets.New(x, in, values, datasets.Field{Dtype: tensor.Float32})
	}
	return nil, fmt.Errorf("%w: %s has no target column %q", ErrColumn, t.File, e.Target.Name)
}

// splitStream is the PCG stream of Split.
const splitStream = 0x7461626c65 // "table"

// Split returns the rows of a table of n rows in a seeded random order,
// cut into the training rows and the last ⌈frac·n⌉ as test rows (both in
// file order). frac must be in [0, 1).
func Split(n int, frac float64, seed uint64) (train, test []int, err error) {
	if !(frac >= 0 && frac < 1) {
		return nil, nil, fmt.Errorf("%w: test fraction %v, want 0 ≤ f < 1", ErrFormat, frac)
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(n)
	k := int(math.Ceil(frac * float64(n)))
	if n-k < 1 {
		return nil, nil, fmt.Errorf("%w: test fraction %v of %d rows leaves no training row", ErrFormat, frac, n)
	}
	train, test = perm[:n-k], perm[n-k:]
	slices.Sort(train)
	slices.Sort(test)
	return train, test, nil
}

// Folds returns the rows of fold k (from 0) of K as test rows and the others
// as training rows, from one seeded permutation (every row is in exactly
// one fold's test rows).
func Folds(n, k, folds int, seed uint64) (train, test []int, err error) {
	if folds < 2 || folds > n || k < 0 || k >= folds {
		return nil, nil, fmt.Errorf("%w: fold %d of %d over %d rows", ErrFormat, k+1, folds, n)
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(n)
	lo, hi := k*n/folds, (k+1)*n/folds
	test = slices.Clone(perm[lo:hi])
	train = append(slices.Clone(perm[:lo]), perm[hi:]...)
	slices.Sort(train)
	slices.Sort(test)
	return train, test, nil
}

// All returns the row indices 0..n-1.
func All(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}
