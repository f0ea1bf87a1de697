package mlp

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/ops"
)

// Activations lists the activation names a Config accepts.
var Activations = []string{"relu", "tanh", "sigmoid"}

// Config describes an MLP. The JSON form is what checkpoints and config.json hold.
type Config struct {
	Inputs     int     `json:"inputs"`     // features per example, e.g. 784
	Hidden     []int   `json:"hidden"`     // units per hidden layer, e.g. [512, 256]
	Classes    int     `json:"classes"`    // output classes, e.g. 10
	Activation string  `json:"activation"` // relu, tanh or sigmoid
	Init       string  `json:"init"`       // weight initializer, an initializers.ByName name
	BatchNorm  bool    `json:"batch_norm"` // batch normalization after each hidden linear layer
	Dropout    float64 `json:"dropout"`    // drop probability after each hidden activation, 0 ≤ p < 1
	Dtype      string  `json:"dtype"`      // float32 or float64
	Seed       uint64  `json:"seed"`       // fixes initial weights and dropout masks
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
	switch c.Dtype {
	case "float32", "":
		return tensor.Float32, nil
	case "float64":
		return tensor.Float64, nil
	}
	return tensor.Dtype{}, fmt.Errorf("%w: dtype %q, want float32 or float64", ErrConfig, c.Dtype)
}

// Model is an MLP with one compiled program per batch size, all sharing the
// same parameters and states.
type Model struct {
	cfg   Config
	dt    tensor.Dtype
	init  initializers.Init // weight initializer
	mode  graph.Mode        // of every program, including ones made later
	first *graph.Program
	progs map[int]*graph.Program
}

// New validates cfg and returns a model; programs are compiled on demand.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	init, _ := initializers.ByName(cfg.Init)
	return newModel(cfg, init)
}

// NewWithInit is New with the weights drawn from init instead of the
// initializer cfg.Init names (which may then be empty, or a label for
// reports): experiments use it to sweep a distribution's scale.
func NewWithInit(cfg Config, init initializers.Init) (*Model, error) {
	named := cfg
	named.Init = "zeros" // validate every other field
	if err := named.Validate(); err != nil {
		return nil, err
	}
	return newModel(cfg, init)
}

func newModel(cfg Config, init initializers.Init) (*Model, error) {
	dt, err := cfg.dtype()
	if err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, dt: dt, init: init, progs: map[int]*graph.Program{}}, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Dtype returns the dtype of the model's inputs and parameters.
func (m *Model) Dtype() tensor.Dtype { return m.dt }

// Program returns the program for batches of the given size: inputs "x"
// (batch, Inputs) of the model's dtype and "y" (batch) of Int labels, the
// mean cross-entropy as loss, and the logits (batch, Classes) as Output(0).
func (m *Model) Program(batch int) (*graph.Program, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("%w: batch size %d, want > 0", ErrInput, batch)
	}
	if p, ok := m.progs[batch]; ok {
		return p, nil
	}
	p, err := m.build(batch)
	if err != nil {
		return nil, err
	}
	if m.first == nil {
		m.first = p
	}
	p.SetMode(m.mode) // a program made during evaluation evaluates
	m.progs[batch] = p
	return p, nil
}

func (m *Model) build(batch int) (*graph.Program, error) {
	c := m.cfg
	b := graph.NewBuilder(c.Seed)
	b.Share(m.first)
	winit := m.init
	zeros := initializers.Zeros()
	x, err := b.Input("x", m.dt, batch, c.Inputs)
	if err != nil {
		return nil, err
	}
	y, err := b.Input("y", tensor.Int, batch)
	if err != nil {
		return nil, err
	}
	act := map[string]func(*gorgonia.Node) (*gorgonia.Node, error){"relu": ops.ReLU, "tanh": ops.Tanh, "sigmoid": ops.Sigmoid}[c.Activation]
	h, in := x, c.Inputs
	for i, units := range c.Hidden {
		l := i + 1
		w, err := b.Param(fmt.Sprintf("fc%d/w", l), m.dt, winit, in, units)
		if err != nil {
			return nil, err
		}
		if h, err = ops.MatMul(h, w); err != nil {
			return nil, err
		}
		if c.BatchNorm {
			h, err = ops.BatchNorm(b, fmt.Sprintf("bn%d", l), h, ops.BatchNormOptions{})
		} else {
			var bias *gorgonia.Node
			if bias, err = b.Param(fmt.Sprintf("fc%d/b", l), m.dt, zeros, units); err == nil {
				h, err = ops.BiasAdd(h, bias)
			}
		}
		if err != nil {
			return nil, err
		}
		if h, err = act(h); err != nil {
			return nil, err
		}
		if c.Dropout > 0 {
			if h, err = ops.Dropout(b, h, c.Dropout); err != nil {
				return nil, err
			}
		}
		in = units
	}
	w, err := b.Param("out/w", m.dt, winit, in, c.Classes)
	if err != nil {
		return nil, err
	}
	bias, err := b.Param("out/b", m.dt, zeros, c.Classes)
	if err != nil {
		return nil, err
	}
	logits, err := ops.MatMul(h, w)
	if err != nil {
		return nil, err
	}
	if logits, err = ops.BiasAdd(logits, bias); err != nil {
		return nil, err
	}
	loss, err := ops.SoftmaxCrossEntropy(logits, y)
	if err != nil {
		return nil, err
	}
	return b.Compile(loss, logits)
}

// Params returns the learnable parameters (after the first Program call), in
// a stable order.
func (m *Model) Params() []*gorgonia.Node {
	if m.first == nil {
		return nil
	}
	return m.first.Params()
}

// States returns the non-learnable state tensors (batch-norm running
// statistics, dropout counters) after the first Program call.
func (m *Model) States() []graph.State {
	if m.first == nil {
		return nil
	}
	return m.first.States()
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

// SetMode sets the mode of every program of the model, and of the programs
// Program makes later.
func (m *Model) SetMode(mode graph.Mode) {
	m.mode = mode
	for _, p := range m.progs {
		p.SetMode(mode)
	}
}

// Predict returns the argmax class of each row of logits (a (batch,
// classes) float tensor, such as a program's Output(0)) in dst, which must
// have one entry per row.
func Predict(logits gorgonia.Value, dst []int) error {
	s := logits.Shape()
	if len(s) != 2 || s[0] != len(dst) {
		return fmt.Errorf("%w: logits %v for %d predictions", ErrInput, s, len(dst))
	}
	switch z := logits.Data().(type) {
	case []float32:
		argmaxRows(z, s[1], dst)
	case []float64:
		argmaxRows(z, s[1], dst)
	default:
		return fmt.Errorf("%w: logits of %T", ErrInput, z)
	}
	return nil
}

func argmaxRows[T float32 | float64](z []T, k int, dst []int) {
	for i := range dst {
		row := z[i*k : (i+1)*k]
		best, bv := 0, T(math.Inf(-1))
		for j, v := range row {
			if v > bv {
				best, bv = j, v
			}
		}
		dst[i] = best
	}
}

// Close releases every program.
func (m *Model) Close() error {
	for _, p := range m.progs {
		p.Close()
	}
	return nil
}
