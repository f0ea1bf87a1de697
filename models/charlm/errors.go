package charlm

import "errors"

// Sentinel errors of package charlm. A prompt with bytes outside the
// model's vocabulary is text.ErrVocab (its message lists them).
var (
	// ErrConfig reports an invalid model configuration; the message names the field.
	ErrConfig = errors.New("charlm: invalid config")
	// ErrSampling reports invalid sampling options: a temperature ≤ 0 or
	// NaN, a negative top-k or number of characters.
	ErrSampling = errors.New("charlm: invalid sampling options")
	// ErrContext reports a window longer than the model's context.
	ErrContext = errors.New("charlm: context longer than the model's")
	// ErrModel reports a model whose parameters are not a charlm's of its
	// configuration (a missing or misshapen tensor).
	ErrModel = errors.New("charlm: not a charlm model")
)
