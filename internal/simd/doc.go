// Package simd names the instruction-set paths of the project's assembly
// kernels (internal/sgemm, internal/conv) and lists the ones this CPU runs,
// fastest first, from golang.org/x/sys/cpu (which honours GODEBUG's
// cpu.avx512f=off, cpu.avx2=off, …): one place that decides, for every
// kernel package.
package simd
