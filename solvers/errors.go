package solvers

import "errors"

// Sentinel errors of package solvers. Errors returned by the package wrap one
// of them (test with errors.Is) and name the solver, field, parameter or state
// key involved.
var (
	// ErrConfig reports an invalid hyperparameter; the message names the solver and the field.
	ErrConfig = errors.New("solvers: invalid config")
	// ErrUnknown reports an unknown solver name.
	ErrUnknown = errors.New("solvers: unknown solver")
	// ErrParam reports a parameter that cannot be stepped: unnamed, without a
	// gradient, not a dense float32/float64 tensor, or with a gradient of another shape.
	ErrParam = errors.New("solvers: bad parameter")
	// ErrShape reports a parameter whose shape or dtype changed since its state was created.
	ErrShape = errors.New("solvers: shape mismatch")
	// ErrState reports state given to SetState that is malformed: unknown key,
	// wrong dtype, or a shape inconsistent with the other slots of the parameter.
	ErrState = errors.New("solvers: invalid state")
)
