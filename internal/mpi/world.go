package mpi

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"sync"
	"unsafe"
)

// World is MPI_COMM_WORLD of an initialized process: every rank that the
// launcher started. Its methods may be called from any goroutine; they are
// serialized by a mutex (see the package comment on thread levels). The
// collective calls (AllReduceSum32/64, Broadcast, BroadcastVar, Differing,
// Barrier, Finalize) must be made by every rank in the same order with matching
// lengths and roots, as MPI requires; a rank that skips one makes the others
// wait.
type World struct {
	mu        sync.Mutex
	rank      int
	size      int
	finalized bool
	b         backend // the build's own part: MPI (-tags mpi) or nothing (stub)
}

// The state of Init: MPI can be initialized once per process.
var initState struct {
	sync.Mutex
	called bool
}

// maxCount is the largest element count passed to one MPI call (MPI's
// counts are C ints); longer buffers go in consecutive calls of at most
// maxCount elements. A variable so that tests can exercise the split.
var maxCount = math.MaxInt32

// Init starts MPI (once per process) and returns MPI_COMM_WORLD.
//
// With -tags mpi it calls MPI_Init_thread asking for MPI_THREAD_SERIALIZED,
// then sets MPI_ERRORS_RETURN on MPI_COMM_WORLD, also when the program was
// not started by mpirun (OpenMPI then runs it as a singleton: a world of
// size 1). Without the tag (the stub) it returns ErrNotBuilt when Launched
// is true, and otherwise a world of one rank whose calls need no MPI (see
// the package comment).
//
// A second call returns ErrInitialized, also after Finalize: MPI cannot be
// initialized again in the same process. (A stub Init that returned
// ErrNotBuilt does not count.)
func Init() (*World, error) {
	initState.Lock()
	defer initState.Unlock()
	if initState.called {
		return nil, ErrInitialized
	}
	w, counts, err := start()
	if counts {
		initState.called = true
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Rank is this process's rank in [0, Size). 0 on a nil World.
func (w *World) Rank() int {
	if w == nil {
		return 0
	}
	return w.rank
}

// Size is the number of ranks. 1 on a nil World.
func (w *World) Size() int {
	if w == nil {
		return 1
	}
	return w.size
}

// lock takes w's mutex; it fails (and leaves it unlocked) on a nil or
// finalized World.
func (w *World) lock() error {
	if w == nil {
		return ErrNoWorld
	}
	w.mu.Lock()
	if w.finalized {
		w.mu.Unlock()
		return ErrFinalized
	}
	return nil
}

// AllReduceSum32 replaces buf, on every rank, with the element-wise sum of
// all ranks' buf (MPI_Allreduce with MPI_IN_PLACE, MPI_FLOAT, MPI_SUM). All
// ranks must pass the same length. The order in which MPI adds the ranks'
// values is its own (the same on every rank for a given size and length in
// OpenMPI's default algorithms, so all ranks get identical results). It
// allocates nothing; a zero-length buf returns at once.
func (w *World) AllReduceSum32(buf []float32) error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.chunks(unsafe.Pointer(unsafe.SliceData(buf)), len(buf), 4, func(p unsafe.Pointer, n int) error {
		return w.b.allReduce(p, n, kindFloat32)
	})
}

// AllReduceSum64 is AllReduceSum32 for float64 (MPI_DOUBLE).
func (w *World) AllReduceSum64(buf []float64) error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.chunks(unsafe.Pointer(unsafe.SliceData(buf)), len(buf), 8, func(p unsafe.Pointer, n int) error {
		return w.b.allReduce(p, n, kindFloat64)
	})
}

// AllReduceSum is AllReduceSum32 or AllReduceSum64, whichever T asks for.
func AllReduceSum[T float32 | float64](w *World, buf []T) error {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		return w.AllReduceSum32(unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf)))
	}
	return w.AllReduceSum64(unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf)))
}

// Broadcast copies rank root's buf into every other rank's buf (MPI_Bcast
// of MPI_BYTE). All ranks must pass the same length and root; for data
// whose length only root knows, use BroadcastVar. A root outside [0, Size)
// is ErrRoot, found before any communication (every rank finds it, so none
// waits). A zero-length buf returns at once. It allocates nothing.
func (w *World) Broadcast(buf []byte, root int) error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.broadcast(buf, root)
}

func (w *World) broadcast(buf []byte, root int) error {
	if root < 0 || root >= w.size {
		return ErrRoot
	}
	return w.chunks(unsafe.Pointer(unsafe.SliceData(buf)), len(buf), 1, func(p unsafe.Pointer, n int) error {
		return w.b.broadcast(p, n, root)
	})
}

// BroadcastVar returns rank root's data on every rank, whatever its length:
// root's length goes first (one MPI_Bcast of 8 bytes), then the bytes. On
// root it returns data itself; on the other ranks a new slice (their data
// is ignored). Meant for comparing each rank's configuration with rank 0's.
func (w *World) BroadcastVar(data []byte, root int) ([]byte, error) {
	if err := w.lock(); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	var n [8]byte
	if w.rank == root {
		binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	}
	if err := w.broadcast(n[:], root); err != nil {
		return nil, err
	}
	length := binary.LittleEndian.Uint64(n[:])
	out := data
	if w.rank != root {
		out = make([]byte, length)
	}
	if err := w.broadcast(out, root); err != nil {
		return nil, err
	}
	return out, nil
}

// Differing returns, on every rank alike, how many ranks' data differ from
// rank 0's: rank 0's data goes to all (BroadcastVar), each rank compares its
// own, and the mismatches are summed (one AllReduceSum64 of one element).
// For the configuration check: every rank passes its encoded flags, and all
// ranks stop together (with the same count) instead of only the differing
// ones.
func (w *World) Differing(data []byte) (int, error) {
	ref, err := w.BroadcastVar(data, 0)
	if err != nil {
		return 0, err
	}
	n := []float64{0}
	if !bytes.Equal(ref, data) {
		n[0] = 1
	}
	if err := w.AllReduceSum64(n); err != nil {
		return 0, err
	}
	return int(n[0]), nil
}

// Barrier returns once every rank has entered it (MPI_Barrier).
func (w *World) Barrier() error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.b.barrier()
}

// Abort ends the whole job, every rank, with exit status code (MPI_Abort on
// MPI_COMM_WORLD; mpirun then exits with code too). It does not return. It
// does not wait for a call that another goroutine is making on w (a
// goroutine stuck in an all-reduce must not keep the job alive). On a nil or
// finalized World, and in the stub, it is os.Exit(code). Use a non-zero code.
func (w *World) Abort(code int) {
	if w == nil {
		os.Exit(code)
	}
	if w.mu.TryLock() {
		fin := w.finalized
		w.mu.Unlock()
		if fin {
			os.Exit(code)
		}
	}
	w.b.abort(code)
	os.Exit(code) // not reached after MPI_Abort
}

// Finalize ends MPI in this process (MPI_Finalize, collective: every rank
// calls it). Every later call on w returns ErrFinalized, as does a second
// Finalize; Rank and Size keep their values.
func (w *World) Finalize() error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	w.finalized = true
	return w.b.finalize()
}

// chunks calls f on consecutive pieces of at most maxCount elements of the
// n elements of size elem at p. Nothing is called for n = 0.
func (w *World) chunks(p unsafe.Pointer, n, elem int, f func(unsafe.Pointer, int) error) error {
	for n > 0 {
		c := min(n, maxCount)
		if err := f(p, c); err != nil {
			return err
		}
		if n -= c; n > 0 { // never a pointer past the end (checkptr)
			p = unsafe.Add(p, c*elem)
		}
	}
	return nil
}

type kind int

const (
	kindFloat32 kind = iota
	kindFloat64
)
