package models

import (
	"fmt"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/train"
)

// Loaded is a trained model restored from its checkpoint, ready to predict:
// Infer gives the task's natural output (class probabilities for a
// classifier, values for a regressor), Predict the raw output, Summary the
// layer table. Close it when done.
type Loaded struct {
	*nn.Model
	Config     train.Config     // the run that trained it
	Checkpoint *checkpoint.File // its metadata: history, configuration
}

// Load rebuilds the shipped model that wrote the checkpoint at path (its
// configuration names it), restores its parameters and states, and
// returns it in Eval use (Predict and Infer never train). A checkpoint of
// another model, or of a model this build does not know, is an error
// naming the difference.
func Load(path string) (*Loaded, error) {
	f, cfg, err := train.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	m, err := Build(cfg.Model.Name, cfg.Model.Config, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := m.Program(1); err != nil { // makes the parameters (the smallest program: Load serves predictions)
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := train.RestoreModel(m, f); err != nil {
		m.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return &Loaded{Model: m, Config: cfg, Checkpoint: f}, nil
}
