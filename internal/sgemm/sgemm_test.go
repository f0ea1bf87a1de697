package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/gradlab/gradlab/internal/parallel"
	"github.com/gradlab/gradlab/internal/simd"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestSgemmMatchesReference compares Sgemm on every path this CPU runs
// (AVX-512, AVX2/FMA, and the pure-Go fallback, which is gonum's Sgemm) with
// a float64 triple loop on every combination of transposes, shapes around
// the panel (6×16, 12×32) and block (256/96/1024) edges, padded leading
// dimensions, and α, β including 0 and 1.
func TestSgemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 1}, {5, 15, 3}, {7, 17, 9}, {12, 32, 256}, {13, 33, 257}, {11, 31, 2},
		{24, 64, 5}, {25, 65, 513}, {97, 20, 300}, {128, 256, 784}, {128, 10, 256}, {784, 256, 128},
		{3, 1030, 5}, {200, 7, 600}, {50, 16, 300}, {25, 9, 513}, {49, 17, 3}, {0, 4, 3}, {4, 3, 0}}
	for _, s := range sizes {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {0, 0.5}} {
					checkProduct(t, r, tA, tB, s[0], s[1], s[2], ab[0], ab[1], r.IntN(3))
				}
			}
		}
	}
}

// TestSgemmNetworkShapes checks every path at the products of the models'
// training steps at batch 128, in all four transpose combinations: the MLPs
// (784-256-10 and the default 784-512-256-10: x·W, dL/dW = xᵀ·G, dL/dx = G·Wᵀ)
// and the CNN's im2col product of a 16→32-channel 5×5 convolution on 14×14
// (W (32×400) · cols (400×196·128), dW = dY·colsᵀ, dcols = Wᵀ·dY).
func TestSgemmNetworkShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large products")
	}
	r := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{ // m, n, k
		{128, 256, 784}, {784, 256, 128}, {128, 784, 256}, // 784-256
		{128, 10, 256}, {256, 10, 128}, {128, 256, 10}, // 256-10
		{128, 512, 784}, {784, 512, 128}, {128, 256, 512}, {512, 256, 128}, {128, 512, 256}, // default model
		{32, 196 * 128, 400}, {32, 400, 196 * 128}, {400, 196 * 128, 32}, // conv 16→32 5×5 on 14×14
	}
	for _, s := range shapes {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				checkProduct(t, r, tA, tB, s[0], s[1], s[2], 1, 0, 0)
			}
		}
	}
}

// naiveLimit is the largest m·n·k whose reference is the triple loop;
// beyond it (the convolution's products) the reference is gonum's Sgemm and
// the pure-Go path, which is gonum's, is not compared with itself.
const naiveLimit = 1 << 25

// naive computes C = α·op(A)·op(B) + β·C in float64 (β = 0 does not read
// C) and the magnitude |α|·Σ|a·b| + |β·c| of each element, for the tolerance.
func naive(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	opA, opB := make([]float64, m*k), make([]float64, k*n) // row-major op(A), op(B)
	for i := range m {
		for p := range k {
			if tA == blas.Trans {
				opA[i*k+p] = float64(a[p*lda+i])
			} else {
				opA[i*k+p] = float64(a[i*lda+p])
			}
		}
	}
	for p := range k {
		for j := range n {
			if tB == blas.Trans {
				opB[p*n+j] = float64(b[j*ldb+p])
			} else {
				opB[p*n+j] = float64(b[p*ldb+j])
			}
		}
	}
	want, mag = make([]float64, len(c)), make([]float64, len(c))
	row, rowMag := make([]float64, n), make([]float64, n)
	for i := range m {
		clear(row)
		clear(rowMag)
		for p, x := range opA[i*k : (i+1)*k] {
			for j, y := range opB[p*n : (p+1)*n] {
				row[j] += x * y
				rowMag[j] += math.Abs(x * y)
			}
		}
		for j := range n {
			want[i*ldc+j] = float64(alpha) * row[j]
			mag[i*ldc+j] = math.Abs(float64(alpha)) * rowMag[j]
			if beta != 0 {
				cv := float64(beta) * float64(c[i*ldc+j])
				want[i*ldc+j] += cv
				mag[i*ldc+j] += math.Abs(cv)
			}
		}
	}
	for i := range c { // the padding columns are not written
		if i%ldc >= n {
			want[i] = float64(c[i])
		}
	}
	return want, mag
}

// checkProduct runs C = α·op(A)·op(B) + β·C with random A, B, C (leading
// dimensions padded by pad) through Sgemm, and through Pack and MulPacked,
// on each path the CPU runs and
// compares it with the triple loop (gonum's Sgemm for products beyond
// naiveLimit), within a float32 rounding bound of each element's magnitude.
func checkProduct(t *testing.T, r *rand.Rand, tA, tB blas.Transpose, m, n, k int, alpha, beta float32, pad int) {
	t.Helper()
	ra, ca := m, k
	if tA == blas.Trans {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tB == blas.Trans {
		rb, cb = n, k
	}
	lda, ldb, ldc := max(1, ca)+pad, max(1, cb)+pad, max(1, n)+pad
	a, b := randSlice(r, max(0, ra*lda)), randSlice(r, max(0, rb*ldb))
	c0 := randSlice(r, m*ldc)
	paths := simd.Paths()
	var want, mag []float64
	if m*n*k <= naiveLimit {
		want, mag = naive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc)
	} else {
		g := append([]float32(nil), c0...)
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, g, ldc)
		want, mag = make([]float64, len(g)), make([]float64, len(g))
		for i, v := range g {
			want[i], mag[i] = float64(v), math.Abs(float64(v))
		}
		paths = slices.DeleteFunc(paths, func(p simd.Path) bool { return p == simd.Go })
	}
	tol := 1e-5 * math.Sqrt(float64(k+1)) * 4
	got := make([]float32, len(c0))
	for _, p := range paths {
		name := fmt.Sprintf("%v/m=%d/n=%d/k=%d/tA=%c/tB=%c/alpha=%v/beta=%v/pad=%d", p, m, n, k, tA, tB, alpha, beta, pad)
		restore := setPath(p)
		for _, packed := range []bool{false, true} {
			copy(got, c0)
			if packed {
				var pb Packed
				pb.Pack(tB, k, n, b, ldb)
				MulPacked(tA, m, alpha, a, lda, &pb, beta, got, ldc)
			} else {
				Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
			}
			for i := range want {
				if d := math.Abs(want[i] - float64(got[i])); !(d <= tol*math.Max(1, mag[i])) {
					restore()
					t.Fatalf("%s packed=%v: element %d (row %d, col %d): got %v, want %v", name, packed, i, i/ldc, i%ldc, got[i], want[i])
				}
			}
		}
		restore()
	}
}

// TestMulPackedReuse checks that one packed B serves many products (a
// recurrence's steps, each with a new A and a strided A as the steps of a
// batch-first sequence are), that packing again into the same Packed
// replaces it, and that a B packed on one path gives the right product when
// another path is active (it is multiplied unpacked then).
func TestMulPackedReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	paths := simd.Paths()
	for _, pp := range paths {
		for _, mp := range paths {
			var pb Packed
			for _, s := range [][3]int{{32, 1536, 512}, {33, 40, 300}, {50, 10, 300}, {5, 2100, 20}} { // m, n, k
				m, n, k := s[0], s[1], s[2]
				bm := randSlice(r, n*k) // B given transposed: (n, k)
				restore := setPath(pp)
				pb.Pack(blas.Trans, k, n, bm, k)
				restore()
				const steps, lda = 3, 3 * 600 // A rows are steps·k apart
				a := randSlice(r, m*lda)
				for step := range steps {
					want := make([]float32, m*n)
					gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a[step*k:], lda, bm, k, 0, want, n)
					got := make([]float32, m*n)
					restore := setPath(mp)
					MulPacked(blas.NoTrans, m, 1, a[step*k:], lda, &pb, 0, got, n)
					restore()
					for i := range want {
						require.InDelta(t, want[i], got[i], 1e-3, "packed on %v, multiplied on %v, %v step %d element %d", pp, mp, s, step, i)
					}
				}
			}
		}
	}
}

// TestPackBadArgs checks that Pack panics, with what was wrong, on a B too
// short for its shape.
func TestPackBadArgs(t *testing.T) {
	var pb Packed
	require.PanicsWithValue(t, "sgemm: Pack: bad arguments: op(B) 3×4, transpose N, ldb 4, 11 elements", func() {
		pb.Pack(blas.NoTrans, 3, 4, make([]float32, 11), 4)
	})
}

// TestSgemmBetaZeroIgnoresC checks that β = 0 overwrites C without reading
// it (NaN or Inf in C do not leak into the result), on every path, for a
// depth of one and of several k blocks.
func TestSgemmBetaZeroIgnoresC(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, p := range simd.Paths() {
		for _, s := range [][3]int{{13, 33, 7}, {50, 70, 600}} {
			m, n, k := s[0], s[1], s[2]
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			want := make([]float32, m*n)
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, want, n)
			got := make([]float32, m*n)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			restore := setPath(p)
			Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, got, n)
			restore()
			for i := range got {
				require.InDelta(t, want[i], got[i], 1e-3, "%v m=%d n=%d k=%d element %d", p, m, n, k, i)
			}
		}
	}
}

// TestDispatch checks the run-time choice: the fastest path the CPU has is
// the default, the pure-Go fallback is always available and last, and each
// path the CPU runs can be forced and is reported by Kernel. (Which paths
// the CPU runs is internal/simd's, checked there against the OS's flags.)
func TestDispatch(t *testing.T) {
	ps := simd.Paths()
	require.Equal(t, ps[0], active, "default path")
	require.Equal(t, simd.Go, ps[len(ps)-1], "pure-Go fallback last")
	t.Logf("paths on this CPU: %v (default %v)", ps, active)
	for _, p := range ps {
		restore := setPath(p)
		require.Equal(t, p.String(), Kernel())
		require.Equal(t, p != simd.Go, Accelerated())
		restore()
	}
	require.Equal(t, ps[0], active, "restored")
}

// TestKernels checks each micro-kernel the CPU runs on its own against the
// triple loop: it adds the panel product into a C block with a padded ldc,
// for depths 0 to 9 (both parities of the unrolled loop) and 300.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var kns []kern
	for _, p := range simd.Paths() {
		if p != simd.Go {
			kns = append(kns, kernelFor(p, narrowN+1), kernelFor(p, narrowN))
		}
	}
	if len(kns) == 0 {
		t.Skip("no SIMD micro-kernel on this CPU (or GODEBUG turned them off): the pure-Go path is gonum's, checked by TestSgemmMatchesReference")
	}
	for _, p := range kns {
		mr, nr := kernels[p].mr, kernels[p].nr
		for _, k := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 300} {
			ldc := nr + 3
			a, b := randSlice(r, mr*k+1), randSlice(r, k*nr+1)
			c := randSlice(r, mr*ldc)
			want := append([]float32(nil), c...)
			for i := range mr {
				for j := range nr {
					var s float64
					for q := range k {
						s += float64(a[q*mr+i]) * float64(b[q*nr+j])
					}
					want[i*ldc+j] += float32(s)
				}
			}
			c2 := append([]float32(nil), c...)
			kernel(p, k, &a[0], &b[0], &c[0], ldc, true)
			for i := range c {
				require.InDelta(t, want[i], c[i], 1e-4*math.Sqrt(float64(k+1)), "%v k=%d element %d", p, k, i)
			}
			// add false: the block is stored, C's old values are not read
			// (NaN in C must not leak); the padding columns stay untouched.
			for i := range c2 {
				if i%ldc < nr {
					want[i] -= c2[i]
					c2[i] = float32(math.NaN())
				}
			}
			kernel(p, k, &a[0], &b[0], &c2[0], ldc, false)
			for i := range c2 {
				require.InDelta(t, want[i], c2[i], 1e-4*math.Sqrt(float64(k+1)), "%v add=false k=%d element %d", p, k, i)
			}
		}
	}
}

// TestSgemmBadArgs checks that invalid arguments panic as in gonum.
func TestSgemmBadArgs(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for lda < k")
		}
	}()
	Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, make([]float32, 6), 2, make([]float32, 6), 2, 0, make([]float32, 4), 2)
}

// BenchmarkSgemm times the products of the models' training steps at batch
// 128: BenchmarkSgemm/<product>/<m>x<n>x<k>/<impl>, impl avx512 or avx2
// (internal/sgemm forced to that kernel, where the CPU has it), gonum
// (pure-Go, MLP shapes only: it takes ~0.1 s per CNN product) and, under the
// openblas tag, openblas. Run with -cpu 1 for one core (Sgemm splits rows
// across GOMAXPROCS goroutines; the openblas build runs OpenBLAS on one thread
// unless OPENBLAS_NUM_THREADS says otherwise). Bytes are the least traffic:
// read A and B, read and write C.
func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	type sgemmFunc func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	shapes := []struct {
		name    string
		tA, tB  blas.Transpose
		m, n, k int
		big     bool
	}{
		// mlp-784-256-10: forward x·W, weight gradient xᵀ·G, input gradient G·Wᵀ.
		{"x·W1/128x256x784", blas.NoTrans, blas.NoTrans, 128, 256, 784, false},
		{"xT·G/784x256x128", blas.Trans, blas.NoTrans, 784, 256, 128, false},
		{"h·W2/128x10x256", blas.NoTrans, blas.NoTrans, 128, 10, 256, false},
		{"hT·G/256x10x128", blas.Trans, blas.NoTrans, 256, 10, 128, false},
		{"G·W2T/128x256x10", blas.NoTrans, blas.Trans, 128, 256, 10, false},
		// default model's largest: 784-512.
		{"x·W1/128x512x784", blas.NoTrans, blas.NoTrans, 128, 512, 784, false},
		{"xT·G/784x512x128", blas.Trans, blas.NoTrans, 784, 512, 128, false},
		// conv 16→32, 5×5 on 14×14, batch 128, as im2col products.
		{"W·cols/32x25088x400", blas.NoTrans, blas.NoTrans, 32, 196 * 128, 400, true},
		{"dY·colsT/32x400x25088", blas.NoTrans, blas.Trans, 32, 400, 196 * 128, true},
		{"WT·dY/400x25088x32", blas.Trans, blas.NoTrans, 400, 196 * 128, 32, true},
	}
	type impl struct {
		name string
		f    sgemmFunc
	}
	var impls []impl
	for _, p := range simd.Paths() {
		if p == simd.Go {
			continue
		}
		impls = append(impls, impl{p.String(), func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, bb []float32, ldb int, beta float32, c []float32, ldc int) {
			old := active
			active = p
			Sgemm(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
			active = old
		}})
	}
	impls = append(impls, impl{"gonum", gonum.Implementation{}.Sgemm})
	if OpenBLASSgemm != nil {
		impls = append(impls, impl{"openblas", OpenBLASSgemm})
	}
	for _, s := range shapes {
		ra, ca := s.m, s.k
		if s.tA == blas.Trans {
			ra, ca = s.k, s.m
		}
		rb, cb := s.k, s.n
		if s.tB == blas.Trans {
			rb, cb = s.n, s.k
		}
		a, bm, c := randSlice(r, ra*ca), randSlice(r, rb*cb), make([]float32, s.m*s.n)
		for _, im := range impls {
			if s.big && im.name == "gonum" {
				continue
			}
			b.Run(s.name+"/"+im.name, func(b *testing.B) {
				b.SetBytes(int64(4 * (s.m*s.k + s.k*s.n + 2*s.m*s.n)))
				b.ReportAllocs()
				for b.Loop() {
					im.f(s.tA, s.tB, s.m, s.n, s.k, 1, a, ca, bm, cb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestSgemmZeroAllocs checks that a product allocates nothing once warm, on
// every path, for a small (one goroutine) and a parallel size.
func TestSgemmZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := rand.New(rand.NewPCG(9, 10))
	if !slices.ContainsFunc(simd.Paths(), func(p simd.Path) bool { return p != simd.Go }) {
		t.Skip("no SIMD path on this CPU (or GODEBUG turned them off): the pure-Go path is gonum's Sgemm, whose allocations are not ours")
	}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for _, p := range simd.Paths() {
		if p == simd.Go {
			continue // gonum's
		}
		for _, s := range [][3]int{{13, 10, 7}, {128, 256, 784}} {
			m, n, k := s[0], s[1], s[2]
			a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
			restore := setPath(p)
			f := func() { Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n) }
			f()
			allocs := testing.AllocsPerRun(20, f) // runs with GOMAXPROCS 1
			runtime.GOMAXPROCS(2)
			f()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 20 {
				f()
			}
			runtime.ReadMemStats(&after)
			restore()
			require.Zero(t, allocs, "%v %v, one goroutine", p, s)
			// The runtime may allocate a goroutine-parking record now and then.
			require.Less(t, float64(after.Mallocs-before.Mallocs)/20, 0.5, "%v %v, two goroutines", p, s)
		}
	}
}

// TestSgemmSplits checks that the product does not depend on how many
// cores share it: at parallelism 1 to 8 (more parts than this machine has
// cores is fine: the caller does what the pool does not take), the shapes
// that take the column-chunk split (few row panels per part) and the row
// split, with a last column block narrower than the chunks, give the bits
// of the one-part product, on every SIMD path, packed ahead or not.
func TestSgemmSplits(t *testing.T) {
	defer parallel.SetParallelism(parallel.SetParallelism(0))
	r := rand.New(rand.NewPCG(13, 14))
	for _, p := range simd.Paths() {
		if p == simd.Go {
			continue // gonum's
		}
		for _, s := range [][3]int{{32, 1536, 512}, {130, nc + 32, 40}, {143, 2*nc + 16, 24}, {97, 700, 300}, {300, 64, 100}} {
			m, n, k := s[0], s[1], s[2]
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			restore := setPath(p)
			var want []float32
			for _, parts := range []int{1, 2, 3, 4, 8} {
				parallel.SetParallelism(parts)
				for _, packed := range []bool{false, true} {
					c := make([]float32, m*n)
					if packed {
						var pb Packed
						pb.Pack(blas.NoTrans, k, n, b, n)
						MulPacked(blas.NoTrans, m, 1, a, k, &pb, 0, c, n)
					} else {
						Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
					}
					if want == nil {
						want = c
						continue
					}
					for i := range want {
						if math.Float32bits(want[i]) != math.Float32bits(c[i]) {
							restore()
							t.Fatalf("%v %v parts=%d packed=%v: element %d (row %d, col %d): %v, want %v (one part)", p, s, parts, packed, i, i/n, i%n, c[i], want[i])
						}
					}
				}
			}
			restore()
		}
	}
}
