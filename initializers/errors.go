package initializers

import "errors"

// Sentinel errors of package initializers. Every error the package returns
// wraps one of them (test with errors.Is) and names the initializer and the
// offending field, value, shape or dtype.
var (
	// ErrConfig reports a bad hyperparameter given to a constructor: a negative
	// or non-finite standard deviation, low ≥ high, a NaN or infinite value.
	ErrConfig = errors.New("initializers: bad configuration")
	// ErrShape reports a shape an initializer cannot fill: a zero or negative
	// dimension, a rank the fan computation or Orthogonal cannot use, or a
	// size that overflows int.
	ErrShape = errors.New("initializers: bad shape")
	// ErrDtype reports a dtype other than tensor.Float32 and tensor.Float64.
	ErrDtype = errors.New("initializers: unsupported dtype")
	// ErrUnknown reports an unknown initializer or nonlinearity name.
	ErrUnknown = errors.New("initializers: unknown name")
)
