package metrics

import "errors"

// Sentinel errors of package metrics.
var (
	// ErrFit reports a metric that cannot measure the model's task (accuracy
	// of a regressor, say); the message names both.
	ErrFit = errors.New("metrics: metric does not fit the task")
	// ErrBatch reports a batch whose output and target a metric cannot read.
	ErrBatch = errors.New("metrics: invalid batch")
	// ErrState reports a state given to Mergeable.Merge that is not one of
	// the metric's kind.
	ErrState = errors.New("metrics: invalid state")
)
