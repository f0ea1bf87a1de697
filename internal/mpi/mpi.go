//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <stdlib.h>
#include <mpi.h>

static int gl_init_thread(int *provided) {
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
}
static int gl_serialized(void) { return MPI_THREAD_SERIALIZED; }
static int gl_set_errors_return(void) {
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int gl_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int gl_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int gl_allreduce(void *buf, int n, int f64) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, f64 ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int gl_bcast(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}
static int gl_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int gl_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int gl_finalize(void) { return MPI_Finalize(); }
static int gl_error_string(int code, char *s, int *n) { return MPI_Error_string(code, s, n); }
static int gl_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Built is true in the -tags mpi build, which links OpenMPI.
const Built = true

// backend of the MPI build: the thread that called MPI_Init_thread, kept
// for MPI_Finalize (the MPI standard has the two on the same thread).
type backend struct {
	finalize_ chan chan error
}

// mainThread is the goroutine, locked to its OS thread for its whole life,
// that runs MPI_Init_thread and later MPI_Finalize: MPI's "main thread".
func mainThread(started chan<- error, world *World, fin chan chan error) {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	var provided C.int
	if rc := C.gl_init_thread(&provided); rc != C.MPI_SUCCESS {
		started <- mpiError("MPI_Init_thread", rc)
		return
	}
	if provided < C.gl_serialized() {
		// MPI is initialized but unusable for us: finalize it here.
		C.gl_finalize()
		started <- ErrThreadLevel
		return
	}
	if rc := C.gl_set_errors_return(); rc != C.MPI_SUCCESS {
		started <- mpiError("MPI_Comm_set_errhandler", rc)
		return
	}
	var r, s C.int
	if rc := C.gl_rank(&r); rc != C.MPI_SUCCESS {
		started <- mpiError("MPI_Comm_rank", rc)
		return
	}
	if rc := C.gl_size(&s); rc != C.MPI_SUCCESS {
		started <- mpiError("MPI_Comm_size", rc)
		return
	}
	world.rank, world.size = int(r), int(s)
	started <- nil
	reply := <-fin
	reply <- check("MPI_Finalize", C.gl_finalize())
}

func start() (*World, bool, error) {
	w := &World{b: backend{finalize_: make(chan chan error)}}
	started := make(chan error)
	go mainThread(started, w, w.b.finalize_)
	if err := <-started; err != nil {
		return nil, true, err
	}
	return w, true, nil
}

func (b *backend) allReduce(p unsafe.Pointer, n int, k kind) error {
	f64 := C.int(0)
	if k == kindFloat64 {
		f64 = 1
	}
	return check("MPI_Allreduce", C.gl_allreduce(p, C.int(n), f64))
}

func (b *backend) broadcast(p unsafe.Pointer, n, root int) error {
	return check("MPI_Bcast", C.gl_bcast(p, C.int(n), C.int(root)))
}

func (b *backend) barrier() error { return check("MPI_Barrier", C.gl_barrier()) }

func (b *backend) abort(code int) { C.gl_abort(C.int(code)) }

func (b *backend) finalize() error {
	reply := make(chan error)
	b.finalize_ <- reply
	return <-reply
}

// check turns an MPI return code into nil or an *Error.
func check(call string, rc C.int) error {
	if rc == C.MPI_SUCCESS {
		return nil
	}
	return mpiError(call, rc)
}

func mpiError(call string, rc C.int) error {
	buf := make([]byte, int(C.gl_max_error_string())+1)
	var n C.int
	msg := "unknown MPI error"
	if C.gl_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n) == C.MPI_SUCCESS && n > 0 {
		msg = string(buf[:n])
	}
	return &Error{Call: call, Code: int(rc), Msg: msg}
}
