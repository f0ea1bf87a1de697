// Package mpi is gradlab's thin binding of MPI (Debian's OpenMPI,
// libopenmpi-dev) for synchronous data-parallel training: Init and Finalize,
// Rank and Size of MPI_COMM_WORLD, in-place sum all-reduces of float32 and
// float64 buffers, a byte broadcast (and Differing, which compares every
// rank's configuration with rank 0's), a barrier and Abort.
//
// # Builds
//
// With -tags mpi the package links OpenMPI through cgo (flags from
// pkg-config ompi-c) and Built is true. The default build is pure Go: a stub
// with the same API (Built is false) in which Init returns ErrNotBuilt when
// the process was started by an MPI launcher (Launched is true: running K
// copies that each believe they are alone would train K models and clobber
// each other's files), and otherwise succeeds with a world of one rank:
// Rank 0, Size 1, the all-reduces and Broadcast leave the buffer as it is
// (the sum over one rank, root 0's bytes), Barrier and Finalize return nil,
// Abort is os.Exit. The argument checks (ErrRoot, ErrFinalized,
// ErrInitialized, ErrNoWorld) are the same in both builds. So a caller can
// always call Init and use the World it gets, in either build, alone or
// under mpirun; only the stub under mpirun fails.
//
// With -tags mpi, Init calls MPI_Init_thread also when the process runs
// alone: OpenMPI then starts it as a singleton (a world of size 1; it needs
// mpirun's orted installed, openmpi-bin, and takes ~0.4 s here). Launched
// only reports whether a launcher started the process, so that a program
// can say it runs as one rank.
//
// # Threads
//
// Init asks for MPI_THREAD_SERIALIZED and fails with ErrThreadLevel if the
// library provides less. Go runs goroutines on any OS thread, so
// MPI_THREAD_FUNNELED (only the thread that called MPI_Init_thread may call
// MPI) cannot be promised to callers; SERIALIZED allows any thread, one at a
// time, and World's mutex makes the calls one at a time. MPI_THREAD_MULTIPLE
// is not needed (collectives on one communicator must be ordered anyway)
// and would have the library guard its own state in every call. The MPI standard wants
// MPI_Finalize on the thread that called MPI_Init_thread: both run on a
// goroutine of this package locked to its OS thread; the other calls run on
// the caller's thread. The one exception to the mutex is Abort, which does
// not wait for a call in progress on another goroutine (ending a job whose
// all-reduce hangs is its purpose); OpenMPI's MPI_Abort does that (tested).
//
// # Errors
//
// Right after MPI_Init_thread, MPI_COMM_WORLD's error handler is set to
// MPI_ERRORS_RETURN, so a failing call returns an *Error naming the C call
// and carrying MPI_Error_string's text; errors.Is(err, ErrMPI) holds for
// it. Errors in MPI_Init_thread itself happen before that and are fatal in
// OpenMPI (it aborts the process with its own message). Misuse found in Go
// before any MPI call returns a sentinel (errors.go): a nil World, a World
// after Finalize, a second Init, a root out of range. A dead rank is not an
// error that MPI returns: OpenMPI 4.1 (no ULFM fault tolerance) leaves the
// survivors in their all-reduce, and mpirun ends the whole job when it sees
// a rank die; see the tests (TestKilledRank) for the time it takes and the
// exit status.
//
// # Running
//
//	go build -tags mpi ./cmd/gradlab
//	mpirun --oversubscribe -np 2 ./gradlab ...
//
// --oversubscribe lets mpirun start more ranks than it counts cores or
// slots. As root, mpirun refuses to start unless given --allow-run-as-root
// (or OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1). On this
// machine (a container, Debian 12, OpenMPI 4.1.4) nothing else is needed:
// the ranks on one host talk through shared memory (the vader BTL, with
// CMA single copies). In containers where CMA is forbidden (ptrace
// restrictions) add --mca btl_vader_single_copy_mechanism none; the tests
// pass extra mpirun arguments from GRADLAB_MPIRUN_ARGS.
//
// The collectives (AllReduceSum32/64, Broadcast, BroadcastVar, Differing,
// Barrier, Finalize): every rank must make the same calls in the same order,
// with the same lengths and roots. A zero-length buffer returns
// without communicating, on every rank. Buffers longer than MPI's int
// count are sent in several calls. The reductions allocate nothing.
package mpi
