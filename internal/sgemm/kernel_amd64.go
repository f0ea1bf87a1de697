package sgemm

import "golang.org/x/sys/cpu"

var useKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel adds the product of a packed mr×k panel of A (a[p·mr+i]) and a
// packed k×nr panel of B (b[p·nr+j]) into the mr×nr block of C at c, whose
// rows are ldc floats apart.
//
//go:noescape
func kernel(k int, a, b, c *float32, ldc int)
