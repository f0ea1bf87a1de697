package datasets

import "errors"

// ErrArgument reports invalid data or an invalid argument: lengths that do
// not match, a label out of range, a NaN or infinite feature, an index out of
// range, a batch buffer of the wrong shape or dtype. The message names it.
var ErrArgument = errors.New("datasets: invalid argument")
