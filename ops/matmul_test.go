package ops_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// TestGemmGradients checks the gradients of op(A)·op(B) for every
// combination of transposes (the backward pass of MatMul uses them all).
func TestGemmGradients(t *testing.T) {
	const m, k, n = 4, 5, 3
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			t.Run(fmt.Sprintf("ta=%v/tb=%v", ta, tb), func(t *testing.T) {
				b := graph.NewBuilder(42)
				as, bs := []int{m, k}, []int{k, n}
				if ta {
					as = []int{k, m}
				}
				if tb {
					bs = []int{n, k}
				}
				a, err := b.Param("a", tensor.Float64, randn(1, 0), as...)
				require.NoError(t, err)
				w, err := b.Param("w", tensor.Float64, randn(2, 0), bs...)
				require.NoError(t, err)
				y, err := ops.Gemm(a, w, ta, tb)
				require.NoError(t, err)
				require.Equal(t, tensor.Shape{m, n}, y.Shape())
				loss, err := weightedSum(b, y)
				require.NoError(t, err)
				p, err := b.Compile(loss)
				require.NoError(t, err)
				defer p.Close()
				res, err := gradcheck.Check(p, graph.Feeds{"r": randTensor(7, m, n)}, gradcheck.Options{})
				require.NoError(t, err)
				for _, r := range res {
					assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
				}
			})
		}
	}
}

// TestMatMulMatchesGorgonia compares MatMul with Gorgonia's Mul on fed
// inputs, over several runs with different inputs (the output buffer is
// reused between runs).
func TestMatMulMatchesGorgonia(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			b := graph.NewBuilder(1)
			a, err := b.Input("a", dt, 6, 7)
			require.NoError(t, err)
			w, err := b.Input("w", dt, 7, 5)
			require.NoError(t, err)
			ours, err := ops.MatMul(a, w)
			require.NoError(t, err)
			ref, err := gorgonia.Mul(a, w)
			require.NoError(t, err)
			p, err := b.Compile(nil, ours, ref)
			require.NoError(t, err)
			defer p.Close()
			for run := range 3 {
				av, wv := randTensor(uint64(10+run), 6, 7), randTensor(uint64(20+run), 7, 5)
				if dt == tensor.Float32 {
					av, wv = to32(av), to32(wv)
				}
				require.NoError(t, p.Run(graph.Feeds{"a": av, "w": wv}))
				got, want := p.Output(0).Data(), p.Output(1).Data()
				switch g := got.(type) {
				case []float32:
					assert.InDeltaSlice(t, want, g, 1e-5, "run %d", run)
				default:
					assert.InDeltaSlice(t, want, g, 1e-12, "run %d", run)
				}
				// And against a triple loop in float64, which shares no code
				// with either (both go through the same BLAS).
				naive := make([]float64, 6*5)
				a64, w64 := asFloat64(av), asFloat64(wv)
				for i := range 6 {
					for j := range 5 {
						for k := range 7 {
							naive[i*5+j] += a64[i*7+k] * w64[k*5+j]
						}
					}
				}
				assert.InDeltaSlice(t, naive, asFloat64(p.Output(0).(*tensor.Dense)), 1e-5, "run %d: against the triple loop", run)
			}
		})
	}
}

// asFloat64 returns a float32 or float64 tensor's values as float64.
func asFloat64(t *tensor.Dense) []float64 {
	if d, ok := t.Data().([]float64); ok {
		return d
	}
	d := t.Data().([]float32)
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

func to32(t *tensor.Dense) *tensor.Dense {
	d := t.Data().([]float64)
	out := make([]float32, len(d))
	for i, v := range d {
		out[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(out))
}
