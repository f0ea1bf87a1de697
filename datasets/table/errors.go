package table

import "errors"

// Sentinel errors of package table; messages name the file, the line, the
// column and the value.
var (
	// ErrRead reports a file that cannot be read or is not text.
	ErrRead = errors.New("table: cannot read")
	// ErrFormat reports content that is not a table of the expected form:
	// empty, ragged rows, a word in a numeric column, a missing value where
	// none may be, a target of one class.
	ErrFormat = errors.New("table: bad table")
	// ErrColumn reports a column that does not exist.
	ErrColumn = errors.New("table: no such column")
)
