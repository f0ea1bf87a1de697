//go:build !mpi

package mpi

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func init() {
	roles["stub"] = childStub
	roles["stub-abort"] = func() int {
		w, err := Init()
		if err != nil {
			return 2
		}
		w.Abort(5)
		return 0 // not reached
	}
}

// The stub, in a child process (Init can be called once per process):
// ErrNotBuilt under a launcher; otherwise a world of one rank whose calls
// leave buffers as they are; then the checks every build makes.
func TestStub(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(withoutLauncher(os.Environ()), childEnv+"=stub")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok stub\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func childStub() int {
	c := &checker{who: "stub"}
	if Built {
		c.errorf("Built in the default build")
	}
	if err := os.Setenv("OMPI_COMM_WORLD_SIZE", "2"); err != nil {
		c.errorf("%v", err)
	}
	if w, err := Init(); !errors.Is(err, ErrNotBuilt) || w != nil {
		c.errorf("stub Init under mpirun: %v, %v; want nil, ErrNotBuilt", w, err)
	}
	if ErrNotBuilt.Error() != "gradlab was built without -tags mpi" {
		c.errorf("ErrNotBuilt says %q", ErrNotBuilt)
	}
	if err := os.Unsetenv("OMPI_COMM_WORLD_SIZE"); err != nil {
		c.errorf("%v", err)
	}
	w, err := Init()
	if err != nil {
		c.errorf("stub Init alone: %v", err)
		return c.exit()
	}
	if w.Rank() != 0 || w.Size() != 1 {
		c.errorf("stub world: rank %d size %d, want 0 1", w.Rank(), w.Size())
	}
	if _, err := Init(); !errors.Is(err, ErrInitialized) {
		c.errorf("second Init: %v, want ErrInitialized", err)
	}
	f32 := []float32{1.5, -2, 3}
	f64 := []float64{1.5, -2, 3}
	if err := w.AllReduceSum32(f32); err != nil || f32[0] != 1.5 || f32[1] != -2 || f32[2] != 3 {
		c.errorf("AllReduceSum32 over one rank: %v, %v", f32, err)
	}
	if err := AllReduceSum(w, f64); err != nil || f64[0] != 1.5 || f64[1] != -2 || f64[2] != 3 {
		c.errorf("AllReduceSum over one rank: %v, %v", f64, err)
	}
	if err := w.AllReduceSum64(nil); err != nil {
		c.errorf("zero length: %v", err)
	}
	b := []byte("config")
	if err := w.Broadcast(b, 0); err != nil || string(b) != "config" {
		c.errorf("Broadcast from 0: %q, %v", b, err)
	}
	for _, root := range []int{-1, 1} {
		if err := w.Broadcast(b, root); !errors.Is(err, ErrRoot) {
			c.errorf("Broadcast root %d: %v, want ErrRoot", root, err)
		}
	}
	if got, err := w.BroadcastVar(b, 0); err != nil || string(got) != "config" {
		c.errorf("BroadcastVar: %q, %v", got, err)
	}
	if d, err := w.Differing(b); err != nil || d != 0 {
		c.errorf("Differing over one rank: %d, %v", d, err)
	}
	if err := w.Barrier(); err != nil {
		c.errorf("Barrier: %v", err)
	}
	if n := testing.AllocsPerRun(10, func() { _ = w.AllReduceSum32(f32); _ = AllReduceSum(w, f64) }); n != 0 {
		c.errorf("%v allocations per all-reduce", n)
	}
	if err := w.Finalize(); err != nil {
		c.errorf("Finalize: %v", err)
	}
	for name, err := range map[string]error{
		"AllReduceSum32": w.AllReduceSum32(f32),
		"AllReduceSum64": w.AllReduceSum64(f64),
		"Broadcast":      w.Broadcast(b, 0),
		"Barrier":        w.Barrier(),
		"Finalize":       w.Finalize(),
	} {
		if !errors.Is(err, ErrFinalized) {
			c.errorf("after Finalize: %s: %v, want ErrFinalized", name, err)
		}
	}
	if w.Rank() != 0 || w.Size() != 1 {
		c.errorf("after Finalize: rank %d size %d", w.Rank(), w.Size())
	}
	if _, err := Init(); !errors.Is(err, ErrInitialized) {
		c.errorf("Init after Finalize: %v, want ErrInitialized", err)
	}
	return c.exit()
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
