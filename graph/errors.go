package graph

import "errors"

// Sentinel errors of package graph. Errors returned by the package wrap one
// of them (test with errors.Is) and name the input, parameter or op involved.
var (
	// ErrShape reports a shape that does not match what was declared or what an op needs.
	ErrShape = errors.New("graph: shape mismatch")
	// ErrDtype reports a dtype that is not supported or does not match the declared one.
	ErrDtype = errors.New("graph: dtype mismatch")
	// ErrName reports an empty or duplicate input or parameter name.
	ErrName = errors.New("graph: bad name")
	// ErrUnknownInput reports a feed for a name that is not an input of the program.
	ErrUnknownInput = errors.New("graph: unknown input")
	// ErrMissingInput reports an input that was not fed.
	ErrMissingInput = errors.New("graph: missing input")
	// ErrInit reports an initializer that failed or returned a wrong value.
	ErrInit = errors.New("graph: initializer failed")
	// ErrBuild reports a failure while building or compiling the graph.
	ErrBuild = errors.New("graph: build failed")
	// ErrRun reports a failure (including a recovered Gorgonia panic) while running a program.
	ErrRun = errors.New("graph: run failed")
)
