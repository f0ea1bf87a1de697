package simd

import "golang.org/x/sys/cpu"

// Paths returns the paths this CPU runs, fastest first, Go last. x/sys/cpu
// reports AVX2 and AVX-512F only when the operating system saves the
// YMM/ZMM registers too.
func Paths() []Path {
	var ps []Path
	if cpu.X86.HasAVX512F {
		ps = append(ps, AVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ps = append(ps, AVX2)
	}
	return append(ps, Go)
}
