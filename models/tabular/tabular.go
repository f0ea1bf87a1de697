package tabular

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/nn"
)

// Config describes a tabular MLP. The JSON form is what checkpoints and
// config.json hold; Fit fills the fields that come from the data.
type Config struct {
	Inputs     int       `json:"inputs"`  // encoded features per row
	Classes    int       `json:"classes"` // classes of a classifier; 0 for a regressor (one value per row)
	Hidden     []int     `json:"hidden" flag:"hidden" help:"hidden dense layer sizes, comma-separated"`
	BatchNorm  bool      `json:"batch_norm" flag:"bn" help:"batch normalization after each hidden layer (mlp, tabular) or convolution (cnn)"`
	Dropout    float64   `json:"dropout" flag:"dropout" help:"dropout (drop probability) after each hidden dense layer, 0 ≤ p < 1"`
	Dtype      string    `json:"dtype" flag:"dtype" help:"float32 or float64"`
	Mean       []float64 `json:"mean"`                  // of each input over the training rows
	Std        []float64 `json:"std"`                   // of each input over the training rows (0 counts as 1)
	TargetMean float64   `json:"target_mean,omitempty"` // regressor: of the training targets
	TargetStd  float64   `json:"target_std,omitempty"`  // regressor: of the training targets (0 counts as 1)
	Seed       uint64    `json:"seed"`
}

// Default returns the configuration `gradlab train -data FILE.csv` starts
// from: two ReLU layers of 64, no batch norm, no dropout, float32.
func Default() Config {
	return Config{Hidden: []int{64, 64}, Dtype: "float32", Seed: 1}
}

// Name describes the architecture: tabular 13-[64 64]-3 or tabular 10-[64 64]-regression.
func (c Config) Name() string {
	out := "regression"
	if c.Classes > 0 {
		out = fmt.Sprint(c.Classes)
	}
	return fmt.Sprintf("tabular %d-%v-%s", c.Inputs, c.Hidden, out)
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if err := c.ValidateChoices(); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Inputs <= 0:
		return bad("inputs = %d, want > 0 (Fit sets it from the data)", c.Inputs)
	case c.Classes == 1 || c.Classes < 0:
		return bad("classes = %d, want ≥ 2, or 0 for a regressor", c.Classes)
	case len(c.Mean) != c.Inputs || len(c.Std) != c.Inputs:
		return bad("%d means and %d standard deviations for %d inputs (Fit sets them)", len(c.Mean), len(c.Std), c.Inputs)
	}
	return nil
}

// ValidateChoices reports the first invalid field of those a user chooses
// (not those Fit takes from the data), so flags are checked before any data
// is read.
func (c Config) ValidateChoices() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return bad("dropout = %v, want 0 ≤ p < 1", c.Dropout)
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return bad("hidden layer %d has %d units, want > 0", i+1, h)
		}
	}
	_, err := c.dtype()
	return err
}

func (c Config) dtype() (tensor.Dtype, error) {
	dt, err := nn.ParseDtype(c.Dtype)
	if err != nil {
		return dt, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return dt, nil
}

// Fit returns c with the fields that come from the training data d:
// Inputs and Classes from its fields (float targets make a regressor), and
// the mean and standard deviation of every input and of a regressor's
// target over all of d's rows.
func Fit(c Config, d datasets.Dataset) (Config, error) {
	in, out := d.Input(), d.Target()
	if in.IsInt() || len(in.Shape) != 1 || len(out.Shape) != 0 {
		return c, fmt.Errorf("%w: data of %v inputs and %v targets, want float (features) inputs and one target per row", ErrConfig, in, out)
	}
	if d.Len() == 0 {
		return c, fmt.Errorf("%w: no training rows", ErrConfig)
	}
	c.Inputs, c.Classes = in.Shape[0], out.Classes
	x := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(d.Len(), c.Inputs))
	ydt := tensor.Float64
	if out.IsInt() {
		ydt = tensor.Int
	}
	y := tensor.New(tensor.Of(ydt), tensor.WithShape(d.Len()))
	idx := make([]int, d.Len())
	for i := range idx {
		idx[i] = i
	}
	if err := d.Gather(idx, x, y); err != nil {
		return c, err
	}
	c.Mean, c.Std = meanStd(x.Float64s(), c.Inputs)
	c.TargetMean, c.TargetStd = 0, 0
	if !out.IsInt() {
		m, s := meanStd(y.Float64s(), 1)
		c.TargetMean, c.TargetStd = m[0], s[0]
	}
	return c, nil
}

// meanStd returns the mean and the (population) standard deviation of
// each of the k columns of the row-major values v.
func meanStd(v []float64, k int) (mean, std []float64) {
	mean, std = make([]float64, k), make([]float64, k)
	n := float64(len(v) / k)
	for i, x := range v {
		mean[i%k] += x
	}
	for j := range mean {
		mean[j] /= n
	}
	for i, x := range v {
		d := x - mean[i%k]
		std[i%k] += d * d
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / n)
	}
	return mean, std
}

// Layers returns the network: standardize, then per hidden layer fcK (with
// bnK when BatchNorm), ReLU and dropout, then out (Classes logits, or one
// value rescaled to the target's units by "unscale" and reshaped to one
// value per row).
func Layers(c Config) (*nn.Sequential, error) {
	std, err := nn.Standardize(c.Mean, c.Std)
	if err != nil {
		return nil, err
	}
	s := nn.NewSequential(nn.Named("standardize", std))
	for i, u := range c.Hidden {
		if c.BatchNorm {
			s.Add(nn.Named(fmt.Sprintf("fc%d", i+1), nn.Dense(u, nn.NoBias())), nn.Named(fmt.Sprintf("bn%d", i+1), nn.BatchNorm()))
		} else {
			s.Add(nn.Named(fmt.Sprintf("fc%d", i+1), nn.Dense(u)))
		}
		s.Add(nn.ReLU())
		if c.Dropout > 0 {
			s.Add(nn.Dropout(c.Dropout))
		}
	}
	if c.Classes > 0 {
		return s.Add(nn.Named("out", nn.Dense(c.Classes))), nil
	}
	ts := c.TargetStd
	if ts == 0 {
		ts = 1
	}
	return s.Add(nn.Named("out", nn.Dense(1)), nn.Named("unscale", nn.Affine([]float64{ts}, []float64{c.TargetMean})), nn.Reshape()), nil
}

// New validates c and returns the model: a classifier (cross-entropy,
// accuracy) when Classes > 0, else a regressor (MSE; RMSE, MAE, R²) whose
// output is in the target's units.
func New(c Config) (*nn.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	dt, _ := c.dtype()
	s, err := Layers(c)
	if err != nil {
		return nil, err
	}
	if c.Classes > 0 {
		return nn.NewClassifier(c.Seed, dt, []int{c.Inputs}, s)
	}
	return nn.NewRegressor(c.Seed, dt, []int{c.Inputs}, s)
}
