// Package vec holds the element-wise kernels that Go cannot vectorize by
// itself: batch normalization's per-feature float64 sums and affine pass,
// layer normalization's rows, the exponential family (softmax's shifted
// exponential, sigmoid, tanh), and the passes around a convolution (ReLU
// and its gradient, a per-channel bias, the 2×2 max pool and its gradient),
// generic over float32 and float64. Each has one Go loop, used everywhere,
// and for float32 an AVX-512F version in Go assembly chosen at run time on
// amd64 CPUs that have it. The assembly performs the same operations in the
// same order, without fused multiply-adds, so both give bit-identical
// results; Accelerated reports which one runs and the tests compare them.
package vec
