package mpi

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is.
var (
	// ErrNotBuilt: the program was built without -tags mpi, yet it was
	// started by an MPI launcher (Launched is true), so it cannot join the
	// other ranks. Returned by the stub's Init.
	ErrNotBuilt = errors.New("gradlab was built without -tags mpi")

	// ErrInitialized: Init was called a second time. MPI can be initialized
	// once per process, even after Finalize.
	ErrInitialized = errors.New("mpi: Init called twice (MPI is initialized at most once per process)")

	// ErrNoWorld: a method was called on a nil *World (Init failed or was
	// not called).
	ErrNoWorld = errors.New("mpi: nil World (Init failed or was not called)")

	// ErrFinalized: a call on a World after its Finalize.
	ErrFinalized = errors.New("mpi: World used after Finalize")

	// ErrRoot: a Broadcast root outside [0, Size).
	ErrRoot = errors.New("mpi: broadcast root out of range")

	// ErrThreadLevel: the MPI library cannot give the thread level Init
	// asks for (MPI_THREAD_SERIALIZED).
	ErrThreadLevel = errors.New("mpi: MPI library does not provide MPI_THREAD_SERIALIZED")

	// ErrMPI is what every *Error unwraps to: an MPI call returned an error
	// code (the communicator's handler is MPI_ERRORS_RETURN).
	ErrMPI = errors.New("mpi: MPI call failed")
)

// Error is an error code returned by an MPI call, with MPI's own text for it
// (MPI_Error_string). errors.Is(err, ErrMPI) holds for every *Error.
type Error struct {
	Call string // the C function, e.g. "MPI_Allreduce"
	Code int    // MPI's error code
	Msg  string // MPI_Error_string(Code)
}

func (e *Error) Error() string {
	return fmt.Sprintf("mpi: %s: %s (MPI error code %d)", e.Call, e.Msg, e.Code)
}

// Unwrap returns ErrMPI.
func (e *Error) Unwrap() error { return ErrMPI }
