// Package sgemm is a float32 general matrix product, C = α·op(A)·op(B) + β·C
// on row-major matrices, with the signature of gonum's blas.Float32Level3
// Sgemm. On amd64 with AVX2 and FMA it packs panels of A and B and runs a
// 6×16 register-blocked kernel in Go assembly; elsewhere it calls gonum's
// pure-Go Sgemm. It needs nothing but Go (no cgo).
package sgemm
