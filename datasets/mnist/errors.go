package mnist

import "errors"

// Sentinel errors of package mnist. Every error returned by the package wraps
// one of them (test with errors.Is) and names the file or argument involved.
var (
	// ErrFormat reports an IDX file that is not what it should be: a wrong magic
	// number or dimension count, an absurd or truncated header, truncated data,
	// trailing bytes, a label outside 0..9, or a corrupt gzip stream.
	ErrFormat = errors.New("mnist: invalid IDX file")
	// ErrMismatch reports files that do not belong together: image and label
	// counts that differ, or training and test images of different sizes.
	ErrMismatch = errors.New("mnist: files do not match")
	// ErrNotFound reports a data file or directory that does not exist.
	ErrNotFound = errors.New("mnist: data not found")
	// ErrArgument reports an invalid argument: an index out of range, a buffer
	// of the wrong length, a split larger than the data set, an unknown scaling.
	ErrArgument = errors.New("mnist: invalid argument")
)
