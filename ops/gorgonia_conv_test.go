package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// gorgoniaOutcome is what Gorgonia's own op did on one golden case.
type gorgoniaOutcome struct {
	failed             string // a build error, run error or panic
	y, dx, dw          []float64
	errY, errDX, errDW float64 // max |Gorgonia − PyTorch|
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

// runGorgonia builds y = build(x, w) on a plain Gorgonia graph, the loss
// sum(y ⊙ r), and returns y and the gradients of x (and w when given).
func runGorgonia(dt tensor.Dtype, xs []int, x []float64, ws []int, w []float64, r []float64,
	build func(x, w *gorgonia.Node) (*gorgonia.Node, error)) (out gorgoniaOutcome) {
	defer func() {
		if p := recover(); p != nil {
			out.failed = fmt.Sprintf("panic: %v", p)
		}
	}()
	g := gorgonia.NewGraph()
	xn := gorgonia.NewTensor(g, dt, 4, gorgonia.WithShape(xs...), gorgonia.WithName("x"),
		gorgonia.WithValue(dense(dt, append([]float64(nil), x...), xs...)))
	wrt := gorgonia.Nodes{xn}
	var wn *gorgonia.Node
	if ws != nil {
		wn = gorgonia.NewTensor(g, dt, 4, gorgonia.WithShape(ws...), gorgonia.WithName("w"),
			gorgonia.WithValue(dense(dt, append([]float64(nil), w...), ws...)))
		wrt = append(wrt, wn)
	}
	y, err := build(xn, wn)
	if err != nil {
		out.failed = "build: " + err.Error()
		return out
	}
	if r == nil {
		r = make([]float64, y.Shape().TotalSize())
		for i := range r {
			r[i] = 1
		}
	}
	if y.Shape().TotalSize() != len(r) {
		out.failed = fmt.Sprintf("output shape %v, want %d elements", y.Shape(), len(r))
		return out
	}
	rn := gorgonia.NewTensor(g, dt, y.Dims(), gorgonia.WithShape(y.Shape()...), gorgonia.WithName("r"),
		gorgonia.WithValue(dense(dt, append([]float64(nil), r...), y.Shape()...)))
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	prod, err := gorgonia.HadamardProd(y, rn)
	if err != nil {
		out.failed = "build: " + err.Error()
		return out
	}
	loss, err := gorgonia.Sum(prod)
	if err != nil {
		out.failed = "build: " + err.Error()
		return out
	}
	if _, err := gorgonia.Grad(loss, wrt...); err != nil {
		out.failed = "grad: " + err.Error()
		return out
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		out.failed = "run: " + err.Error()
		return out
	}
	yt := yv.(tensor.Tensor)
	if d, ok := yt.(*tensor.Dense); ok && d.IsView() {
		yt = d.Materialize()
	}
	out.y = asF64(yt.Data())
	for i, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			out.failed = "grad: " + err.Error()
			return out
		}
		if i == 0 {
			out.dx = asF64(gv.Data())
		} else {
			out.dw = asF64(gv.Data())
		}
	}
	return out
}

// TestGorgoniaConvPoolSound shows Gorgonia's Conv2d and MaxPool2D agree with
// PyTorch's golden values (and so with ops.Conv2D and ops.MaxPool2D, which
// TestConvGolden and TestPoolGolden hold to the same values) on every golden
// case, forward and backward, in both dtypes: on well-formed inputs they are
// sound references. (The wrong Im2Col numbers of gorgonia/gorgonia#233 and
// #268, a 1×8×14×14 input with 16×8×5×5 filters and padding 2, are fixed in
// v0.9.18: the c4-o6/k5/p2 case has that geometry.)
func TestGorgoniaConvPoolSound(t *testing.T) {
	gold := loadConvGolden(t)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := goldenTol[dt]
		for _, c := range gold.Conv {
			t.Run("Conv2d/"+dt.String()+"/"+c.Name, func(t *testing.T) {
				// PyTorch's y includes the bias; Gorgonia's Conv2d has none.
				y := append([]float64(nil), c.Y...)
				per := c.YShape[2] * c.YShape[3]
				for i := range y {
					y[i] -= c.B[(i/per)%c.YShape[1]]
				}
				o := runGorgonia(dt, c.XShape, c.X, c.WShape, c.W, c.R, func(x, w *gorgonia.Node) (*gorgonia.Node, error) {
					return gorgonia.Conv2d(x, w, tensor.Shape{c.WShape[2], c.WShape[3]}, c.Padding, c.Stride, c.Dilation)
				})
				require.Empty(t, o.failed)
				assert.LessOrEqual(t, maxAbsDiff(o.y, y), tol, "y")
				assert.LessOrEqual(t, maxAbsDiff(o.dx, c.DX), tol, "dx")
				assert.LessOrEqual(t, maxAbsDiff(o.dw, c.DW), tol, "dw")
			})
		}
		for _, c := range gold.Pool {
			if c.Kind != "max" {
				continue
			}
			t.Run("MaxPool2D/"+dt.String()+"/"+c.Name, func(t *testing.T) {
				stride := c.Stride
				if stride == nil {
					stride = c.Kernel
				}
				o := runGorgonia(dt, c.XShape, c.X, nil, nil, c.R, func(x, _ *gorgonia.Node) (*gorgonia.Node, error) {
					return gorgonia.MaxPool2D(x, tensor.Shape{c.Kernel[0], c.Kernel[1]}, c.Padding, stride)
				})
				require.Empty(t, o.failed)
				assert.LessOrEqual(t, maxAbsDiff(o.y, c.Y), tol, "y")
				assert.LessOrEqual(t, maxAbsDiff(o.dx, c.DX), tol, "dx")
			})
		}
	}
}

// TestGorgoniaConvPoolUnsound shows where Gorgonia's ops are not references:
// its MaxPool2D drops a NaN (its comparison v > max is false for NaN), where
// PyTorch and ops.MaxPool2D return NaN so that a diverged activation is not
// hidden; its Conv2d takes the kernel size separately from the filter and
// only checks C·KH·KW, so filters with a channel count other than the
// input's run without an error and give numbers of no meaning, where
// ops.Conv2D names the mismatch.
func TestGorgoniaConvPoolUnsound(t *testing.T) {
	t.Run("MaxPool2D/NaN", func(t *testing.T) {
		xs := []float64{1, math.NaN(), 2, 3}
		// (PyTorch: max_pool2d of [[1, nan], [2, 3]] is nan, its gradient
		// goes to the nan; with several NaNs, to the last one.)
		o := runGorgonia(tensor.Float64, []int{1, 1, 2, 2}, xs, nil, nil, nil, func(x, _ *gorgonia.Node) (*gorgonia.Node, error) {
			return gorgonia.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
		})
		require.Empty(t, o.failed)
		assert.Equal(t, []float64{3}, o.y, "Gorgonia skips the NaN")

		b := graph.NewBuilder(1)
		x, _ := b.Param("x", tensor.Float64, fromValues(xs), 1, 1, 2, 2)
		y, err := ops.MaxPool2D(x, ops.PoolOptions{Kernel: [2]int{2, 2}})
		require.NoError(t, err)
		out, g := runGolden(t, b, y, tensor.Float64, []float64{1}, x)
		require.Len(t, out, 1)
		assert.True(t, math.IsNaN(out[0]), "ops.MaxPool2D returns NaN, as PyTorch does")
		assert.Equal(t, []float64{0, 1, 0, 0}, g[0], "the gradient goes to the NaN")
	})
	t.Run("Conv2d/channel-mismatch", func(t *testing.T) {
		// x has 2 channels, w has 3 (with a 2×2 kernel): 3·2·2 = 2·3·2.
		xs, ws := []int{1, 2, 5, 5}, []int{4, 3, 2, 2}
		o := runGorgonia(tensor.Float64, xs, f64s(randTensor(1, xs...)), ws, f64s(randTensor(2, ws...)), nil,
			func(x, w *gorgonia.Node) (*gorgonia.Node, error) {
				return gorgonia.Conv2d(x, w, tensor.Shape{3, 2}, nil, []int{1, 1}, nil)
			})
		assert.Empty(t, o.failed, "Gorgonia accepts the mismatch")
		assert.NotEmpty(t, o.y)

		b := graph.NewBuilder(1)
		x, _ := b.Param("x", tensor.Float64, randn(1, 0), xs...)
		w, _ := b.Param("w", tensor.Float64, randn(1, 0), ws...)
		_, err := ops.Conv2D(x, w, ops.ConvOptions{})
		require.ErrorIs(t, err, ops.ErrShape)
		assert.Contains(t, err.Error(), "channels")
	})
}
