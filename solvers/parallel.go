package solvers

import "github.com/gradlab/gradlab/internal/parallel"

const (
	// grain decides when a kernel is split: below 2·grain elements it runs
	// on the calling goroutine, above across the cores in internal/parallel's
	// blocks (results do not depend on the split).
	grain = 1 << 16
	// normChunk is the fixed chunk over which partial sums of squares are
	// accumulated for the global norm; partials are combined in chunk order.
	normChunk = 1 << 16
)

// runSplit calls w over [0, n) on the calling goroutine when n < 2·minPart
// items, and across the cores (internal/parallel's pool) otherwise. Every
// kernel is element-wise, or (the global norm) works on fixed chunks, so the
// results do not depend on the split.
func runSplit(r *parallel.Runner, w parallel.Worker, n, minPart int) {
	if n < 2*minPart {
		w.Run(0, 0, n)
		return
	}
	r.Run(w, n)
}
