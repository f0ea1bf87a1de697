package mpi

import (
	"fmt"
	"os"
	"testing"
)

// childEnv selects a child role: the tests start this test binary again
// (under mpirun, or alone) with GRADLAB_MPI_CHILD=<role>, and TestMain then
// runs that role instead of the tests and exits with its status.
const childEnv = "GRADLAB_MPI_CHILD"

// roles are the child programs, registered by the test files of each build.
var roles = map[string]func() int{}

// benchWorld is the world of a test binary started by mpirun without a
// child role: the benchmarks (bench_test.go) run in it.
var benchWorld *World

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		f, ok := roles[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, role)
			os.Exit(2)
		}
		os.Exit(f())
	}
	if Built && Launched() {
		// Started by mpirun to run the benchmarks (see bench_test.go):
		// one world for the whole binary; only rank 0 prints.
		w, err := Init()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		benchWorld = w
		if w.Rank() != 0 {
			if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
				os.Stdout = null
			}
		}
		code := m.Run()
		if err := w.Finalize(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// checker collects a child's failures; exit is its status.
type checker struct {
	who    string
	failed bool
}

func (c *checker) errorf(format string, args ...any) {
	c.failed = true
	fmt.Fprintf(os.Stderr, "FAIL %s: %s\n", c.who, fmt.Sprintf(format, args...))
}

func (c *checker) exit() int {
	if c.failed {
		return 1
	}
	fmt.Printf("ok %s\n", c.who)
	return 0
}
