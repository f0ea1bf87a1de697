package mlp

import (
	"fmt"
	"slices"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/nn"
)

// Activations lists the activation names a Config accepts.
var Activations = []string{"relu", "tanh", "sigmoid"}

// Config describes an MLP. The JSON form is what checkpoints and config.json hold.
type Config struct {
	Inputs     int     `json:"inputs"`                                                                                                      // features per example, e.g. 784
	Hidden     []int   `json:"hidden" flag:"hidden" help:"hidden dense layer sizes, comma-separated"`                                       // units per hidden layer, e.g. [512, 256]
	Classes    int     `json:"classes"`                                                                                                     // output classes, e.g. 10
	Activation string  `json:"activation" flag:"act" help:"activation: relu, tanh, sigmoid"`                                                // relu, tanh or sigmoid
	Init       string  `json:"init" flag:"init" help:"weight initializer (an initializers.Names name)"`                                     // weight initializer, an initializers.ByName name
	BatchNorm  bool    `json:"batch_norm" flag:"bn" help:"batch normalization after each hidden layer (mlp, tabular) or convolution (cnn)"` // batch normalization after each hidden linear layer
	Dropout    float64 `json:"dropout" flag:"dropout" help:"dropout (drop probability) after each hidden dense layer, 0 ≤ p < 1"`           // drop probability after each hidden activation, 0 ≤ p < 1
	Dtype      string  `json:"dtype" flag:"dtype" help:"float32 or float64"`                                                                // float32 or float64
	Seed       uint64  `json:"seed"`                                                                                                        // fixes initial weights and dropout masks
}

// Default returns the configuration `gradlab train` uses: 784-512-256-10,
// ReLU, He initialization, batch norm, dropout 0.3, float32.
func Default() Config {
	return Config{Inputs: 784, Hidden: []int{512, 256}, Classes: 10, Activation: "relu", Init: "he",
		BatchNorm: true, Dropout: 0.3, Dtype: "float32", Seed: 1}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.Inputs <= 0 {
		return bad("inputs = %d, want > 0", c.Inputs)
	}
	if c.Classes < 2 {
		return bad("classes = %d, want ≥ 2", c.Classes)
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return bad("hidden layer %d has %d units, want > 0", i+1, h)
		}
	}
	if !slices.Contains(Activations, c.Activation) {
		return bad("activation %q, want one of %s", c.Activation, strings.Join(Activations, ", "))
	}
	if _, err := initializers.ByName(c.Init); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return bad("dropout = %v, want 0 ≤ p < 1", c.Dropout)
	}
	if _, err := c.dtype(); err != nil {
		return err
	}
	return nil
}

func (c Config) dtype() (tensor.Dtype, error) {
	dt, err := nn.ParseDtype(c.Dtype)
	if err != nil {
		return dt, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return dt, nil
}

// New validates cfg and returns the MLP as an nn.Model (programs are
// compiled on demand): input "x" (batch, Inputs) of the configured dtype,
// labels "y" (batch), the mean cross-entropy as loss and the logits
// (batch, Classes) as Output(0).
func New(cfg Config) (*nn.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	init, _ := initializers.ByName(cfg.Init)
	return newModel(cfg, init)
}

// NewWithInit is New with the weights drawn from init instead of the
// initializer cfg.Init names (which may then be empty, or a label for
// reports): experiments use it to sweep a distribution's scale.
func NewWithInit(cfg Config, init initializers.Init) (*nn.Model, error) {
	named := cfg
	named.Init = "zeros" // validate every other field
	if err := named.Validate(); err != nil {
		return nil, err
	}
	return newModel(cfg, init)
}

func newModel(cfg Config, init initializers.Init) (*nn.Model, error) {
	dt, err := cfg.dtype()
	if err != nil {
		return nil, err
	}
	return nn.NewClassifier(cfg.Seed, dt, []int{cfg.Inputs}, Layers(cfg, init))
}

// Layers returns the MLP's layers: per hidden layer fcK (x·W + b, or x·W
// followed by batch norm bnK), the activation and dropout; then out
// (x·W + b). Parameters: fcK/w, fcK/b or bnK/gamma and bnK/beta, out/w,
// out/b; weights from init, biases zero.
func Layers(c Config, init initializers.Init) *nn.Sequential {
	s := nn.NewSequential()
	act, _ := nn.Activation(c.Activation)
	for i, units := range c.Hidden {
		l := i + 1
		if c.BatchNorm {
			s.Add(nn.Named(fmt.Sprintf("fc%d", l), nn.Dense(units, nn.Init(init), nn.NoBias())),
				nn.Named(fmt.Sprintf("bn%d", l), nn.BatchNorm()))
		} else {
			s.Add(nn.Named(fmt.Sprintf("fc%d", l), nn.Dense(units, nn.Init(init))))
		}
		s.Add(act)
		if c.Dropout > 0 {
			s.Add(nn.Dropout(c.Dropout))
		}
	}
	return s.Add(nn.Named("out", nn.Dense(c.Classes, nn.Init(init))))
}

// ParamCount returns the number of learnable scalars the configuration has.
func (c Config) ParamCount() int {
	n, in := 0, c.Inputs
	for _, units := range c.Hidden {
		n += in*units + units // weights, and a bias or β
		if c.BatchNorm {
			n += units // γ
		}
		in = units
	}
	return n + in*c.Classes + c.Classes
}
