//go:build !openblas

package graph

// BLASInfo names the BLAS that matrix products use: in the default build,
// gonum's pure-Go implementation (build with -tags openblas for OpenBLAS).
func BLASInfo() string { return "gonum (pure Go)" }
