//go:build mpi

package mpi

import (
	"fmt"
	"testing"
)

// BenchmarkAllReduce times AllReduceSum32/64 on the gradient sizes of the
// default MLP (536,586 parameters) and the CNN (215,418), and a small
// buffer for the latency. Run it under mpirun with a fixed iteration count
// (every rank must run the same b.N; benchmarks/MPI.md has the command):
//
//	mpirun --oversubscribe -np 2 ./mpi.test -test.run '^$' -test.bench AllReduce -test.benchtime 200x
//
// Only rank 0 prints (TestMain). Alone (not under mpirun) it is skipped.
func BenchmarkAllReduce(b *testing.B) {
	w := benchWorld
	if w == nil {
		b.Skip("run this test binary under mpirun (benchmarks/MPI.md)")
	}
	for _, c := range []struct {
		model string
		n     int
		f64   bool
	}{
		{"mlp", 536586, false},
		{"cnn", 215418, false},
		{"small", 1024, false},
		{"mlp", 536586, true},
	} {
		dtype, size := "float32", 4
		if c.f64 {
			dtype, size = "float64", 8
		}
		b.Run(fmt.Sprintf("%s/%s/n=%d/np=%d", c.model, dtype, c.n, w.Size()), func(b *testing.B) {
			f32 := make([]float32, c.n)
			f64 := make([]float64, c.n)
			sameN(b, w)
			b.SetBytes(int64(size * c.n))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				var err error
				if c.f64 {
					err = w.AllReduceSum64(f64)
				} else {
					err = w.AllReduceSum32(f32)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sameN fails the benchmark on every rank, together, when the ranks were
// given different b.N (an adaptive -benchtime, which would leave one rank
// waiting in an all-reduce that the others never make).
func sameN(b *testing.B, w *World) {
	n := []float64{float64(b.N)}
	if err := w.AllReduceSum64(n); err != nil {
		b.Fatal(err)
	}
	if n[0] != float64(w.Size()*b.N) {
		b.Fatalf("ranks run different b.N (this rank %d): use -test.benchtime=<N>x", b.N)
	}
}
