// Package sgemm is a float32 general matrix product, C = α·op(A)·op(B) + β·C
// on row-major matrices, with the signature of gonum's blas.Float32Level3
// Sgemm. It packs panels of A and B and runs a register-blocked kernel in Go
// assembly, chosen at run time from what the CPU has: AVX-512F (a 12×32
// kernel, and a 24×16 one for products with at most 16 columns, with AVX-512
// gathers and masked moves for packing), else AVX2 and FMA (6×16), else —
// and off amd64 — gonum's pure-Go Sgemm. One binary serves every amd64 CPU;
// it needs nothing but Go (no cgo). A right operand used for many products
// (a recurrent layer's weights at every time step) can be packed once
// (Packed.Pack) and multiplied by without packing again (MulPacked).
package sgemm
