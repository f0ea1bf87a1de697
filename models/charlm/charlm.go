package charlm

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/nn"
)

// Architectures are the values of Config.Arch.
var Architectures = []string{"transformer", "lstm", "gru"}

// Config describes a character-level language model. The JSON form is
// what checkpoints and config.json hold; Fit fills Vocab from the data.
type Config struct {
	Arch    string  `json:"arch" flag:"arch" help:"architecture: transformer, lstm or gru"`
	Context int     `json:"context" flag:"context" help:"context length: tokens (bytes) per training window, and the most a transformer attends to"`
	Width   int     `json:"width" flag:"width" help:"model width: the embedding and transformer dimension, or the recurrent layers' hidden units"`
	Depth   int     `json:"depth" flag:"depth" help:"transformer blocks, or stacked recurrent layers"`
	Heads   int     `json:"heads" flag:"heads" help:"attention heads of a transformer (must divide -width)"`
	Dropout float64 `json:"dropout" flag:"dropout" help:"dropout (drop probability) after each hidden dense layer, 0 ≤ p < 1"`
	Vocab   int     `json:"vocab"` // tokens (distinct bytes of the training text); Fit sets it
	Seed    uint64  `json:"seed"`
}

// Default returns the configuration of `gradlab train -model charlm`
// (chosen on the held-out span within a 10-minute budget on 2 cores, see
// benchmarks/CHARLM.md): one GRU layer of 512 units over windows of 128
// bytes, dropout 0.2 before the head. Heads (4) applies to -arch
// transformer only.
func Default() Config {
	return Config{Arch: "gru", Context: 128, Width: 512, Depth: 1, Heads: 4, Dropout: 0.2, Seed: 1}
}

// Name describes the architecture: charlm-transformer-4x128-h4-c64 or
// charlm-lstm-1x256-c128.
func (c Config) Name() string {
	if c.Arch == "transformer" {
		return fmt.Sprintf("charlm-transformer-%dx%d-h%d-c%d", c.Depth, c.Width, c.Heads, c.Context)
	}
	return fmt.Sprintf("charlm-%s-%dx%d-c%d", c.Arch, c.Depth, c.Width, c.Context)
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if err := c.ValidateChoices(); err != nil {
		return err
	}
	if c.Vocab < 2 {
		return fmt.Errorf("%w: vocab = %d, want ≥ 2 (Fit sets it from the data)", ErrConfig, c.Vocab)
	}
	return nil
}

// ValidateChoices reports the first invalid field of those a user chooses
// (all but Vocab), so flags are checked before any data is read.
func (c Config) ValidateChoices() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Arch != "transformer" && c.Arch != "lstm" && c.Arch != "gru":
		return bad("arch = %q, want transformer, lstm or gru", c.Arch)
	case c.Context < 1:
		return bad("context = %d, want ≥ 1", c.Context)
	case c.Width < 1:
		return bad("width = %d, want ≥ 1", c.Width)
	case c.Depth < 1:
		return bad("depth = %d, want ≥ 1", c.Depth)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return bad("dropout = %v, want 0 ≤ p < 1", c.Dropout)
	case c.Arch == "transformer" && (c.Heads < 1 || c.Width%c.Heads != 0):
		return bad("heads = %d do not divide width = %d", c.Heads, c.Width)
	}
	return nil
}

// Fit returns c with Vocab set from the training data d: windows of int
// token ids (Context) with next-token targets, as text.NewWindows makes.
func Fit(c Config, d datasets.Dataset) (Config, error) {
	in, out := d.Input(), d.Target()
	if !in.IsInt() || len(in.Shape) != 1 || !out.IsInt() || len(out.Shape) != 1 || in.Classes < 2 {
		return c, fmt.Errorf("%w: data of %v inputs and %v targets, want windows of token ids with next-token targets", ErrConfig, in, out)
	}
	if in.Shape[0] != c.Context {
		return c, fmt.Errorf("%w: windows of %d tokens for a model of context %d", ErrConfig, in.Shape[0], c.Context)
	}
	c.Vocab = in.Classes
	return c, nil
}

// embedInit is N(0, 0.02²), GPT-2's embedding initialization.
var embedInit = initializers.Must(initializers.Normal(0, 0.02))

// Layers returns the network from token ids (N, T) to logits (N, T, Vocab).
func Layers(c Config) *nn.Sequential {
	s := nn.NewSequential(nn.Named("tok", nn.Embedding(c.Vocab, c.Width, nn.Init(embedInit))))
	if c.Arch == "transformer" {
		s.Add(nn.Named("pos", nn.PositionalEmbedding(c.Context, nn.Init(embedInit))))
		for i := range c.Depth {
			s.Add(nn.Named(fmt.Sprintf("block%d", i+1), nn.TransformerBlock(c.Heads, 4*c.Width, c.Dropout, nn.Causal())))
		}
		s.Add(nn.Named("ln_f", nn.LayerNorm()))
	} else {
		for i := range c.Depth {
			cell := nn.LSTM(c.Width)
			if c.Arch == "gru" {
				cell = nn.GRU(c.Width)
			}
			s.Add(nn.Named(fmt.Sprintf("rnn%d", i+1), cell))
			if c.Dropout > 0 {
				s.Add(nn.Dropout(c.Dropout))
			}
		}
	}
	return s.Add(nn.Named("head", nn.Dense(c.Vocab)))
}

// New validates c and returns the model: a float32 classifier of every
// position (cross-entropy over the next byte) of input int (Context).
func New(c Config) (*nn.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return nn.NewClassifier(c.Seed, tensor.Int, []int{c.Context}, Layers(c))
}
