package train

import "errors"

// Sentinel errors of package train.
var (
	// ErrConfig reports an invalid training configuration; the message names the field.
	ErrConfig = errors.New("train: invalid config")
	// ErrDiverged reports a NaN or infinite loss; the last good checkpoint is kept.
	ErrDiverged = errors.New("train: loss diverged")
	// ErrCheckpoint reports a checkpoint that does not fit the model or run.
	ErrCheckpoint = errors.New("train: checkpoint does not fit")
)
