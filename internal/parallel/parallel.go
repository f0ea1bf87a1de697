package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelism overrides runtime.GOMAXPROCS(0) when > 0; tests set it
// through SetParallelism to show that results do not depend on how the work
// is split.
var parallelism int

// SetParallelism makes every later job use p goroutines (p ≤ 0: as many as
// GOMAXPROCS) and returns the previous setting. It is for tests and
// benchmarks; it is not safe to call while jobs run.
func SetParallelism(p int) int {
	old := parallelism
	parallelism = p
	return old
}

// A Worker runs its kernel over the items [lo, hi) of a job as part number
// part (0 ≤ part < Workers(n) for a job of n items), so that it can use a
// scratch buffer of its own per part. A part may be called for several
// ranges; results must not depend on which part runs which items.
type Worker interface{ Run(part, lo, hi int) }

type task struct {
	r    *Runner
	part int
	job  uint64 // the Runner's job the task was sent for
}

// pool is a set of long-lived goroutines started on first use: running a
// job sends tasks to them instead of starting goroutines, so a training
// step allocates nothing. It is infrastructure, not model state: it holds
// no values between jobs.
//
// A job may run inside another job's item (a convolution's per-sample
// matrix product, say) while every pool goroutine is busy. So a caller
// never waits for a task that no goroutine has taken: it does the items
// itself, closes the job when none are left, and waits only for the
// goroutines that joined before; a task taken after that is dropped.
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
				if t.r.join(t.job) {
					t.r.work(t.part)
				}
			}
		}()
	}
}

// Workers returns the number of goroutines a job of n items runs on at most.
func Workers(n int) int {
	p := parallelism
	if p <= 0 {
		p = runtime.GOMAXPROCS(0)
	}
	return max(1, min(p, n))
}

// A Runner runs jobs for one user (an op, a program); its fields are reused,
// so running allocates nothing. The zero value is ready to use; a Runner
// must not run two jobs at once, nor be copied or overwritten after first
// use: a pool goroutine may still take a task of an earlier job, and the
// Runner's job number is what tells it the task is stale.
type Runner struct {
	wg    sync.WaitGroup
	next  atomic.Int64 // the first item not yet taken
	w     Worker
	n     int
	grain int

	mu       sync.Mutex
	job      uint64 // the current job's number
	open     bool   // whether pool goroutines may still join it
	panicked any    // the first panic of a pool goroutine in the current job
}

// Run calls w.Run over [0, n) on up to Workers(n) goroutines, the calling
// one included, and returns when all items are done. Items are taken in
// small blocks from a shared counter rather than split in equal parts up
// front, so that a goroutine slowed down (by another process on its core,
// on a shared machine) takes fewer items instead of holding up the others.
// A panic in w.Run, on any of the goroutines, reaches the caller of Run
// after every goroutine has left the job, so the caller (an op's guard, a
// Program) can recover it and use the Runner again.
func (r *Runner) Run(w Worker, n int) {
	if n <= 0 {
		return
	}
	p := Workers(n)
	if p <= 1 {
		w.Run(0, 0, n)
		return
	}
	pool.once.Do(startPool)
	r.mu.Lock()
	r.job++
	r.open = true
	job := r.job
	r.mu.Unlock()
	r.w, r.n, r.grain = w, n, max(1, n/(8*p))
	r.next.Store(0)
	for i := 1; i < p; i++ {
		select {
		case pool.tasks <- task{r: r, part: i, job: job}:
		default: // the queue is full: this goroutine does that share
		}
	}
	defer r.finish()
	r.loop(0)
}

// finish closes the job, waits for the goroutines that joined it and
// re-raises the first panic one of them had.
func (r *Runner) finish() {
	r.mu.Lock()
	r.open = false
	r.mu.Unlock()
	r.wg.Wait()
	r.w = nil
	if p := r.panicked; p != nil {
		r.panicked = nil
		panic(p)
	}
}

// work is a pool goroutine's share of a job it joined: a panic there is
// kept for the caller instead of ending the process.
func (r *Runner) work(part int) {
	defer r.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			r.mu.Lock()
			if r.panicked == nil {
				r.panicked = p
			}
			r.mu.Unlock()
			r.next.Store(int64(r.n)) // the others stop taking items
		}
	}()
	r.loop(part)
}

// join reports whether a pool goroutine may still work on job; if so it
// counts in the job's WaitGroup.
func (r *Runner) join(job uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.open || r.job != job {
		return false
	}
	r.wg.Add(1)
	return true
}

// loop takes blocks of items until none are left.
func (r *Runner) loop(part int) {
	for {
		hi := int(r.next.Add(int64(r.grain)))
		lo := hi - r.grain
		if lo >= r.n {
			return
		}
		r.w.Run(part, lo, min(hi, r.n))
	}
}
