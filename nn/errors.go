package nn

import "errors"

// Sentinel errors of package nn; every error the package returns wraps one
// of them (or an error of the package it called) and names the layer or
// input involved.
var (
	// ErrLayer reports a layer that cannot take its input (the message names
	// the layer, the shape it wants and the shape it got) or a bad layer
	// setting.
	ErrLayer = errors.New("nn: bad layer")
	// ErrInput reports a batch or value that does not fit the model.
	ErrInput = errors.New("nn: invalid input")
	// ErrModel reports a model that cannot be built or used as asked.
	ErrModel = errors.New("nn: bad model")
)
