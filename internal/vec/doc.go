// Package vec holds float32 element-wise kernels of the training step that
// Go cannot vectorize by itself: the sums and the affine pass of batch
// normalization. Each function has one pure-Go loop, used everywhere, and an
// AVX-512F version in Go assembly chosen at run time on amd64 CPUs that have
// it. The assembly performs the same operations in the same order, without
// fused multiply-adds, so both give bit-identical results; Accelerated
// reports which one runs and the tests compare them.
package vec
