package conv

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func randSlice(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// onPaths runs f on every path this CPU has (AVX-512 with each forward
// kernel: vectorized along channels, and along pixels with blocks of 8
// channels × 3 rows and 16 channels × 1 row).
func onPaths(t *testing.T, f func(t *testing.T, p string)) {
	for _, p := range Paths() {
		restore, ok := ForcePath(p)
		require.True(t, ok)
		t.Run(p, func(t *testing.T) { f(t, p) })
		if p == "avx512" {
			chanT = false
			t.Run(p+"-8x3", func(t *testing.T) { f(t, p) })
			r8x3 = false
			t.Run(p+"-16x1", func(t *testing.T) { f(t, p) })
			r8x3, chanT = true, true
		}
		restore()
	}
}

// TestFMA32 checks fma32 against the exactly rounded a·b + c (math/big), on
// random operands of every scale and on sums built to land halfway between
// two float32 values after the float64 rounding.
func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(400).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(400).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(400).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	check := func(a, b, c float32) {
		t.Helper()
		want := exact(a, b, c)
		got := fma32(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	for range 200000 {
		a := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		b := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		c := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(80)-40)))
		check(a, b, c)
	}
	// c = 1 + 2⁻²⁴ is a float32 midpoint only in float64; a·b a tiny
	// nudge either way: c is float32 1 or its neighbour, the product ±2⁻⁶⁰.
	hard := 0
	for range 100000 {
		c := float32(1 + r.Float64())
		a := float32(math.Ldexp(1+r.Float64(), -24)) // a·b ≈ half an ulp of c
		b := float32(1 + float64(r.IntN(3)-1)*math.Ldexp(1, -23))
		if r.IntN(2) == 0 {
			a = -a
		}
		s := float64(a)*float64(b) + float64(c)
		if r := float32(s); float64(r) != s {
			hard++
		}
		check(a, b, c)
	}
	require.Greater(t, hard, 1000)
	check(float32(math.Ldexp(1, -13)), float32(math.Ldexp(1+math.Ldexp(1, -23), -12)), 1)
	require.True(t, math.IsInf(float64(fma32(math.MaxFloat32, 2, 0)), 1))
	require.True(t, math.IsNaN(float64(fma32(float32(math.Inf(1)), 0, 1))))
	require.True(t, math.IsNaN(float64(fma32(float32(math.NaN()), 1, 1))))
	require.True(t, math.IsInf(float64(fma32(float32(math.Inf(-1)), 1, 1)), -1))
}

type fwdCase struct{ c, hp, wp, kh, kw, o int }

func (c fwdCase) String() string {
	return fmt.Sprintf("c=%d,in=%dx%d,k=%dx%d,o=%d", c.c, c.hp, c.wp, c.kh, c.kw, c.o)
}

var fwdCases = []fwdCase{
	{1, 32, 32, 5, 5, 16},  // the MNIST CNN's first layer
	{16, 18, 18, 5, 5, 32}, // its second
	{32, 13, 13, 3, 3, 64}, // Keras's MNIST convnet's second
	{3, 5, 9, 1, 1, 16}, {2, 4, 12, 3, 5, 16}, {5, 7, 23, 3, 3, 48}, {1, 3, 19, 3, 3, 16},
	{4, 6, 20, 2, 4, 32}, {7, 9, 31, 5, 3, 16}, {1, 1, 1, 1, 1, 16},
	{16, 32, 32, 5, 5, 1}, // the first layer's dx
	{3, 20, 12, 3, 3, 21}, {2, 6, 9, 2, 2, 9}, {1, 14, 7, 1, 3, 3},
	{3, 6, 32, 3, 3, 64}, {2, 5, 3, 3, 3, 32}, // rows of 30 pixels (3 chunks), of 1
}

// naive is the correlation in float64: y[o, i, j] = Σ x[c, i+a, j+b]·w[o, c, a, b].
func naive(g Geom, x, w []float32) []float64 {
	oh, ow := g.OH(), g.OW()
	y := make([]float64, g.O*oh*ow)
	for o := range g.O {
		for i := range oh {
			for j := range ow {
				var s float64
				for c := range g.C {
					for a := range g.KH {
						for b := range g.KW {
							s += float64(x[(c*g.Hp+i+a)*g.Wp+j+b]) * float64(w[((o*g.C+c)*g.KH+a)*g.KW+b])
						}
					}
				}
				y[(o*oh+i)*ow+j] = s
			}
		}
	}
	return y
}

// TestForward checks Forward on every path bit for bit against the Go
// loops, which must match the float64 correlation to rounding; nothing past
// the output may be written.
func TestForward(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range fwdCases {
		g := Geom{C: tc.c, Hp: tc.hp, Wp: tc.wp, KH: tc.kh, KW: tc.kw, O: tc.o}
		p, err := NewPlan(g)
		require.NoError(t, err)
		x := randSlice(r, g.InLen())
		for i := g.C * g.Hp * g.Wp; i < len(x); i++ {
			x[i] = float32(math.NaN()) // read, never used
		}
		w := randSlice(r, g.GradLen())
		wp := randSlice(r, g.PackedLen()) // PackForward clears the padding
		PackForward(wp, w, g.O, g.C, g.KH, g.KW)
		n := g.O * g.OH() * g.OW()
		ref := make([]float32, n)
		forwardGo(p, ref, x, wp)
		want := naive(g, x, w)
		for i, v := range ref {
			require.InDelta(t, want[i], v, 1e-5*float64(g.C*g.KH*g.KW), "%v: element %d", tc, i)
		}
		onPaths(t, func(t *testing.T, path string) {
			y := make([]float32, n+40)
			for i := range y {
				y[i] = -7
			}
			p.Forward(y, x, wp, make([]float32, g.ScratchLen()))
			for i := range n {
				if math.Float32bits(y[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%v: element %d = %g, Go loops %g", tc, i, y[i], ref[i])
				}
			}
			for _, v := range y[n:] {
				require.Equal(t, float32(-7), v, "%v: written past the output", tc)
			}
		})
	}
}

// TestInputGradient checks that Forward on the padded output gradient with
// PackTransposed's filters is the input gradient of a padded convolution:
// dx[c, h, w] = Σ w[o, c, a, b]·dy[o, h+p−a, w+p−b].
func TestInputGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ c, h, w, o, k, pad int }{{16, 14, 14, 32, 5, 2}, {32, 13, 13, 64, 3, 0}, {16, 5, 9, 16, 3, 1}, {1, 28, 28, 16, 5, 2}, {3, 9, 10, 5, 3, 1}} {
		oh, ow := tc.h+2*tc.pad-tc.k+1, tc.w+2*tc.pad-tc.k+1
		w := randSlice(r, tc.o*tc.c*tc.k*tc.k)
		dy := randSlice(r, tc.o*oh*ow)
		q := tc.k - 1 - tc.pad
		g := Geom{C: tc.o, Hp: oh + 2*q, Wp: ow + 2*q, KH: tc.k, KW: tc.k, O: tc.c}
		p, err := NewPlan(g)
		require.NoError(t, err)
		require.Equal(t, [2]int{tc.h, tc.w}, [2]int{g.OH(), g.OW()})
		dyp := make([]float32, g.InLen())
		Pad(dyp, dy, tc.o, oh, ow, q, q)
		wp := make([]float32, g.PackedLen())
		PackTransposed(wp, w, tc.o, tc.c, tc.k, tc.k)
		onPaths(t, func(t *testing.T, path string) {
			dx := make([]float32, tc.c*tc.h*tc.w)
			p.Forward(dx, dyp, wp, make([]float32, g.ScratchLen()))
			for c := range tc.c {
				for h := range tc.h {
					for x := range tc.w {
						var s float64
						for o := range tc.o {
							for a := range tc.k {
								for b := range tc.k {
									i, j := h+tc.pad-a, x+tc.pad-b
									if i >= 0 && i < oh && j >= 0 && j < ow {
										s += float64(w[((o*tc.c+c)*tc.k+a)*tc.k+b]) * float64(dy[(o*oh+i)*ow+j])
									}
								}
							}
						}
						require.InDelta(t, s, dx[(c*tc.h+h)*tc.w+x], 1e-4+1e-5*math.Abs(s))
					}
				}
			}
		})
	}
}

// TestWeights checks Weights on every path bit for bit against the Go loops,
// which must match the float64 sums to rounding.
func TestWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []fwdCase{
		{1, 32, 32, 5, 5, 16}, {16, 18, 18, 5, 5, 32}, {32, 13, 13, 3, 3, 64},
		{2, 7, 9, 5, 5, 48}, {3, 6, 11, 3, 3, 16}, {2, 9, 5, 3, 3, 32}, {1, 8, 8, 5, 3, 128}, {2, 5, 23, 5, 5, 64},
	} {
		for _, n := range []int{1, 3} {
			g := Geom{C: tc.c, Hp: tc.hp, Wp: tc.wp, KH: tc.kh, KW: tc.kw, O: tc.o}
			p, err := NewPlan(g)
			require.NoError(t, err)
			oh, ow := g.OH(), g.OW()
			xs := g.InLen() + 5
			x := randSlice(r, (n-1)*xs+g.InLen())
			dyT := randSlice(r, n*oh*ow*g.O)
			ref := make([]float32, g.GradLen())
			weightsGo(p, ref, x, xs, dyT, n)
			for s, off := range p.tab {
				for o := range g.O {
					var want float64
					for k := range n {
						for i := range oh {
							for j := range ow {
								want += float64(x[k*xs+int(off)/4+i*g.Wp+j]) * float64(dyT[((k*oh+i)*ow+j)*g.O+o])
							}
						}
					}
					require.InDelta(t, want, ref[s*g.O+o], 1e-5*float64(n*oh*ow))
				}
			}
			onPaths(t, func(t *testing.T, path string) {
				dwT := make([]float32, g.GradLen())
				require.NoError(t, p.Weights(dwT, x, xs, dyT, n))
				for i := range dwT {
					if math.Float32bits(dwT[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%v n=%d: element %d = %g, Go loops %g", tc, n, i, dwT[i], ref[i])
					}
				}
			})
		}
	}
}

// TestPad checks Pad's layout and zeros.
func TestPad(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // (2, 2, 3)
	dst := make([]float32, 2*4*5+Slack)
	for i := range dst {
		dst[i] = 99
	}
	Pad(dst, x, 2, 2, 3, 1, 1)
	want := make([]float32, len(dst))
	for c := range 2 {
		for i := range 2 {
			for j := range 3 {
				want[(c*4+i+1)*5+j+1] = x[(c*2+i)*3+j]
			}
		}
	}
	require.Equal(t, want, dst)
}

func TestNewPlanErrors(t *testing.T) {
	for _, g := range []Geom{{C: 1, Hp: 4, Wp: 4, KH: 3, KW: 3, O: 0}, {C: 1, Hp: 2, Wp: 4, KH: 3, KW: 3, O: 16}, {C: 0, Hp: 4, Wp: 4, KH: 3, KW: 3, O: 16}} {
		_, err := NewPlan(g)
		require.ErrorIs(t, err, ErrShape)
	}
	p8, err := NewPlan(Geom{C: 1, Hp: 4, Wp: 4, KH: 3, KW: 3, O: 8})
	require.NoError(t, err)
	require.False(t, p8.WeightsOK())
	p, err := NewPlan(Geom{C: 1, Hp: 4, Wp: 4, KH: 2, KW: 2, O: 16})
	require.NoError(t, err)
	require.ErrorIs(t, p.Weights(make([]float32, 64), make([]float32, 32), 32, make([]float32, 144), 1), ErrShape)
}

// TestTranspose checks Transpose on every path for shapes around its 16×16
// tiles.
func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, rows := range []int{1, 15, 16, 17, 32, 48} {
		for _, cols := range []int{1, 7, 16, 31, 196, 784} {
			src := randSlice(r, rows*cols)
			onPaths(t, func(t *testing.T, path string) {
				dst := make([]float32, rows*cols+3)
				Transpose(dst, src, rows, cols)
				for i := range rows {
					for j := range cols {
						if dst[j*rows+i] != src[i*cols+j] {
							t.Fatalf("%dx%d: (%d, %d) = %g, want %g", rows, cols, i, j, dst[j*rows+i], src[i*cols+j])
						}
					}
				}
				require.Equal(t, make([]float32, 3), dst[rows*cols:])
			})
		}
	}
}
