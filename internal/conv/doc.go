// Package conv holds direct-convolution kernels for float32: the forward
// pass and the weight gradient of a stride-1 correlation of a zero-padded
// NCHW sample, with no im2col matrix and no packing of the input. The input
// gradient of a stride-1 convolution is the same forward kernel on the
// padded output gradient with the filters flipped and transposed.
//
// The forward kernels come in two kinds. Vectorized along a row of output
// pixels (16 on AVX-512, 8 on AVX2), with 8 or 16 output channels in
// registers: each step (c, a, b) of the filters loads one vector of inputs
// per row and does one fused multiply-add per channel with the weight
// broadcast from the packed filters (lanes past the row's end are masked).
// Vectorized along output channels (AVX-512, 32 at a time, up to 14 pixels
// of a row in registers): each step loads two vectors of the transposed
// filters and broadcasts each input pixel once; no lane is wasted, and the
// output, computed as (pixel, channel), is transposed back.
// The weight-gradient kernel vectorizes along output channels: for a block
// of filter taps it sums, over every output pixel of a chunk of samples,
// the input value broadcast times the vector of that pixel's output
// gradients, read from the gradient transposed to (pixel, channel).
//
// The kernels are Go assembly chosen at run time (golang.org/x/sys/cpu):
// AVX-512F, or AVX2 and FMA. Each output element is one chain of fused
// multiply-adds in a fixed order (c, a, b for the forward pass; samples,
// rows, columns for the weight gradient), whatever the path, the register
// block or the number of cores; the Go loops (fma32 rounds each step once,
// as the instruction does) follow the same order, so every path gives
// bit-identical results and the tests compare them bit for bit. The Go
// loops are the reference, not a fast fallback: callers use Accelerated to
// choose another algorithm on CPUs without the assembly.
package conv
