package ops

import (
	"runtime"
	"sync"
)

// parallelism overrides runtime.GOMAXPROCS(0) when > 0; tests set it to show
// that results do not depend on how the work is split.
var parallelism int

// A worker runs its kernel over the items [lo, hi) of a job as part number
// part (0 ≤ part < the number of parts the runner chose), so that it can
// use a scratch buffer of its own per part.
type worker interface{ run(part, lo, hi int) }

type task struct {
	w            worker
	part, lo, hi int
	wg           *sync.WaitGroup
}

// pool is a set of long-lived goroutines started on first use: running a
// job sends tasks to them instead of starting goroutines, so a training
// step allocates nothing. It is infrastructure, not model state: it holds
// no values between jobs.
var pool struct {
	once  sync.Once
	tasks chan task
}

func startPool() {
	n := max(runtime.NumCPU(), runtime.GOMAXPROCS(0))
	pool.tasks = make(chan task, 4*n)
	for range n {
		go func() {
			for t := range pool.tasks {
				t.w.run(t.part, t.lo, t.hi)
				t.wg.Done()
			}
		}()
	}
}

// workers returns the number of parts a job of n items is split into.
func workers(n int) int {
	p := parallelism
	if p <= 0 {
		p = runtime.GOMAXPROCS(0)
	}
	return max(1, min(p, n))
}

// runner runs jobs for one op; its WaitGroup is reused, so running allocates
// nothing.
type runner struct{ wg sync.WaitGroup }

// run calls w.run over [0, n) in workers(n) contiguous parts and returns
// when all are done. The calling goroutine runs part 0.
func (r *runner) run(w worker, n int) {
	p := workers(n)
	if p <= 1 {
		w.run(0, 0, n)
		return
	}
	pool.once.Do(startPool)
	size := (n + p - 1) / p
	parts := (n + size - 1) / size
	r.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		pool.tasks <- task{w: w, part: i, lo: i * size, hi: min((i+1)*size, n), wg: &r.wg}
	}
	w.run(0, 0, min(size, n))
	r.wg.Wait()
}
