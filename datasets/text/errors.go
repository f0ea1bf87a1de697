package text

import "errors"

// Sentinel errors of package text.
var (
	// ErrText reports a text that cannot make a data set: missing, empty,
	// too short for two windows, or binary.
	ErrText = errors.New("text: unusable text")
	// ErrVocab reports bytes outside a vocabulary (a prompt, another file).
	ErrVocab = errors.New("text: outside the vocabulary")
)
