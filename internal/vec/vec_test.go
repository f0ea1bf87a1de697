package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/internal/cpuinfo"
)

// paths returns the kernels this CPU can run: the Go loops always, and the
// AVX-512F assembly where the CPU has it.
func paths() []bool {
	if hasAVX512() {
		return []bool{false, true}
	}
	return []bool{false}
}

// run calls f with the assembly on or off.
func run(asm bool, f func()) {
	defer func(old bool) { avx512 = old }(avx512)
	avx512 = asm
	f()
}

func vec32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 3)
	}
	return v
}

func vec64(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// TestKernels checks every kernel, on every path the CPU has, against the
// plain loop it documents, bit for bit, at lengths around the 16-element
// blocks of the assembly, with slices longer than needed (only the first n
// elements may change) and special values in the input.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, asm := range paths() {
		for _, n := range []int{0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 512, 1000} {
			x, g := vec32(r, n+3), vec32(r, n+3)
			if n > 5 {
				x[2], x[4], g[5] = float32(math.Inf(1)), float32(math.NaN()), -0.0
			}
			mean, acc0, acc1 := vec64(r, n+3), vec64(r, n+3), vec64(r, n+3)

			acc, want := clone(acc0), clone(acc0)
			run(asm, func() { SumTo(acc, x[:n]) })
			for i := range n {
				want[i] += float64(x[i])
			}
			sameBits(t, want, acc, "SumTo asm=%v n=%d", asm, n)

			acc, want = clone(acc0), clone(acc0)
			run(asm, func() { SqDevTo(acc, x[:n], mean) })
			for i := range n {
				d := float64(x[i]) - mean[i]
				want[i] += float64(d * d)
			}
			sameBits(t, want, acc, "SqDevTo asm=%v n=%d", asm, n)

			sg, sgx, wsg, wsgx := clone(acc0), clone(acc1), clone(acc0), clone(acc1)
			run(asm, func() { GradSumsTo(sg[:n], sgx, x, g, mean) })
			for i := range n {
				gv := float64(g[i])
				wsg[i] += gv
				wsgx[i] += float64(gv * (float64(x[i]) - mean[i]))
			}
			sameBits(t, wsg, sg, "GradSumsTo sg asm=%v n=%d", asm, n)
			sameBits(t, wsgx, sgx, "GradSumsTo sgx asm=%v n=%d", asm, n)

			a, b, m, k := vec32(r, n+3), vec32(r, n+3), vec32(r, n+3), vec32(r, n+3)
			out, wout := vec32(r, n+3), make([]float32, n+3)
			copy(wout, out)
			run(asm, func() { Affine(out[:n], g, x, a, b, m, k) })
			for i := range n {
				wout[i] = float32(a[i]*g[i]) + float32(b[i]*(x[i]-m[i])) + k[i]
			}
			sameBits32(t, wout, out, "Affine asm=%v n=%d", asm, n)
		}
	}
}

// laneSum is the documented order of the run reductions: 16 lanes over the
// leading multiple of 16 (lane i mod 16), the lanes added in order, then
// the rest one by one.
func laneSum(n int, term func(i int) float64) float64 {
	var lanes [16]float64
	m := n &^ 15
	for i := range m {
		lanes[i%16] += term(i)
	}
	var s float64
	for _, v := range lanes {
		s += v
	}
	for i := m; i < n; i++ {
		s += term(i)
	}
	return s
}

// TestRunKernels checks the reductions over one run and AffineConst, on
// every path the CPU has, against their documented order, bit for bit.
func TestRunKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, asm := range paths() {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 100, 576, 1000} {
			x, g := vec32(r, n+2), vec32(r, n+2)
			mu := r.NormFloat64()
			var sum, sq, sg, sgx float64
			run(asm, func() {
				sum, sq = Sum(x[:n]), SqDev(x[:n], mu)
				sg, sgx = GradSums(x[:n], g, mu)
			})
			wsum := laneSum(n, func(i int) float64 { return float64(x[i]) })
			wsq := laneSum(n, func(i int) float64 { d := float64(x[i]) - mu; return float64(d * d) })
			wsg := laneSum(n, func(i int) float64 { return float64(g[i]) })
			wsgx := laneSum(n, func(i int) float64 { return float64(float64(g[i]) * (float64(x[i]) - mu)) })
			sameBits(t, []float64{wsum, wsq, wsg, wsgx}, []float64{sum, sq, sg, sgx}, "run sums asm=%v n=%d", asm, n)
			if n > 0 {
				naive := 0.0
				for _, v := range x[:n] {
					naive += float64(v)
				}
				require.InDelta(t, naive, sum, 1e-9*float64(n), "Sum n=%d", n)
			}

			a, b, m, k := float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
			out, wout := vec32(r, n+2), make([]float32, n+2)
			copy(wout, out)
			run(asm, func() { AffineConst(out[:n], g, x, a, b, m, k) })
			for i := range n {
				wout[i] = float32(a*g[i]) + float32(b*(x[i]-m)) + k
			}
			sameBits32(t, wout, out, "AffineConst asm=%v n=%d", asm, n)
		}
	}
}

// TestAccelerated checks that the AVX-512 kernels are on exactly when the
// operating system reports AVX-512F and GODEBUG leaves it on (package
// cpuinfo: /proc/cpuinfo, independent of x/sys/cpu, which chooses).
func TestAccelerated(t *testing.T) {
	want := false
	if runtime.GOARCH == "amd64" {
		f, err := cpuinfo.Features()
		if err != nil {
			t.Skipf("cannot check the dispatch against the OS's CPU flags: %v", err)
		}
		want = f["avx512f"]
	}
	require.Equal(t, want, Accelerated())
}

func clone(v []float64) []float64 { return append([]float64(nil), v...) }

func sameBits(t *testing.T, want, got []float64, msg string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), fmt.Sprintf("element %d: %v vs %v; ", i, want[i], got[i])+fmt.Sprintf(msg, args...))
	}
}

func sameBits32(t *testing.T, want, got []float32, msg string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), fmt.Sprintf("element %d: %v vs %v; ", i, want[i], got[i])+fmt.Sprintf(msg, args...))
	}
}

func BenchmarkKernels(b *testing.B) {
	const n = 512
	r := rand.New(rand.NewPCG(1, 2))
	x, g, out := vec32(r, n), vec32(r, n), make([]float32, n)
	acc, sgx, mean := vec64(r, n), vec64(r, n), vec64(r, n)
	for _, asm := range paths() {
		name := map[bool]string{false: "go", true: "avx512"}[asm]
		bench := func(kernel string, f func()) {
			b.Run(kernel+"/"+name, func(b *testing.B) {
				defer func(old bool) { avx512 = old }(avx512)
				avx512 = asm
				b.SetBytes(4 * n)
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
		}
		bench("SumTo", func() { SumTo(acc, x) })
		bench("SqDevTo", func() { SqDevTo(acc, x, mean) })
		bench("GradSumsTo", func() { GradSumsTo(acc, sgx, x, g, mean) })
		bench("Affine", func() { Affine(out, g, x, x, g, x, g) })
		bench("Sum", func() { _ = Sum(x) })
		bench("GradSums", func() { _, _ = GradSums(x, g, 0.5) })
		bench("AffineConst", func() { AffineConst(out, g, x, 1, 2, 3, 4) })
	}
}

// TestFloat64 checks the float64 instantiations (always the Go loops)
// against the documented formulas and order.
func TestFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 37
	x, g, mean := vec64(r, n), vec64(r, n), vec64(r, n)
	acc := make([]float64, n)
	SumTo(acc, x)
	SqDevTo(acc, x, mean)
	want := make([]float64, n)
	for i := range want {
		d := x[i] - mean[i]
		want[i] = x[i] + float64(d*d)
	}
	sameBits(t, want, acc, "SumTo+SqDevTo float64")
	mu := 0.25
	sum, sq := Sum(x), SqDev(x, mu)
	sg, sgx := GradSums(x, g, mu)
	sameBits(t, []float64{
		laneSum(n, func(i int) float64 { return x[i] }),
		laneSum(n, func(i int) float64 { d := x[i] - mu; return float64(d * d) }),
		laneSum(n, func(i int) float64 { return g[i] }),
		laneSum(n, func(i int) float64 { return float64(g[i] * (x[i] - mu)) }),
	}, []float64{sum, sq, sg, sgx}, "run sums float64")
	out := make([]float64, n)
	AffineConst(out, g, x, 2, 3, 0.5, 1)
	for i := range out {
		require.Equal(t, float64(2*g[i])+float64(3*(x[i]-0.5))+1, out[i], "AffineConst float64 %d", i)
	}
}
