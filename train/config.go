package train

import (
	"fmt"
	"math"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/solvers"
)

// Config is everything that determines a run; config.json holds it and a
// checkpoint carries it, so a run can be repeated or resumed.
type Config struct {
	Model      mlp.Config     `json:"model"`
	Epochs     int            `json:"epochs"`
	Batch      int            `json:"batch"`
	Optimizer  string         `json:"optimizer"`   // a solvers.Names name
	Solver     solvers.Config `json:"solver"`      // LR, betas, weight decay, ClipNorm, …
	Schedule   Schedule       `json:"schedule"`    // learning rate against step
	Scaling    string         `json:"scaling"`     // pixel scaling: unit, symmetric, standardize
	Validation int            `json:"validation"`  // training examples held out for early stopping
	Patience   int            `json:"patience"`    // epochs without validation-loss improvement before stopping; 0 = off
	TrainLimit int            `json:"train_limit"` // use only the first N training examples; 0 = all
	TestLimit  int            `json:"test_limit"`  // use only the first N test examples; 0 = all
	Seed       uint64         `json:"seed"`        // drives initialization, dropout and shuffling
}

// Default returns the configuration `gradlab train` runs without flags: the
// mlp.Default model, AdamW (lr 0.002, decoupled weight decay 0.05) with a
// cosine schedule, batches of 64, 10 epochs, standardized pixels, seed 1. It
// reaches 98.58% test accuracy on MNIST (the README records the run).
func Default() Config {
	return Config{
		Model:     mlp.Default(),
		Epochs:    10,
		Batch:     64,
		Optimizer: "adamw",
		Solver:    solvers.Config{LR: 2e-3, DecoupledDecay: 0.05},
		Schedule:  Schedule{Kind: "cosine"},
		Scaling:   "standardize",
		Seed:      1,
	}
}

// Validate reports the first invalid field, before any work starts.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Epochs <= 0:
		return bad("epochs = %d, want > 0", c.Epochs)
	case c.Batch <= 0:
		return bad("batch = %d, want > 0", c.Batch)
	case c.Validation < 0:
		return bad("validation = %d, want ≥ 0", c.Validation)
	case c.Patience < 0:
		return bad("patience = %d, want ≥ 0", c.Patience)
	case c.Patience > 0 && c.Validation == 0:
		return bad("patience = %d needs a validation set (validation > 0)", c.Patience)
	case c.TrainLimit < 0 || c.TestLimit < 0:
		return bad("train_limit = %d, test_limit = %d, want ≥ 0", c.TrainLimit, c.TestLimit)
	case math.IsNaN(c.Solver.LR) || c.Solver.LR < 0:
		return bad("lr = %v, want ≥ 0", c.Solver.LR)
	}
	m := c.Model
	m.Seed = c.Seed
	if err := m.Validate(); err != nil {
		return err
	}
	if _, err := solvers.New(c.Optimizer, c.Solver); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if _, err := mnist.ParseScaling(c.Scaling); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c.Schedule.Validate()
}
