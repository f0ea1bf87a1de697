//go:build !mpi

package mpi

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

func init() {
	roles["stub-abort"] = func() int {
		w, err := Init()
		if err != nil {
			return 2
		}
		w.Abort(5)
		return 0 // not reached
	}
}

// The stub: ErrNotBuilt under a launcher; otherwise a world of one rank
// whose calls leave buffers as they are; then the checks every build makes.
func TestStub(t *testing.T) {
	if Built {
		t.Fatal("Built in the default build")
	}
	for _, v := range launcherVars {
		unsetenv(t, v)
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	if w, err := Init(); !errors.Is(err, ErrNotBuilt) || w != nil {
		t.Fatalf("stub Init under mpirun: %v, %v; want nil, ErrNotBuilt", w, err)
	}
	if ErrNotBuilt.Error() != "gradlab was built without -tags mpi" {
		t.Errorf("ErrNotBuilt says %q", ErrNotBuilt)
	}
	unsetenv(t, "OMPI_COMM_WORLD_SIZE")

	w, err := Init()
	if err != nil {
		t.Fatalf("stub Init alone: %v", err)
	}
	if w.Rank() != 0 || w.Size() != 1 {
		t.Fatalf("stub world: rank %d size %d, want 0 1", w.Rank(), w.Size())
	}
	if _, err := Init(); !errors.Is(err, ErrInitialized) {
		t.Errorf("second Init: %v, want ErrInitialized", err)
	}
	f32 := []float32{1.5, -2, 3}
	f64 := []float64{1.5, -2, 3}
	if err := w.AllReduceSum32(f32); err != nil || f32[0] != 1.5 || f32[1] != -2 || f32[2] != 3 {
		t.Errorf("AllReduceSum32 over one rank: %v, %v", f32, err)
	}
	if err := AllReduceSum(w, f64); err != nil || f64[0] != 1.5 || f64[1] != -2 || f64[2] != 3 {
		t.Errorf("AllReduceSum over one rank: %v, %v", f64, err)
	}
	if err := w.AllReduceSum64(nil); err != nil {
		t.Errorf("zero length: %v", err)
	}
	b := []byte("config")
	if err := w.Broadcast(b, 0); err != nil || string(b) != "config" {
		t.Errorf("Broadcast from 0: %q, %v", b, err)
	}
	for _, root := range []int{-1, 1} {
		if err := w.Broadcast(b, root); !errors.Is(err, ErrRoot) {
			t.Errorf("Broadcast root %d: %v, want ErrRoot", root, err)
		}
	}
	if got, err := w.BroadcastVar(b, 0); err != nil || string(got) != "config" {
		t.Errorf("BroadcastVar: %q, %v", got, err)
	}
	if err := w.Barrier(); err != nil {
		t.Errorf("Barrier: %v", err)
	}
	if n := testing.AllocsPerRun(10, func() { _ = w.AllReduceSum32(f32); _ = AllReduceSum(w, f64) }); n != 0 {
		t.Errorf("%v allocations per all-reduce", n)
	}
	if err := w.Finalize(); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	for name, err := range map[string]error{
		"AllReduceSum32": w.AllReduceSum32(f32),
		"AllReduceSum64": w.AllReduceSum64(f64),
		"Broadcast":      w.Broadcast(b, 0),
		"Barrier":        w.Barrier(),
		"Finalize":       w.Finalize(),
	} {
		if !errors.Is(err, ErrFinalized) {
			t.Errorf("after Finalize: %s: %v, want ErrFinalized", name, err)
		}
	}
	if w.Rank() != 0 || w.Size() != 1 {
		t.Errorf("after Finalize: rank %d size %d", w.Rank(), w.Size())
	}
	if _, err := Init(); !errors.Is(err, ErrInitialized) {
		t.Errorf("Init after Finalize: %v, want ErrInitialized", err)
	}
}

// The stub's Abort ends the process with the code.
func TestStubAbort(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(withoutLauncher(os.Environ()), childEnv+"=stub-abort")
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Fatalf("Abort(5): %v, want exit status 5", err)
	}
}
