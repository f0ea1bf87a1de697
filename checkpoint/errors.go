package checkpoint

import "errors"

// Sentinel errors of package checkpoint; returned errors wrap one of them
// and name the file.
var (
	// ErrCorrupt reports a file that is not a well-formed gradlab safetensors file.
	ErrCorrupt = errors.New("checkpoint: corrupt file")
	// ErrChecksum reports data whose SHA-256 does not match the header.
	ErrChecksum = errors.New("checkpoint: checksum mismatch")
	// ErrVersion reports a format version this build cannot read.
	ErrVersion = errors.New("checkpoint: unsupported version")
	// ErrDtype reports a tensor of a dtype the format does not carry here.
	ErrDtype = errors.New("checkpoint: unsupported dtype")
)
