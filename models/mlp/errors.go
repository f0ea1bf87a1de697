package mlp

import "errors"

// ErrConfig reports an invalid model configuration; the message names the field.
var ErrConfig = errors.New("mlp: invalid config")

// ErrInput reports a batch that does not fit the model.
var ErrInput = errors.New("mlp: invalid input")
