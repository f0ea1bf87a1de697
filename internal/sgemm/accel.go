package sgemm

// Accelerated reports whether Sgemm uses the assembly kernel (amd64 with
// AVX2 and FMA) rather than gonum's pure-Go Sgemm.
func Accelerated() bool { return useKernel }
