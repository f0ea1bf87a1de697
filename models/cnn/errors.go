package cnn

import "errors"

// ErrConfig reports an invalid model configuration; the message names the field.
var ErrConfig = errors.New("cnn: invalid config")
