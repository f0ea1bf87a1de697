package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMaxPoolArgmax checks that the max pool's gradient through the forward
// op's argmax equals the gradient found by searching the windows (the path
// taken when the forward op has not run since), with ties, ±0, NaNs,
// padding and overlapping windows, and that it takes the argmax exactly
// when the forward op has run since it last did.
func TestMaxPoolArgmax(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	nan := float32(math.NaN())
	for _, opt := range []PoolOptions{
		{Kernel: [2]int{2, 2}},
		{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}},
		{Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 0}},
		{Kernel: [2]int{5, 4}, Stride: [2]int{3, 3}, Padding: [2]int{2, 2}},
	} {
		g, err := poolGeometry("MaxPool2D", []int{3, 2, 11, 9}, opt)
		require.NoError(t, err)
		x := make([]float32, 3*2*11*9)
		for i := range x {
			switch r.IntN(8) {
			case 0:
				x[i] = nan
			case 1:
				x[i] = float32(math.Copysign(0, r.Float64()-0.5))
			default:
				x[i] = float32(r.IntN(4)) // ties
			}
		}
		yn := g.n * g.c * g.p()
		dy := make([]float32, yn)
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
			if i%7 == 0 {
				dy[i] = float32(math.Copysign(0, -1))
			}
		}
		fwd := &poolJob[float32]{g: g, kind: poolMax}
		bwd := &poolJob[float32]{g: g, kind: poolMax, grad: true, fwd: fwd}
		y := make([]float32, yn)
		require.NoError(t, fwd.do(y, [][]float32{x}))
		viaArg := make([]float32, len(x))
		require.NoError(t, bwd.do(viaArg, [][]float32{x, y, dy}))
		assert.True(t, bwd.use, "%+v: the argmax after a forward run", opt)
		searched := make([]float32, len(x))
		require.NoError(t, bwd.do(searched, [][]float32{x, y, dy}))
		assert.False(t, bwd.use, "%+v: a search without a forward run", opt)
		for i := range x {
			require.Equal(t, math.Float32bits(searched[i]), math.Float32bits(viaArg[i]), "%+v: dx[%d]", opt, i)
		}
	}
}

// TestPool2x2 checks the 2×2, stride-2 loops against the general ones, bit
// for bit, for both pools, forward and backward, on even and odd sizes.
func TestPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, xs := range [][]int{{2, 3, 8, 6}, {2, 2, 9, 7}, {1, 1, 3, 2}} {
		g, err := poolGeometry("Pool2D", xs, PoolOptions{Kernel: [2]int{2, 2}})
		require.NoError(t, err)
		x := make([]float32, xs[0]*xs[1]*xs[2]*xs[3])
		for i := range x {
			x[i] = float32(r.IntN(5)) - 2
			if i%11 == 0 {
				x[i] = float32(math.NaN())
			}
			if i%5 == 0 {
				x[i] = float32(math.Copysign(0, -1))
			}
		}
		yn := g.n * g.c * g.p()
		dy := make([]float32, yn)
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
			if i%3 == 0 {
				dy[i] = float32(math.Copysign(0, -1))
			}
		}
		for _, kind := range []int{poolMax, poolAvg} {
			var outs [2][2][]float32
			for k, fast := range []bool{true, false} {
				pool2x2 = fast
				fwd := &poolJob[float32]{g: g, kind: kind}
				bwd := &poolJob[float32]{g: g, kind: kind, grad: true, fwd: fwd}
				y, dx := make([]float32, yn), make([]float32, len(x))
				for i := range dx {
					dx[i] = 9 // every element must be written
				}
				require.NoError(t, fwd.do(y, [][]float32{x}))
				require.NoError(t, bwd.do(dx, [][]float32{x, y, dy}))
				outs[k] = [2][]float32{y, dx}
			}
			pool2x2 = true
			for o := range 2 {
				for i := range outs[0][o] {
					a, b := outs[0][o][i], outs[1][o][i]
					require.True(t, math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b), "%v kind %d output %d element %d: %g vs %g", xs, kind, o, i, a, b)
				}
			}
		}
	}
}
