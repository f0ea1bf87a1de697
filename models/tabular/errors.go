package tabular

import "errors"

// ErrConfig reports an invalid configuration; the message names the field.
var ErrConfig = errors.New("tabular: invalid config")
