package parallel

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// counter counts how often each item is run and checks the part numbers.
type counter struct {
	t     *testing.T
	hits  []atomic.Int32
	parts int
}

func (c *counter) Run(part, lo, hi int) {
	if part < 0 || part >= c.parts || lo < 0 || hi > len(c.hits) || lo >= hi {
		c.t.Errorf("Run(%d, %d, %d) with %d parts and %d items", part, lo, hi, c.parts, len(c.hits))
		return
	}
	for i := lo; i < hi; i++ {
		c.hits[i].Add(1)
	}
}

// TestRunEveryItemOnce runs jobs of many sizes on 1 to 5 goroutines, reusing
// one Runner, and checks that every item runs exactly once.
func TestRunEveryItemOnce(t *testing.T) {
	defer SetParallelism(SetParallelism(0))
	var r Runner
	for _, p := range []int{1, 2, 3, 5} {
		SetParallelism(p)
		for _, n := range []int{0, 1, 2, 7, 64, 1000, 4097} {
			c := &counter{t: t, hits: make([]atomic.Int32, n), parts: Workers(n)}
			r.Run(c, n)
			for i := range c.hits {
				require.EqualValues(t, 1, c.hits[i].Load(), "p=%d n=%d item %d", p, n, i)
			}
		}
	}
}

func TestWorkers(t *testing.T) {
	defer SetParallelism(SetParallelism(3))
	require.Equal(t, 3, Workers(100))
	require.Equal(t, 2, Workers(2))
	require.Equal(t, 1, Workers(0))
}

// TestRunAllocatesNothing checks the steady state of a job on two goroutines.
func TestRunAllocatesNothing(t *testing.T) {
	defer SetParallelism(SetParallelism(2))
	var r Runner
	c := &counter{t: t, hits: make([]atomic.Int32, 1000), parts: 2}
	r.Run(c, 1000)
	allocs := testing.AllocsPerRun(100, func() { r.Run(c, 1000) })
	require.Zero(t, allocs)
}

// nested runs a job of its own inside every item of an outer job.
type nested struct {
	t     *testing.T
	inner []Runner // one per part: a Runner runs one job at a time
	total atomic.Int64
}

func (o *nested) Run(part, lo, hi int) {
	for range hi - lo {
		c := &counter{t: o.t, hits: make([]atomic.Int32, 300), parts: Workers(300)}
		o.inner[part].Run(c, 300)
		for i := range c.hits {
			o.total.Add(int64(c.hits[i].Load()))
		}
	}
}

// TestNestedJobs runs jobs inside the items of a job on more goroutines than
// the pool has idle (every pool goroutine busy in the outer job): the inner
// callers do the work themselves instead of waiting for a goroutine that
// never comes, and every inner item runs exactly once.
func TestNestedJobs(t *testing.T) {
	defer SetParallelism(SetParallelism(8))
	var r Runner
	o := &nested{t: t, inner: make([]Runner, Workers(64))}
	r.Run(o, 64)
	require.EqualValues(t, 64*300, o.total.Load())
}

// bomb panics on one item.
type bomb struct{ at int }

func (b bomb) Run(_, lo, hi int) {
	if lo <= b.at && b.at < hi {
		panic("bomb")
	}
}

// TestPanicReachesCaller checks that a panic in an item, whichever
// goroutine runs it, comes back to Run's caller, and that the Runner then
// runs the next job normally.
func TestPanicReachesCaller(t *testing.T) {
	defer SetParallelism(SetParallelism(2))
	var r Runner
	for _, at := range []int{0, 500, 999} {
		require.PanicsWithValue(t, "bomb", func() { r.Run(bomb{at: at}, 1000) }, "item %d", at)
		c := &counter{t: t, hits: make([]atomic.Int32, 1000), parts: Workers(1000)}
		r.Run(c, 1000)
		for i := range c.hits {
			require.EqualValues(t, 1, c.hits[i].Load(), "after the panic at %d: item %d", at, i)
		}
	}
}
