package train

import "errors"

// Sentinel errors of package train.
var (
	// ErrConfig reports an invalid training configuration; the message names the field.
	ErrConfig = errors.New("train: invalid config")
	// ErrData reports data that does not fit the model (the message names
	// the data set, the model's input and both shapes) or is missing.
	ErrData = errors.New("train: data does not fit the model")
	// ErrDiverged reports a NaN or infinite loss; the last good checkpoint is kept.
	ErrDiverged = errors.New("train: loss diverged")
	// ErrCheckpoint reports a checkpoint that does not fit the model or run.
	ErrCheckpoint = errors.New("train: checkpoint does not fit")
	// ErrStop, returned (or wrapped) by a hook, ends a run early without
	// failing it: Train returns the history so far and a nil error, with
	// the hook's message in Result.Stopped.
	ErrStop = errors.New("train: stopped by a hook")
)
