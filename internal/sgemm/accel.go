package sgemm

import "github.com/gradlab/gradlab/internal/simd"

// Accelerated reports whether Sgemm uses an assembly kernel (amd64 with
// AVX-512F, or AVX2 and FMA) rather than gonum's pure-Go Sgemm.
func Accelerated() bool { return active != simd.Go }

// Kernel names the path Sgemm takes on this CPU: "avx512" (12×32 kernel),
// "avx2" (6×16 kernel, AVX2 and FMA) or "go" (gonum's pure-Go Sgemm).
func Kernel() string { return active.String() }
