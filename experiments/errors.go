package experiments

import "errors"

// ErrConfig reports invalid experiment options; the message names the field.
var ErrConfig = errors.New("experiments: invalid options")

// ErrUnknown reports an experiment name that does not exist.
var ErrUnknown = errors.New("experiments: unknown experiment")
