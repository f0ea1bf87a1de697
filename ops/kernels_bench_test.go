package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gradlab/gradlab/internal/vec"
)

// BenchmarkKernels times the element-wise kernels of a training step on a
// float32 (128, 512) batch, the size of the default model's first hidden
// layer; "batchnorm" is one forward pass and the three gradients.
func BenchmarkKernels(b *testing.B) {
	const n, c = 128, 512
	r := rand.New(rand.NewPCG(1, 2))
	randVec := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	x, g, y, dx := randVec(n*c), randVec(n*c), make([]float32, n*c), make([]float32, n*c)
	gamma, beta, rm, rv, dv := randVec(c), randVec(c), make([]float32, c), make([]float32, c), make([]float32, c)
	b.Run("batchnorm", func(b *testing.B) {
		o := &bnOp{momentum: 0.1, eps: 1e-5, batchStats: true}
		b.SetBytes(4 * n * c)
		for b.Loop() {
			o.runs++ // as UsePreallocDo does: the backward pass recomputes its sums
			bnForward(o, y, x, gamma, beta, rm, rv, n, c, 1)
			bnBackward(o, 0, dx, x, gamma, g, n, c, 1)
			bnBackward(o, 1, dv, x, gamma, g, n, c, 1)
			bnBackward(o, 2, dv, x, gamma, g, n, c, 1)
		}
	})
	b.Run("batchnorm2d", func(b *testing.B) {
		// The default CNN's first batch norm: (128, 16, 24, 24), runs of 576.
		const n, c, sp = 128, 16, 576
		x, g, y, dx := randVec(n*c*sp), randVec(n*c*sp), make([]float32, n*c*sp), make([]float32, n*c*sp)
		gamma, beta, rm, rv, dv := randVec(c), randVec(c), make([]float32, c), make([]float32, c), make([]float32, c)
		o := &bnOp{momentum: 0.1, eps: 1e-5, batchStats: true}
		b.SetBytes(4 * n * c * sp)
		for b.Loop() {
			o.runs++
			bnForward(o, y, x, gamma, beta, rm, rv, n, c, sp)
			bnBackward(o, 0, dx, x, gamma, g, n, c, sp)
			bnBackward(o, 1, dv, x, gamma, g, n, c, sp)
			bnBackward(o, 2, dv, x, gamma, g, n, c, sp)
		}
	})
	b.Run("relu", func(b *testing.B) {
		b.SetBytes(4 * n * c)
		for b.Loop() {
			vec.ReLU(y, x)
			vec.ReLUGrad(dx, y, g)
		}
	})
	b.Run("layernorm-4096x512", func(b *testing.B) {
		// LayerNorm's forward and backward kernels called directly, at
		// BenchmarkSeqLayer/layernorm-n4096-d512's size, without the tape
		// (SEQ.md compares the two).
		const rows, d = 4096, 512
		k := &lnJob[float32]{g: lnGeom{rows: rows, d: d, eps: 1e-5}}
		lx, ly, ldy, ldx := randVec(rows*d), make([]float32, rows*d), randVec(rows*d), make([]float32, rows*d)
		in := [][]float32{lx, randVec(d), randVec(d), ly, ldy}
		b.SetBytes(4 * 4 * rows * d) // x, y, dy, dx
		for b.Loop() {
			if err := k.forward(ly, in[:3]); err != nil {
				b.Fatal(err)
			}
			if err := k.backward(ldx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("biasadd", func(b *testing.B) {
		b.SetBytes(4 * n * c)
		bias, in := &biasJob[float32]{n: n, c: c, s: 1}, [][]float32{x, beta}
		for b.Loop() {
			_ = bias.add(y, in)
		}
	})
}
