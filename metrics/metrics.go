package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/nn"
)

// Batch is what a metric sees of one batch of a data set.
type Batch struct {
	// Output is the model's Output(0) for the batch, (n, …): logits for
	// Classes and Binary targets, values for Values.
	Output *tensor.Dense
	// Target is the batch's target as fed to the model (nn.LabelName):
	// int labels (n, …) or float values of Output's shape.
	Target *tensor.Dense
	// Loss is the batch's mean loss and N its number of examples.
	Loss float64
	N    int
}

// Metric measures a model over the batches of a data set: Reset, then
// Update with every batch, then Value. A Metric is used for one data set at
// a time (the trainer resets it between sets).
type Metric interface {
	// Name is the metric's column name: "acc" gives train_acc, val_acc
	// and test_acc in metrics.csv.
	Name() string
	// Higher reports whether larger values are better (early stopping
	// and the monitored metric use it).
	Higher() bool
	// Fits returns an error wrapping ErrFit when the metric cannot measure
	// a task of the given target kind (0 when the model's loss is unknown).
	Fits(k nn.TargetKind) error
	Reset()
	Update(b Batch) error
	// Value is the metric over the batches since Reset; NaN before any.
	Value() float64
}

// Mergeable is a metric whose state can be carried to another process and
// added there, as torchmetrics' sum-reduced states are: the processes of a
// data-parallel run (train.World) each measure their shard of a data set,
// then merge every process's state in rank order, so that all end with the
// metric of the whole set. Every metric of this package is one; a
// data-parallel run refuses a metric that is not.
type Mergeable interface {
	Metric
	// State returns the metric's state since Reset as numbers (its sums).
	State() []float64
	// Merge adds a state that State returned for the same kind of metric,
	// updated on other batches, to this one.
	Merge(state []float64) error
}

// For returns the default metrics of a target kind: Accuracy for class
// labels, BinaryAccuracy for multi-label targets, RMSE, MAE and R2 for
// values, none for an unknown kind. The trainer adds Loss in front.
func For(k nn.TargetKind) []Metric {
	switch k {
	case nn.Classes:
		return []Metric{Accuracy()}
	case nn.Binary:
		return []Metric{BinaryAccuracy()}
	case nn.Values:
		return []Metric{RMSE(), MAE(), R2()}
	}
	return nil
}

// Format renders a metric's value as logs show it: a name ending in "acc"
// as a percentage with two decimals (92.45%), anything else with four
// significant decimals (0.2429).
func Format(name string, v float64) string {
	if strings.HasSuffix(name, "acc") {
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	return fmt.Sprintf("%.4f", v)
}

// fits returns nil when k is one of want, else an ErrFit error naming the metric.
func fits(name string, k nn.TargetKind, want ...nn.TargetKind) error {
	for _, w := range want {
		if k == w {
			return nil
		}
	}
	var names []string
	for _, w := range want {
		names = append(names, w.String())
	}
	got := "an unknown target"
	if k != 0 {
		got = k.String() + " targets"
	}
	return fmt.Errorf("%w: %s needs %s targets, the model's loss takes %s", ErrFit, name, strings.Join(names, " or "), got)
}

// mean is a running mean of batch values weighted by a count.
type mean struct{ sum, n float64 }

func (m *mean) Reset()           { *m = mean{} }
func (m *mean) add(v, n float64) { m.sum += v; m.n += n }
func (m *mean) State() []float64 { return []float64{m.sum, m.n} }
func (m *mean) Merge(s []float64) error {
	if len(s) != 2 {
		return fmt.Errorf("%w: a mean's state has 2 values (sum, count), got %d", ErrState, len(s))
	}
	m.add(s[0], s[1])
	return nil
}
func (m *mean) Value() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.sum / m.n
}

// lossMetric is the mean loss, with an optional transform of the mean.
type lossMetric struct {
	name  string
	kinds []nn.TargetKind // nil: any
	of    func(float64) float64
	mean
}

func (l *lossMetric) Name() string { return l.name }
func (l *lossMetric) Higher() bool { return false }
func (l *lossMetric) Fits(k nn.TargetKind) error {
	if l.kinds == nil {
		return nil
	}
	return fits(l.name, k, l.kinds...)
}
func (l *lossMetric) Update(b Batch) error { l.add(b.Loss*float64(b.N), float64(b.N)); return nil }
func (l *lossMetric) Value() float64       { return l.of(l.mean.Value()) }

// Loss is the mean loss over the examples ("loss").
func Loss() Metric { return &lossMetric{name: "loss", of: func(v float64) float64 { return v }} }

// BitsPerToken is the mean cross-entropy in bits, loss/ln 2
// ("bits_per_token"; bits per character for a character model).
func BitsPerToken() Metric {
	return &lossMetric{name: "bits_per_token", kinds: []nn.TargetKind{nn.Classes}, of: func(v float64) float64 { return v / math.Ln2 }}
}

// Perplexity is e to the mean cross-entropy ("perplexity").
func Perplexity() Metric {
	return &lossMetric{name: "perplexity", kinds: []nn.TargetKind{nn.Classes}, of: math.Exp}
}

// topK counts the positions whose label is among the k largest logits.
type topK struct {
	k    int
	name string
	mean
}

// Accuracy is the fraction of positions (examples, or every position of a
// sequence) whose largest logit is the label's ("acc"); labels outside
// [0, classes), such as an ignored padding label, are not counted.
func Accuracy() Metric { return &topK{k: 1, name: "acc"} }

// TopK is the fraction of positions whose label has one of the k largest
// logits ("top5_acc" for k = 5); a label tied with others counts when
// fewer than k logits are strictly larger.
func TopK(k int) Metric { return &topK{k: max(k, 1), name: fmt.Sprintf("top%d_acc", max(k, 1))} }

func (t *topK) Name() string               { return t.name }
func (t *topK) Higher() bool               { return true }
func (t *topK) Fits(k nn.TargetKind) error { return fits(t.name, k, nn.Classes) }

func (t *topK) Update(b Batch) error {
	if b.Target == nil || b.Output == nil {
		return fmt.Errorf("%w: %s: a batch without output or target", ErrBatch, t.name)
	}
	labels, ok := b.Target.Data().([]int)
	if !ok || len(labels) == 0 || b.Output.Len()%len(labels) != 0 {
		return fmt.Errorf("%w: %s: output %v and target %v %v: want (n, …, classes) logits and (n, …) int labels",
			ErrBatch, t.name, shape(b.Output), b.Target.Dtype(), b.Target.Shape())
	}
	v := b.Output.Len() / len(labels)
	var hit, n int
	switch z := b.Output.Data().(type) {
	case []float32:
		hit, n = countTop(z, labels, v, t.k)
	case []float64:
		hit, n = countTop(z, labels, v, t.k)
	default:
		return fmt.Errorf("%w: %s: output holds %T, want float32 or float64", ErrBatch, t.name, z)
	}
	t.add(float64(hit), float64(n))
	return nil
}

// countTop returns how many rows of z (rows of v logits) rank their label
// among the top k, and how many rows have a label in [0, v). For k = 1 the
// prediction is the first largest logit (a row of NaNs predicts 0).
func countTop[T float32 | float64](z []T, labels []int, v, k int) (hit, n int) {
	for i, y := range labels {
		if y < 0 || y >= v {
			continue
		}
		n++
		row := z[i*v : (i+1)*v]
		if k == 1 {
			if nn.ArgmaxRow(row) == y {
				hit++
			}
			continue
		}
		above := 0
		for _, x := range row {
			if x > row[y] {
				above++
			}
		}
		if above < k {
			hit++
		}
	}
	return hit, n
}

// binaryAcc counts the elements whose logit's sign matches the target.
type binaryAcc struct{ mean }

// BinaryAccuracy is the fraction of elements of a multi-label output whose
// prediction (logit > 0) matches the target (≥ 0.5) ("binary_acc").
func BinaryAccuracy() Metric { return &binaryAcc{} }

func (*binaryAcc) Name() string               { return "binary_acc" }
func (*binaryAcc) Higher() bool               { return true }
func (*binaryAcc) Fits(k nn.TargetKind) error { return fits("binary_acc", k, nn.Binary) }

func (a *binaryAcc) Update(b Batch) error {
	z, t, err := pair("binary_acc", b)
	if err != nil {
		return err
	}
	hit := 0
	for i := range z {
		if (z[i] > 0) == (t[i] >= 0.5) {
			hit++
		}
	}
	a.add(float64(hit), float64(len(z)))
	return nil
}

// errMean is the mean of a function of the errors output − target.
type errMean struct {
	name string
	f    func(d float64) float64
	root bool
	mean
}

// RMSE is the root of the mean squared error over every element ("rmse").
func RMSE() Metric {
	return &errMean{name: "rmse", f: func(d float64) float64 { return d * d }, root: true}
}

// MAE is the mean absolute error over every element ("mae").
func MAE() Metric { return &errMean{name: "mae", f: math.Abs} }

func (e *errMean) Name() string               { return e.name }
func (e *errMean) Higher() bool               { return false }
func (e *errMean) Fits(k nn.TargetKind) error { return fits(e.name, k, nn.Values) }

func (e *errMean) Update(b Batch) error {
	z, t, err := pair(e.name, b)
	if err != nil {
		return err
	}
	var s float64
	for i := range z {
		s += e.f(z[i] - t[i])
	}
	e.add(s, float64(len(z)))
	return nil
}

func (e *errMean) Value() float64 {
	if e.root {
		return math.Sqrt(e.mean.Value())
	}
	return e.mean.Value()
}

// r2 keeps, per output element, the sums R² needs.
type r2 struct {
	shift, st, stt, sres []float64 // shift: the first target seen, against cancellation
	n                    float64
}

// R2 is the coefficient of determination 1 − Σ(t − y)²/Σ(t − t̄)², per
// element of the target and averaged over the elements (scikit-learn's
// r2_score with uniform_average), over every example since Reset ("r2").
// An element whose targets are all equal counts as 1 if it is predicted
// exactly and 0 otherwise, as scikit-learn does.
func R2() Metric { return &r2{} }

func (*r2) Name() string               { return "r2" }
func (*r2) Higher() bool               { return true }
func (*r2) Fits(k nn.TargetKind) error { return fits("r2", k, nn.Values) }
func (r *r2) Reset()                   { *r = r2{} }

func (r *r2) Update(b Batch) error {
	z, t, err := pair("r2", b)
	if err != nil {
		return err
	}
	if b.N <= 0 || len(t)%b.N != 0 {
		return fmt.Errorf("%w: r2: %d target values for %d examples", ErrBatch, len(t), b.N)
	}
	per := len(t) / b.N
	if r.shift == nil {
		r.shift, r.st, r.stt, r.sres = t[:per:per], make([]float64, per), make([]float64, per), make([]float64, per)
		r.shift = append([]float64(nil), r.shift...)
	}
	if len(r.shift) != per {
		return fmt.Errorf("%w: r2: %d values per example, earlier batches had %d", ErrBatch, per, len(r.shift))
	}
	for i := range t {
		j := i % per
		d := t[i] - r.shift[j]
		r.st[j] += d
		r.stt[j] += d * d
		e := t[i] - z[i]
		r.sres[j] += e * e
	}
	r.n += float64(b.N)
	return nil
}

// State is (n, k, shift, Σ(t − shift), Σ(t − shift)², Σ(t − y)²) for the
// k values per example; (0, 0) before any batch.
func (r *r2) State() []float64 {
	s := []float64{r.n, float64(len(r.shift))}
	for _, v := range [][]float64{r.shift, r.st, r.stt, r.sres} {
		s = append(s, v...)
	}
	return s
}

// Merge adds another r2's state, moving its sums to this one's shift:
// with d = shift′ − shift, Σ(t − shift) = Σ(t − shift′) + n′·d and
// Σ(t − shift)² = Σ(t − shift′)² + 2d·Σ(t − shift′) + n′·d².
func (r *r2) Merge(s []float64) error {
	if len(s) < 2 || len(s) != 2+4*int(s[1]) {
		return fmt.Errorf("%w: r2: a state of %d values, want 2 + 4·k for k values per example", ErrState, len(s))
	}
	n, k := s[0], int(s[1])
	if n == 0 {
		return nil
	}
	shift, st, stt, sres := s[2:2+k], s[2+k:2+2*k], s[2+2*k:2+3*k], s[2+3*k:]
	if r.shift == nil {
		r.shift, r.st, r.stt, r.sres = slices.Clone(shift), make([]float64, k), make([]float64, k), make([]float64, k)
	}
	if len(r.shift) != k {
		return fmt.Errorf("%w: r2: a state of %d values per example, this one has %d", ErrState, k, len(r.shift))
	}
	for j := range k {
		d := shift[j] - r.shift[j]
		r.st[j] += st[j] + n*d
		r.stt[j] += stt[j] + 2*d*st[j] + n*d*d
		r.sres[j] += sres[j]
	}
	r.n += n
	return nil
}

func (r *r2) Value() float64 {
	if r.n == 0 {
		return math.NaN()
	}
	var sum float64
	for j := range r.st {
		tot := r.stt[j] - r.st[j]*r.st[j]/r.n
		switch {
		case tot > 0:
			sum += 1 - r.sres[j]/tot
		case r.sres[j] == 0:
			sum++
		}
	}
	return sum / float64(len(r.st))
}

// pair returns a batch's output and float target as float64 slices of
// equal length (copies: metrics are computed once per batch).
func pair(name string, b Batch) (z, t []float64, err error) {
	if b.Output == nil || b.Target == nil || b.Output.Len() != b.Target.Len() {
		return nil, nil, fmt.Errorf("%w: %s: output %v and target %v: want float tensors of one shape", ErrBatch, name, shape(b.Output), shape(b.Target))
	}
	if z, err = floats(name, b.Output); err == nil {
		t, err = floats(name, b.Target)
	}
	return z, t, err
}

func floats(name string, d *tensor.Dense) ([]float64, error) {
	switch v := d.Data().(type) {
	case []float64:
		return v, nil
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s: %v tensor, want float32 or float64", ErrBatch, name, d.Dtype())
}

func shape(d *tensor.Dense) any {
	if d == nil {
		return "nil"
	}
	return d.Shape()
}
