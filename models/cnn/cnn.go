package cnn

import (
	"fmt"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/ops"
)

// Config describes a CNN. The JSON form is what checkpoints and config.json hold.
type Config struct {
	Input     []int   `json:"input"`                                                                                                       // shape of one example (channels, height, width), e.g. [1, 28, 28]
	Conv      []int   `json:"conv" flag:"conv" help:"output channels per convolution block, comma-separated"`                              // output channels per convolution block, e.g. [16, 32]
	Kernel    int     `json:"kernel" flag:"kernel" help:"odd kernel size of the convolutions"`                                             // odd kernel size K of every convolution (padding K/2), e.g. 5
	Dense     []int   `json:"dense" flag:"hidden" help:"hidden dense layer sizes, comma-separated"`                                        // units per hidden dense layer, e.g. [128]
	Classes   int     `json:"classes"`                                                                                                     // output classes, e.g. 10
	BatchNorm bool    `json:"batch_norm" flag:"bn" help:"batch normalization after each hidden layer (mlp, tabular) or convolution (cnn)"` // batch normalization after each convolution
	Dropout   float64 `json:"dropout" flag:"dropout" help:"dropout (drop probability) after each hidden dense layer, 0 ≤ p < 1"`           // drop probability after each hidden dense layer, 0 ≤ p < 1
	Shift     int     `json:"shift" flag:"shift" help:"data augmentation: random shifts of up to N pixels in training; 0 = off"`           // data augmentation: random shifts of up to Shift pixels in training; 0 = off
	Dtype     string  `json:"dtype" flag:"dtype" help:"float32 or float64"`                                                                // float32 or float64
	Seed      uint64  `json:"seed"`                                                                                                        // fixes initial weights and dropout masks
}

// Default returns the configuration of `gradlab train -model cnn`:
// cnn-16-32-128 on (1, 28, 28) images, batch norm, dropout 0.3, float32.
func Default() Config {
	return Config{Input: []int{1, 28, 28}, Conv: []int{16, 32}, Kernel: 5, Dense: []int{128}, Classes: 10,
		BatchNorm: true, Dropout: 0.3, Dtype: "float32", Seed: 1}
}

// Name returns the short name of the architecture: cnn-16-32-128.
func (c Config) Name() string {
	var parts []string
	for _, v := range append(append([]int(nil), c.Conv...), c.Dense...) {
		parts = append(parts, fmt.Sprint(v))
	}
	return "cnn-" + strings.Join(parts, "-")
}

// Validate reports the first invalid field; shapes that the pooling would
// reduce below one pixel are reported when the model is built.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if len(c.Input) != 3 || c.Input[0] <= 0 || c.Input[1] <= 0 || c.Input[2] <= 0 {
		return bad("input %v, want (channels, height, width) > 0", c.Input)
	}
	if len(c.Conv) == 0 {
		return bad("no convolution blocks, want at least one")
	}
	for i, ch := range c.Conv {
		if ch <= 0 {
			return bad("convolution %d has %d channels, want > 0", i+1, ch)
		}
	}
	if c.Kernel <= 0 || c.Kernel%2 == 0 {
		return bad("kernel = %d, want an odd size > 0", c.Kernel)
	}
	for i, u := range c.Dense {
		if u <= 0 {
			return bad("dense layer %d has %d units, want > 0", i+1, u)
		}
	}
	if c.Classes < 2 {
		return bad("classes = %d, want ≥ 2", c.Classes)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return bad("dropout = %v, want 0 ≤ p < 1", c.Dropout)
	}
	if c.Shift < 0 || c.Shift >= min(c.Input[1], c.Input[2]) {
		return bad("shift = %d, want 0 ≤ shift < %d (the image's size)", c.Shift, min(c.Input[1], c.Input[2]))
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

// Layers returns the network's layers (see the package documentation).
func Layers(c Config) *nn.Sequential {
	s := nn.NewSequential()
	if c.Shift > 0 {
		s.Add(nn.RandomShift(c.Shift))
	}
	same := ops.ConvOptions{Padding: [2]int{c.Kernel / 2, c.Kernel / 2}}
	k := [2]int{c.Kernel, c.Kernel}
	for i, ch := range c.Conv {
		l := i + 1
		if c.BatchNorm {
			s.Add(nn.Named(fmt.Sprintf("conv%d", l), nn.Conv2D(ch, k, same, nn.NoBias())),
				nn.Named(fmt.Sprintf("bn%d", l), nn.BatchNorm()))
		} else {
			s.Add(nn.Named(fmt.Sprintf("conv%d", l), nn.Conv2D(ch, k, same)))
		}
		s.Add(nn.ReLU(), nn.MaxPool2D(ops.PoolOptions{Kernel: [2]int{2, 2}}))
	}
	s.Add(nn.Flatten())
	for i, u := range c.Dense {
		s.Add(nn.Named(fmt.Sprintf("fc%d", i+1), nn.Dense(u)), nn.ReLU())
		if c.Dropout > 0 {
			s.Add(nn.Dropout(c.Dropout))
		}
	}
	return s.Add(nn.Named("out", nn.Dense(c.Classes)))
}

// New validates c and returns the CNN as an nn.Model: input "x"
// (batch, Input…), labels "y" (batch), the mean cross-entropy as loss and
// the logits (batch, Classes) as Output(0).
func New(c Config) (*nn.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	dt, _ := c.dtype()
	return nn.NewClassifier(c.Seed, dt, c.Input, Layers(c))
}
