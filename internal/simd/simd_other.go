//go:build !amd64

package simd

// Paths returns the paths this CPU runs: the Go loops only.
func Paths() []Path { return []Path{Go} }
