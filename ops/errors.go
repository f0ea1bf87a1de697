package ops

import "errors"

// Sentinel errors of package ops.
var (
	// ErrShape reports inputs whose shapes do not fit the op.
	ErrShape = errors.New("ops: shape mismatch")
	// ErrDtype reports an input of a dtype the op does not accept.
	ErrDtype = errors.New("ops: dtype mismatch")
	// ErrLabel reports a class label outside [0, classes) at run time.
	ErrLabel = errors.New("ops: label out of range")
	// ErrConfig reports a hyperparameter outside its valid range (a dropout
	// probability, a batch-norm momentum); the message names the op and field.
	ErrConfig = errors.New("ops: bad hyperparameter")
	// ErrBuild reports any other failure while adding a node to the graph.
	ErrBuild = errors.New("ops: build failed")
)
