// Package parallel is the project's one worker pool: long-lived goroutines,
// one per core, started on first use, that run the items of a job. A job
// hands out small blocks of items from a shared counter, so a core slowed
// down by another process takes fewer of them; running a job allocates
// nothing; and a job may run inside another job's item (its caller then
// does the work the busy pool cannot take). The matrix product
// (internal/sgemm), the solvers, the ops' kernels and the programs' gradient
// accumulation all use it.
package parallel
