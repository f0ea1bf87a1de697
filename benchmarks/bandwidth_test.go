package benchmarks

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

func triad[T float32 | float64](a, b, c []T, s T) {
	b, c = b[:len(a)], c[:len(a)]
	for i := range a {
		a[i] = b[i] + s*c[i]
	}
}

// BenchmarkMemoryBandwidth is the stream triad a[i] = b[i] + s·c[i] (3
// elements moved per i) over the solver benchmarks' sizes, single-threaded
// (serial) and split over GOMAXPROCS goroutines (parallel): the MB/s a
// memory-bound kernel can reach on this machine.
func BenchmarkMemoryBandwidth(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("serial/float32/n=%d", n), func(b *testing.B) { benchTriad[float32](b, n, 1) })
		b.Run(fmt.Sprintf("serial/float64/n=%d", n), func(b *testing.B) { benchTriad[float64](b, n, 1) })
		b.Run(fmt.Sprintf("parallel/float32/n=%d", n), func(b *testing.B) { benchTriad[float32](b, n, runtime.GOMAXPROCS(0)) })
		b.Run(fmt.Sprintf("parallel/float64/n=%d", n), func(b *testing.B) { benchTriad[float64](b, n, runtime.GOMAXPROCS(0)) })
	}
}

func benchTriad[T float32 | float64](b *testing.B, n, procs int) {
	x, y, z := make([]T, n), make([]T, n), make([]T, n)
	for i := range y {
		y[i], z[i] = T(i%7), T(i%5)
	}
	var size T
	b.SetBytes(int64(3 * n * int(sizeOf(size))))
	b.ReportAllocs()
	if procs <= 1 || n < 1<<16 {
		for b.Loop() {
			triad(x, y, z, 3)
		}
		return
	}
	// Persistent workers, as the solvers use, so the loop measures memory and not goroutine start-up.
	start := make([]chan struct{}, procs)
	var wg sync.WaitGroup
	chunk := (n + procs - 1) / procs
	for k := 1; k < procs; k++ {
		start[k] = make(chan struct{})
		lo, hi := k*chunk, min((k+1)*chunk, n)
		go func() {
			for range start[k] {
				triad(x[lo:hi], y[lo:hi], z[lo:hi], 3)
				wg.Done()
			}
		}()
	}
	for b.Loop() {
		wg.Add(procs - 1)
		for k := 1; k < procs; k++ {
			start[k] <- struct{}{}
		}
		triad(x[:chunk], y[:chunk], z[:chunk], 3)
		wg.Wait()
	}
	for k := 1; k < procs; k++ {
		close(start[k])
	}
}

func sizeOf[T float32 | float64](T) uintptr {
	var z T
	switch any(z).(type) {
	case float32:
		return 4
	}
	return 8
}
