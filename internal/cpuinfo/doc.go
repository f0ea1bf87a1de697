// Package cpuinfo reads the CPU features the operating system reports
// (/proc/cpuinfo's flags on Linux), less those that GODEBUG switches off
// (cpu.avx2=off, cpu.all=off, …), as golang.org/x/sys/cpu does. It is an
// independent reference for the tests of the packages that choose kernels
// with x/sys/cpu (internal/sgemm, internal/vec): their expectation must not
// be their own dispatch logic.
package cpuinfo
