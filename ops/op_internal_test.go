package ops

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/internal/parallel"
)

// TestElementwiseSplit runs element-wise kernels large enough to be split
// over the cores on 1, 2 and 3 goroutines: the results are bit-identical to
// one serial call, a kernel's error comes back, and a steady-state run
// allocates nothing.
func TestElementwiseSplit(t *testing.T) {
	defer parallel.SetParallelism(parallel.SetParallelism(0))
	const n = 3*ewSerial + 17
	r := rand.New(rand.NewPCG(3, 4))
	x, g := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	kernels := map[string]func(out []float32, in [][]float32) error{
		"tanh":     func(y []float32, in [][]float32) error { tanhFwd(y, in[0]); return nil },
		"reluGrad": func(dx []float32, in [][]float32) error { reluBwd32(dx, in[0], in[1]); return nil },
	}
	for name, k := range kernels {
		want := make([]float32, n)
		require.NoError(t, k(want, [][]float32{x, g}))
		d := &def{label: name, elementwise: true}
		var j ewJob[float32]
		for _, p := range []int{1, 2, 3} {
			parallel.SetParallelism(p)
			got := make([]float32, n)
			require.NoError(t, j.do(d, k, got, [][]float32{x, g}))
			require.Equal(t, want, got, "%s on %d goroutines", name, p)
		}
		parallel.SetParallelism(2)
		out, in := make([]float32, n), [][]float32{x, g}
		allocs := testing.AllocsPerRun(20, func() { _ = j.do(d, k, out, in) })
		require.Zero(t, allocs, name)
	}
	boom := errors.New("boom")
	d := &def{label: "failing", elementwise: true}
	var j ewJob[float32]
	err := j.do(d, func([]float32, [][]float32) error { return boom }, make([]float32, n), [][]float32{x})
	require.ErrorIs(t, err, boom)
	err = j.do(d, func([]float32, [][]float32) error { return nil }, make([]float32, n), [][]float32{x[:n-1]})
	require.ErrorIs(t, err, ErrShape)
}
