package models

import "errors"

// Sentinel errors of package models.
var (
	// ErrUnknown reports a model name that is not in the registry.
	ErrUnknown = errors.New("models: unknown model")
	// ErrConfig reports a configuration that cannot be read (a model's own
	// package reports an invalid field with its own sentinel).
	ErrConfig = errors.New("models: invalid config")
)
