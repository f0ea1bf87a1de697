package ops_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/ops"
)

// shiftRef is the shift of one (H, W) image by (dy, dx) with edge copies.
func shiftRef(x []float64, h, w, dy, dx int) []float64 {
	y := make([]float64, len(x))
	for i := range h {
		for j := range w {
			si, sj := min(max(i-dy, 0), h-1), min(max(j-dx, 0), w-1)
			y[i*w+j] = x[si*w+sj]
		}
	}
	return y
}

func TestRandomShift(t *testing.T) {
	const n, c, h, w = 6, 2, 5, 4
	b := graph.NewBuilder(3)
	x, err := b.Input("x", tensor.Float64, n, c, h, w)
	require.NoError(t, err)
	y, err := ops.RandomShift(b, x, 2)
	require.NoError(t, err)
	p, err := b.Compile(nil, y)
	require.NoError(t, err)
	defer p.Close()
	data := make([]float64, n*c*h*w)
	for i := range data {
		data[i] = float64(i)
	}
	feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(data))}

	require.NoError(t, p.Run(feeds))
	first := append([]float64(nil), p.Output(0).Data().([]float64)...)
	moved := 0
	for e := range n {
		// Find the shift of example e from channel 0; channel 1 must follow it.
		img := data[e*c*h*w : e*c*h*w+h*w]
		found := false
		for dy := -2; dy <= 2 && !found; dy++ {
			for dx := -2; dx <= 2 && !found; dx++ {
				if assert.ObjectsAreEqual(shiftRef(img, h, w, dy, dx), first[e*c*h*w:e*c*h*w+h*w]) {
					found = true
					assert.Equal(t, shiftRef(data[e*c*h*w+h*w:(e+1)*c*h*w], h, w, dy, dx), first[e*c*h*w+h*w:(e+1)*c*h*w], "example %d: channels move together", e)
					if dy != 0 || dx != 0 {
						moved++
					}
				}
			}
		}
		assert.True(t, found, "example %d is a shift of its input by at most 2", e)
	}
	assert.Greater(t, moved, 0)
	assert.Equal(t, 1.0, p.States()[0].Value.Data().([]float64)[0], "shift#0/step advanced")

	require.NoError(t, p.Run(feeds))
	assert.NotEqual(t, first, p.Output(0).Data(), "the next run draws new shifts")

	// The same seed and counter give the same shifts (resume).
	b2 := graph.NewBuilder(3)
	x2, _ := b2.Input("x", tensor.Float64, n, c, h, w)
	y2, err := ops.RandomShift(b2, x2, 2)
	require.NoError(t, err)
	p2, err := b2.Compile(nil, y2)
	require.NoError(t, err)
	defer p2.Close()
	require.NoError(t, p2.Run(feeds))
	assert.Equal(t, first, p2.Output(0).Data())

	p.SetMode(graph.Eval)
	require.NoError(t, p.Run(feeds))
	assert.Equal(t, data, p.Output(0).Data(), "Eval mode is the identity")
	assert.Equal(t, 2.0, p.States()[0].Value.Data().([]float64)[0], "Eval mode draws nothing")
}

func TestRandomShiftGradient(t *testing.T) {
	b := graph.NewBuilder(1)
	x, err := b.Input("x", tensor.Float64, 3, 2, 4, 5)
	require.NoError(t, err)
	// A parameter before the shift, so the gradient must flow through it.
	s, err := b.Param("s", tensor.Float64, initializers.Must(initializers.Normal(1, 0.5)), 3, 2, 4, 5)
	require.NoError(t, err)
	h, err := gorgonia.HadamardProd(x, s)
	require.NoError(t, err)
	y, err := ops.RandomShift(b, h, 1)
	require.NoError(t, err)
	require.True(t, ops.FreezeShift(y, true))
	w, err := b.Param("w", tensor.Float64, initializers.Must(initializers.Normal(0, 1)), 3, 2, 4, 5)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(must(gorgonia.HadamardProd(must(gorgonia.Square(y)), w)))
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	defer p.Close()
	r := rand.New(rand.NewPCG(1, 1))
	data := make([]float64, 3*2*4*5)
	for i := range data {
		data[i] = r.NormFloat64()
	}
	res, err := gradcheck.Check(p, graph.Feeds{"x": tensor.New(tensor.WithShape(3, 2, 4, 5), tensor.WithBacking(data))}, gradcheck.Options{})
	require.NoError(t, err)
	assert.Less(t, gradcheck.MaxRelErr(res), 1e-6, "%v", res)
}

func must(n *gorgonia.Node, err error) *gorgonia.Node {
	if err != nil {
		panic(err)
	}
	return n
}

func TestRandomShiftErrors(t *testing.T) {
	for _, c := range []struct {
		shape []int
		max   int
		err   error
	}{{[]int{2, 6}, 1, ops.ErrShape}, {[]int{2, 1, 4, 4}, 4, ops.ErrConfig}, {[]int{2, 1, 4, 4}, -1, ops.ErrConfig}} {
		b := graph.NewBuilder(1)
		x, _ := b.Input("x", tensor.Float64, c.shape...)
		_, err := ops.RandomShift(b, x, c.max)
		assert.ErrorIs(t, err, c.err, "%v max %d", c.shape, c.max)
		assert.ErrorContains(t, err, "RandomShift")
	}
}
