// Package vec holds the element-wise kernels of batch normalization that Go
// cannot vectorize by itself: per-feature float64 sums and the affine pass,
// generic over float32 and float64. Each has one Go loop, used everywhere,
// and for float32 an AVX-512F version in Go assembly chosen at run time on
// amd64 CPUs that have it. The assembly performs the same operations in the
// same order, without fused multiply-adds, so both give bit-identical
// results; Accelerated reports which one runs and the tests compare them.
package vec
