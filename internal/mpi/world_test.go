package mpi

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unsafe"
)

func TestLaunched(t *testing.T) {
	for _, v := range launcherVars {
		unsetenv(t, v)
	}
	if Launched() {
		t.Fatal("Launched() with no launcher variable set")
	}
	for _, v := range launcherVars {
		if err := os.Setenv(v, "2"); err != nil {
			t.Fatal(err)
		}
		if !Launched() {
			t.Errorf("Launched() false with %s set", v)
		}
		if err := os.Unsetenv(v); err != nil {
			t.Fatal(err)
		}
	}
}

// unsetenv unsets v for the rest of the test; t.Setenv restores it after.
func unsetenv(t *testing.T, v string) {
	t.Helper()
	t.Setenv(v, "")
	if err := os.Unsetenv(v); err != nil {
		t.Fatal(err)
	}
}

func TestNilWorld(t *testing.T) {
	var w *World
	if w.Rank() != 0 || w.Size() != 1 {
		t.Fatalf("nil World: rank %d size %d, want 0 1", w.Rank(), w.Size())
	}
	for name, err := range map[string]error{
		"AllReduceSum32": w.AllReduceSum32([]float32{1}),
		"AllReduceSum64": w.AllReduceSum64([]float64{1}),
		"AllReduceSum":   AllReduceSum(w, []float32{1}),
		"Broadcast":      w.Broadcast([]byte{1}, 0),
		"Barrier":        w.Barrier(),
		"Finalize":       w.Finalize(),
	} {
		if !errors.Is(err, ErrNoWorld) {
			t.Errorf("nil World: %s: %v, want ErrNoWorld", name, err)
		}
	}
	if _, err := w.BroadcastVar([]byte{1}, 0); !errors.Is(err, ErrNoWorld) {
		t.Errorf("nil World: BroadcastVar: %v, want ErrNoWorld", err)
	}
	if _, err := w.Differing([]byte{1}); !errors.Is(err, ErrNoWorld) {
		t.Errorf("nil World: Differing: %v, want ErrNoWorld", err)
	}
}

// chunks splits long buffers into calls of at most maxCount elements.
func TestChunks(t *testing.T) {
	old := maxCount
	defer func() { maxCount = old }()
	maxCount = 7
	w := &World{size: 2}
	buf := make([]float64, 30)
	var got []int
	var offs []uintptr
	err := w.chunks(unsafe.Pointer(&buf[0]), len(buf), 8, func(p unsafe.Pointer, n int) error {
		got = append(got, n)
		offs = append(offs, (uintptr(p)-uintptr(unsafe.Pointer(&buf[0])))/8)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{7, 7, 7, 7, 2}; !equal(got, want) {
		t.Errorf("chunk lengths %v, want %v", got, want)
	}
	if want := []uintptr{0, 7, 14, 21, 28}; !equal(offs, want) {
		t.Errorf("chunk offsets %v, want %v", offs, want)
	}
	calls := 0
	if err := w.chunks(nil, 0, 8, func(unsafe.Pointer, int) error { calls++; return nil }); err != nil || calls != 0 {
		t.Errorf("zero length: %d calls, err %v; want none", calls, err)
	}
	stop := errors.New("stop")
	calls = 0
	err = w.chunks(unsafe.Pointer(&buf[0]), len(buf), 8, func(unsafe.Pointer, int) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("failing chunk: %d calls, err %v; want 1 call and its error", calls, err)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestErrorType(t *testing.T) {
	var err error = &Error{Call: "MPI_Bcast", Code: 8, Msg: "MPI_ERR_ROOT: invalid root"}
	if !errors.Is(err, ErrMPI) {
		t.Error("*Error does not unwrap to ErrMPI")
	}
	var e *Error
	if !errors.As(err, &e) || e.Call != "MPI_Bcast" {
		t.Error("errors.As(*Error) failed")
	}
	for _, s := range []string{"MPI_Bcast", "MPI_ERR_ROOT: invalid root", "8"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not contain %q", err.Error(), s)
		}
	}
}

// withoutLauncher is env without the variables Launched looks at.
func withoutLauncher(env []string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, v := range launcherVars {
			if strings.HasPrefix(kv, v+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
