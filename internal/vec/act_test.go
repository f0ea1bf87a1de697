package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// specials are the values whose handling differs between a naive vector
// kernel and Go's semantics: signed zeros, infinities, NaN.
var specials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1, -1}

// actInput is n random values with ties (a quarter of the elements repeat
// the one before, so pooling windows hold equal maxima) and, if special,
// the special values at random places.
func actInput(r *rand.Rand, n int, special bool) []float32 {
	x := vec32(r, n)
	for i := 1; i < n; i++ {
		if r.IntN(4) == 0 {
			x[i] = x[i-1]
		}
		if r.IntN(3) == 0 {
			x[i] = 0 // ReLU outputs: many exact zeros
		}
	}
	if special {
		for i := range x {
			if r.IntN(8) == 0 {
				x[i] = specials[r.IntN(len(specials))]
			}
		}
	}
	return x
}

// TestActKernels checks ReLU, ReLUGrad and AddConst on every path against
// the definitions they document, bit for bit, with special values, at
// lengths around the 16-element blocks; only the first n outputs change.
func TestActKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	negZero := float32(math.Copysign(0, -1))
	for _, asm := range paths() {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 100, 1000} {
			for _, special := range []bool{false, true} {
				x, g := actInput(r, n+2, special), actInput(r, n+2, special)
				if n > 3 {
					x[0], x[1], x[2] = negZero, float32(math.NaN()), 0
				}
				y, want := vec32(r, n+2), make([]float32, n+2)
				copy(want, y)
				for i, v := range x[:n] {
					switch {
					case v > 0 || v != v:
						want[i] = v
					default:
						want[i] = 0 // +0, also for −0
					}
				}
				run(asm, func() { ReLU(y, x[:n]) })
				sameBits32(t, want, y, "ReLU asm=%v n=%d special=%v", asm, n, special)

				dx := vec32(r, n+2)
				copy(want, dx)
				for i, v := range x[:n] {
					want[i] = 0
					if math.Float32bits(v) != 0 {
						want[i] = g[i]
					}
				}
				run(asm, func() { ReLUGrad(dx, x[:n], g) })
				sameBits32(t, want, dx, "ReLUGrad asm=%v n=%d special=%v", asm, n, special)

				c := float32(r.NormFloat64())
				copy(want, y)
				for i, v := range x[:n] {
					want[i] = v + c
				}
				run(asm, func() { AddConst(y, x[:n], c) })
				sameBits32(t, want, y, "AddConst asm=%v n=%d special=%v", asm, n, special)
			}
		}
	}
}

// goMax is Go's max for two floats, written out from the language
// specification: NaN if either is, +0 over −0, else the larger.
func goMax(x, y float32) float32 {
	switch {
	case y != y:
		return y
	case x != x:
		return x
	case x == 0 && y == 0:
		return math.Float32frombits(math.Float32bits(x) & math.Float32bits(y))
	case y > x:
		return y
	}
	return x
}

// TestMaxPool2x2 checks the 2×2 max pool of a plane and its gradient on
// every path: the maximum by the specification's max, the argmax the first
// element equal to it (the last NaN for NaN), the gradient v + 0 at the
// argmax and +0 elsewhere — bit for bit, with ties, zeros of both signs
// and, in some rows, NaN (the assembly hands those rows to the Go loop, so
// both paths give the same NaN bits); rows shorter and longer than the
// assembly's 16 outputs, odd widths; with and without arg; nothing outside
// the windows written.
func TestMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, asm := range paths() {
		for _, ow := range []int{1, 3, 7, 14, 16, 17, 33} {
			for _, oh := range []int{1, 3} {
				for _, extra := range []int{0, 1} {
					for _, special := range []bool{false, true} {
						w := 2*ow + extra
						x := actInput(r, (2*oh+extra)*w, special)
						n := oh * ow
						y, arg := vec32(r, n+1), make([]uint8, n+1)
						want, wantArg := append([]float32(nil), y...), make([]uint8, n+1)
						arg[n], wantArg[n] = 9, 9 // beyond the plane: untouched
						for i := range oh {
							for k := range ow {
								win := [4]float32{x[2*i*w+2*k], x[2*i*w+2*k+1], x[(2*i+1)*w+2*k], x[(2*i+1)*w+2*k+1]}
								m := goMax(goMax(goMax(win[0], win[1]), win[2]), win[3])
								at := 0
								if m != m {
									for j := range win {
										if win[j] != win[j] {
											at = j
										}
									}
								} else {
									for win[at] != m {
										at++
									}
								}
								want[i*ow+k], wantArg[i*ow+k] = m, uint8(at)
							}
						}
						name := func(what string) string {
							return fmt.Sprintf("%s asm=%v ow=%d oh=%d w=%d special=%v", what, asm, ow, oh, w, special)
						}
						run(asm, func() { MaxPool2x2(y[:n], arg[:n], x, w, ow) })
						y2 := vec32(r, n)
						run(asm, func() { MaxPool2x2(y2, nil, x, w, ow) })
						yGo := make([]float32, n)
						run(false, func() { MaxPool2x2(yGo, nil, x, w, ow) })
						sameBits32(t, yGo, y2, "%s", name("MaxPool2x2 against the Go loop, NaN bits included"))
						// A NaN maximum is a NaN whose bits are the compiler's (Go's
						// max on amd64 ORs the operands' bits): compared as NaN.
						for k := range want[:n] {
							if want[k] != want[k] {
								require.True(t, y[k] != y[k] && y2[k] != y2[k], name(fmt.Sprintf("element %d: %v, %v, want NaN", k, y[k], y2[k])))
								want[k], y[k], y2[k] = 0, 0, 0
							}
						}
						sameBits32(t, want, y, "%s", name("MaxPool2x2"))
						require.Equal(t, wantArg, arg, name("MaxPool2x2 argmax"))
						sameBits32(t, want[:n], y2, "%s", name("MaxPool2x2 without arg"))

						dy := actInput(r, n, special)
						for k := range arg[:n] {
							arg[k] |= uint8(r.IntN(4)) << 2 // high bits are ignored
						}
						dx := vec32(r, len(x))
						wdx := append([]float32(nil), dx...)
						for i := range oh {
							for k := range ow {
								q := [4]float32{}
								q[arg[i*ow+k]&3] = dy[i*ow+k] + 0
								wdx[2*i*w+2*k], wdx[2*i*w+2*k+1], wdx[(2*i+1)*w+2*k], wdx[(2*i+1)*w+2*k+1] = q[0], q[1], q[2], q[3]
							}
						}
						run(asm, func() { MaxPool2x2Grad(dx, dy, arg[:n], w, ow) })
						sameBits32(t, wdx, dx, "%s", name("MaxPool2x2Grad"))
					}
				}
			}
		}
	}
}

// TestKeepBits checks the bit helpers on the special values.
func TestKeepBits(t *testing.T) {
	for _, v := range specials {
		nz := NonzeroBits(v)
		require.Equal(t, math.Float32bits(v) != 0, nz == 1, "NonzeroBits(%v)", v)
		require.Equal(t, math.Float32bits(v), math.Float32bits(KeepBits(v, 1)), "KeepBits(%v, 1)", v)
		require.Zero(t, math.Float32bits(KeepBits(v, 0)), "KeepBits(%v, 0)", v)
		require.Equal(t, math.Float64bits(float64(v)), math.Float64bits(KeepBits(float64(v), 1)), "KeepBits(%v, 1) float64", v)
		require.Equal(t, math.Float64bits(float64(v)) != 0, NonzeroBits(float64(v)) == 1, "NonzeroBits(%v) float64", v)
	}
}
