package solvers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAdamFastBitIdentical checks the vector Adam kernels (float32 and
// float64) against the scalar formula bit for bit, for lengths that do and
// do not divide by the vector width, with moments about to turn subnormal.
func TestAdamFastBitIdentical(t *testing.T) {
	adamCheck[float32](t, 0x1p-126)
	adamCheck[float64](t, 0x1p-1022)
}

func adamCheck[T Float](t *testing.T, tiny float64) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 4, 7, 64, 1001} {
		mk := func() []T {
			x := make([]T, n)
			for i := range x {
				x[i] = T(r.NormFloat64())
			}
			return x
		}
		w, g, m, v := mk(), mk(), mk(), mk()
		for i := range v {
			v[i] = T(math.Abs(float64(v[i])))
			if i%3 == 1 { // moments about to become subnormal: the flush must agree too
				g[i], m[i], v[i] = 0, T(1.01*tiny), T(1.01*tiny)
			}
		}
		h := castHyper[T](&hyper[float64]{lr: 0.0123, b1: 0.9, b2: 0.999, omb1: 0.1, omb2: 1 - 0.999, eps: 1e-8, s2: 1.7, decay: 0.999})
		w2, g2, m2, v2 := append([]T(nil), w...), append([]T(nil), g...), append([]T(nil), m...), append([]T(nil), v...)
		adamKernel(w, g, m, v, &h)
		// Reference: the scalar formula alone.
		a, b1, b2, omb1, omb2, eps, s2, decay := h.lr, h.b1, h.b2, h.omb1, h.omb2, h.eps, h.s2, h.decay
		flushed := 0
		for i := range w2 {
			gi := g2[i]
			mi := T(b1*m2[i]) + T(omb1*gi) // conversions: no fused multiply-add (GOAMD64=v3)
			vi := T(b2*v2[i]) + T(omb2*(gi*gi))
			if math.Abs(float64(mi)) < tiny {
				mi, flushed = 0, flushed+1
			}
			if float64(vi) < tiny {
				vi = 0
			}
			m2[i], v2[i] = mi, vi
			w2[i] = T(w2[i]*decay) - a*mi/(T(sqrt(vi)*s2)+eps)
			g2[i] = 0
		}
		require.Equal(t, w2, w, "n=%d", n)
		require.Equal(t, m2, m)
		require.Equal(t, v2, v)
		require.Equal(t, g2, g)
		if n > 3 {
			require.Positive(t, flushed, "the case exercises the flush")
		}
	}
}

// TestVectorKernelsBitIdentical checks the vector AdaGrad and RMSProp kernels
// against their scalar formulas bit for bit, in both dtypes.
func TestVectorKernelsBitIdentical(t *testing.T) {
	vectorCheck[float32](t)
	vectorCheck[float64](t)
}

func vectorCheck[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 3, 5, 8, 1001} {
		mk := func(abs bool) []T {
			x := make([]T, n)
			for i := range x {
				x[i] = T(r.NormFloat64())
				if abs && x[i] < 0 {
					x[i] = -x[i]
				}
			}
			return x
		}
		for _, inside := range []bool{false, true} {
			var h64 hyper[float64]
			h64.lr, h64.b2, h64.omb2 = 0.0123, 0.9, 0.1
			h64.eps, h64.epsIn = epsPlace(1e-6, inside)
			h := castHyper[T](&h64)

			w, g, s := mk(false), mk(false), mk(true)
			w2, g2, s2 := append([]T(nil), w...), append([]T(nil), g...), append([]T(nil), s...)
			adagradKernel(w, g, s, &h)
			for i := range w2 {
				gi := g2[i]
				si := s2[i] + gi*gi
				s2[i] = si
				w2[i] = w2[i] - h.lr*gi/(sqrt(si+h.epsIn)+h.eps)
				g2[i] = 0
			}
			require.Equal(t, w2, w, "adagrad n=%d", n)
			require.Equal(t, s2, s)
			require.Equal(t, g2, g)

			w, g, s = mk(false), mk(false), mk(true)
			w2, g2, s2 = append([]T(nil), w...), append([]T(nil), g...), append([]T(nil), s...)
			rmspropKernel(w, g, s, nil, nil, &h)
			for i := range w2 {
				gi := g2[i]
				si := h.b2*s2[i] + h.omb2*(gi*gi)
				s2[i] = si
				u := gi / (sqrt(si+h.epsIn) + h.eps)
				w2[i] = w2[i] - h.lr*u
				g2[i] = 0
			}
			require.Equal(t, w2, w, "rmsprop n=%d", n)
			require.Equal(t, s2, s)
			require.Equal(t, g2, g)
		}
	}
}

// TestNoSubnormalState: a gradient that stays 0 makes moving averages decay
// geometrically; the kernels flush them to 0 before they turn subnormal
// (where arithmetic is slow), in both dtypes and through the vector kernel.
func TestNoSubnormalState(t *testing.T) {
	for _, name := range []string{"adam", "adamw", "amsgrad", "momentum", "nesterov"} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			t.Run(name+"/"+dt.String(), func(t *testing.T) {
				s, err := New(name, Config{})
				require.NoError(t, err)
				const n = 13 // the vector kernel and the scalar tail
				w := tensor.New(tensor.Of(dt), tensor.WithShape(n))
				g := tensor.New(tensor.Of(dt), tensor.WithShape(n))
				p := NewVar("w", w, g)
				g.Memset(castTo(dt, 1e-3))
				require.NoError(t, s.Step([]gorgonia.ValueGrad{p}))
				for range 8000 { // the gradient stays 0 (Step zeroes it)
					require.NoError(t, s.Step([]gorgonia.ValueGrad{p}))
				}
				for key, st := range s.State() {
					for i := range n {
						x, _ := st.At(i % st.Shape().TotalSize())
						f := toFloat64(x)
						small := 0x1p-1022
						if dt == tensor.Float32 {
							small = 0x1p-126
						}
						require.False(t, f != 0 && math.Abs(f) < small, "%s[%d] = %g is subnormal", key, i, f)
					}
				}
			})
		}
	}
}

func castTo(dt tensor.Dtype, x float64) any {
	if dt == tensor.Float32 {
		return float32(x)
	}
	return x
}

func toFloat64(x any) float64 {
	switch v := x.(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// TestMomentumFastBitIdentical checks the Momentum and Nesterov kernel (the
// vector loop and its scalar tail) against the scalar formula bit for bit, in
// both dtypes, with velocities about to turn subnormal (flushed) and a NaN
// (kept).
func TestMomentumFastBitIdentical(t *testing.T) {
	momentumCheck[float32](t, 0x1p-126)
	momentumCheck[float64](t, 0x1p-1022)
}

func momentumCheck[T Float](t *testing.T, tiny float64) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, nest := range []bool{false, true} {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 64, 1001} {
			mk := func() []T {
				x := make([]T, n)
				for i := range x {
					x[i] = T(r.NormFloat64())
				}
				return x
			}
			w, g, b := mk(), mk(), mk()
			for i := range b {
				switch i % 5 {
				case 1: // μ·b + 0 below tiny: flushed
					g[i], b[i] = 0, T(1.01*tiny)
				case 3:
					g[i], b[i] = 0, T(-1.01*tiny)
				}
			}
			if n > 6 {
				b[6] = T(math.NaN())
			}
			h := castHyper[T](&hyper[float64]{lr: 0.0123, mom: 0.9, nesterov: nest})
			w2, g2, b2 := append([]T(nil), w...), append([]T(nil), g...), append([]T(nil), b...)
			momentumKernel(w, g, b, &h)
			flushed := 0
			for i := range w2 {
				gi := g2[i]
				bi := T(h.mom*b2[i]) + gi
				if math.Abs(float64(bi)) < tiny {
					bi, flushed = 0, flushed+1
				}
				b2[i] = bi
				if nest {
					bi = gi + T(h.mom*bi)
				}
				w2[i] = w2[i] - T(h.lr*bi)
				g2[i] = 0
			}
			bits := func(x []T) []uint64 {
				out := make([]uint64, len(x))
				for i, v := range x {
					out[i] = math.Float64bits(float64(v))
				}
				return out
			}
			require.Equal(t, bits(w2), bits(w), "nesterov=%v n=%d", nest, n)
			require.Equal(t, bits(b2), bits(b), "nesterov=%v n=%d", nest, n)
			require.Equal(t, bits(g2), bits(g))
			if n > 3 {
				require.Positive(t, flushed, "the case exercises the flush")
			}
		}
	}
}

// TestSGDFastBitIdentical checks the SGD kernel (vector loop and scalar tail)
// against w − lr·g bit for bit, in both dtypes, at lengths around the vector
// block of 8 (float32) and 4 (float64).
func TestSGDFastBitIdentical(t *testing.T) {
	sgdCheck[float32](t)
	sgdCheck[float64](t)
}

func sgdCheck[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 3, 4, 7, 8, 9, 17, 1001} {
		w, g := make([]T, n), make([]T, n)
		for i := range w {
			w[i], g[i] = T(r.NormFloat64()), T(r.NormFloat64())
		}
		h := castHyper[T](&hyper[float64]{lr: 0.0123})
		want := make([]T, n)
		for i := range w {
			want[i] = w[i] - h.lr*g[i]
		}
		sgdKernel(w, g, &h)
		require.Equal(t, want, w, "n=%d", n)
		require.Equal(t, make([]T, n), g, "gradient zeroed, n=%d", n)
	}
}
