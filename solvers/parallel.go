package solvers

import (
	"runtime"
	"sync"
)

const (
	// grain is the least number of elements given to one goroutine: below
	// 2·grain elements a kernel runs on the calling goroutine.
	grain = 1 << 16
	// normChunk is the fixed chunk over which partial sums of squares are
	// accumulated for the global norm; partials are combined in chunk order.
	normChunk = 1 << 16
	// align keeps chunk boundaries on cache lines of both dtypes.
	align = 64
)

// parallelism overrides runtime.GOMAXPROCS(0) when > 0 (tests use it to show
// that results do not depend on how the work is split).
var parallelism int

// worker is a kernel over the index range [lo, hi).
type worker interface{ run(lo, hi int) }

type task struct {
	w      worker
	lo, hi int
	wg     *sync.WaitGroup
}

// pool is a set of long-lived goroutines started on first use, so a Step
// does not allocate goroutines or closures.
var pool struct {
	once  sync.Once
	tasks chan task
}

func startPool() {
	n := runtime.NumCPU()
	if p := runtime.GOMAXPROCS(0); p > n {
		n = p
	}
	pool.tasks = make(chan task, 4*n)
	for range n {
		go func() {
			for t := range pool.tasks {
				t.w.run(t.lo, t.hi)
				t.wg.Done()
			}
		}()
	}
}

// runner runs a worker over [0, n) split across goroutines; it belongs to one
// solver (its WaitGroup is reused, so running allocates nothing).
type runner struct{ wg sync.WaitGroup }

// run calls w.run over [0, n) in contiguous parts of at least minPart units,
// one per available core, and returns when all parts are done.
func (r *runner) run(w worker, n, minPart int) {
	p := parallelism
	if p <= 0 {
		p = runtime.GOMAXPROCS(0)
	}
	if q := n / minPart; q < p {
		p = q
	}
	if p <= 1 {
		w.run(0, n)
		return
	}
	pool.once.Do(startPool)
	size := (n + p - 1) / p
	if minPart >= align {
		size = (size + align - 1) / align * align
	}
	r.wg.Add((n - 1) / size) // parts after the first, run by the pool
	for lo := size; lo < n; lo += size {
		pool.tasks <- task{w: w, lo: lo, hi: min(lo+size, n), wg: &r.wg}
	}
	w.run(0, min(size, n))
	r.wg.Wait()
}
