// Package parallel runs the items of a job on a pool of long-lived
// goroutines, one per core, started on first use: a job hands out small
// blocks of items from a shared counter, so a core slowed down by another
// process takes fewer of them, and running a job allocates nothing. The ops'
// kernels (convolution, pooling, batch norm) and the programs' gradient
// accumulation use it.
package parallel
