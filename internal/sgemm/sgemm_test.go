package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

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

// TestSgemmMatchesGonum compares Sgemm with gonum's Sgemm on every
// combination of transposes, shapes around the block and panel edges,
// padded leading dimensions, and α, β including 0 and 1.
func TestSgemmMatchesGonum(t *testing.T) {
	if !useKernel {
		t.Log("no AVX2/FMA: Sgemm is gonum's; checking the delegation only")
	}
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 1}, {5, 15, 3}, {7, 17, 9}, {12, 32, 256}, {13, 33, 257},
		{97, 20, 300}, {128, 256, 784}, {128, 10, 256}, {784, 256, 128}, {3, 1030, 5}, {200, 7, 600}, {0, 4, 3}, {4, 3, 0}}
	for _, s := range sizes {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {0, 0.5}} {
					name := fmt.Sprintf("m=%d/n=%d/k=%d/tA=%c/tB=%c/alpha=%v/beta=%v", m, n, k, tA, tB, ab[0], ab[1])
					pad := r.IntN(3)
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
					want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
					gonum.Implementation{}.Sgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
					Sgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], got, ldc)
					tol := 1e-5 * math.Sqrt(float64(k+1)) * 4
					for i := range want {
						if d := math.Abs(float64(want[i] - got[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) {
							t.Fatalf("%s: element %d (row %d, col %d): got %v, want %v", name, i, i/ldc, i%ldc, got[i], want[i])
						}
					}
				}
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

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	// The products of one mlp-784-256-10 training step at batch 128.
	shapes := []struct {
		name    string
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{"x·W1/128x256x784", blas.NoTrans, blas.NoTrans, 128, 256, 784},
		{"xT·G/784x256x128", blas.Trans, blas.NoTrans, 784, 256, 128},
		{"h·W2/128x10x256", blas.NoTrans, blas.NoTrans, 128, 10, 256},
		{"G·W2T/128x256x10", blas.NoTrans, blas.Trans, 128, 256, 10},
	}
	impls := []struct {
		name string
		f    func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	}{{"gradlab", Sgemm}, {"gonum", gonum.Implementation{}.Sgemm}}
	if OpenBLASSgemm != nil {
		impls = append(impls, struct {
			name string
			f    func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
		}{"openblas", OpenBLASSgemm})
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
			b.Run(s.name+"/"+im.name, func(b *testing.B) {
				for b.Loop() {
					im.f(s.tA, s.tB, s.m, s.n, s.k, 1, a, ca, bm, cb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
