package ops_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// convGolden is ops/testdata/conv.json, written by gen_conv.py from PyTorch.
type convGolden struct {
	Torch string `json:"torch"`
	Conv  []struct {
		Name                      string
		XShape                    []int `json:"x_shape"`
		WShape                    []int `json:"w_shape"`
		YShape                    []int `json:"y_shape"`
		Stride, Padding, Dilation []int
		X, W, B, R, Y, DX, DW, DB []float64
	}
	Pool []struct {
		Name, Kind              string
		XShape                  []int `json:"x_shape"`
		YShape                  []int `json:"y_shape"`
		Kernel, Stride, Padding []int
		X, R, Y, DX             []float64
	}
}

func loadConvGolden(t *testing.T) convGolden {
	t.Helper()
	raw, err := os.ReadFile("testdata/conv.json")
	require.NoError(t, err)
	var g convGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	require.NotEmpty(t, g.Conv)
	require.NotEmpty(t, g.Pool)
	return g
}

func pair(s []int) [2]int {
	if s == nil {
		return [2]int{}
	}
	return [2]int{s[0], s[1]}
}

// fromValues is an initializer returning fixed values.
func fromValues(vals []float64) graph.Initializer {
	return graph.InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
		return dense(dt, append([]float64(nil), vals...), shape...), nil
	})
}

// goldenTol is the absolute tolerance per dtype: float64 differs from
// PyTorch only by summation order; float32 by rounding.
var goldenTol = map[tensor.Dtype]float64{tensor.Float64: 1e-11, tensor.Float32: 2e-4}

// runGolden compiles loss = sum(y ⊙ r), runs it once and returns y and the
// gradients of params.
func runGolden(t *testing.T, b *graph.Builder, y *gorgonia.Node, dt tensor.Dtype, r []float64, params ...*gorgonia.Node) (out []float64, grads [][]float64) {
	t.Helper()
	loss, err := weightedSum(b, y)
	require.NoError(t, err)
	p, err := b.Compile(loss, y)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Run(graph.Feeds{"r": dense(dt, append([]float64(nil), r...), y.Shape()...)}))
	out = asF64(p.Output(0).Data())
	for _, n := range params {
		g, err := n.Grad()
		require.NoError(t, err)
		grads = append(grads, asF64(g.Data()))
	}
	return out, grads
}

func TestConvGolden(t *testing.T) {
	gold := loadConvGolden(t)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, c := range gold.Conv {
			t.Run(dt.String()+"/"+c.Name, func(t *testing.T) {
				b := graph.NewBuilder(1)
				x, _ := b.Param("x", dt, fromValues(c.X), c.XShape...)
				w, _ := b.Param("w", dt, fromValues(c.W), c.WShape...)
				bias, _ := b.Param("b", dt, fromValues(c.B), c.WShape[0])
				y, err := ops.Conv2D(x, w, ops.ConvOptions{Stride: pair(c.Stride), Padding: pair(c.Padding), Dilation: pair(c.Dilation)})
				require.NoError(t, err)
				require.Equal(t, c.YShape, []int(y.Shape()))
				y, err = ops.BiasAdd(y, bias)
				require.NoError(t, err)
				out, g := runGolden(t, b, y, dt, c.R, x, w, bias)
				tol := goldenTol[dt]
				assert.InDeltaSlice(t, c.Y, out, tol, "y")
				assert.InDeltaSlice(t, c.DX, g[0], tol, "dx")
				assert.InDeltaSlice(t, c.DW, g[1], tol, "dw")
				assert.InDeltaSlice(t, c.DB, g[2], tol, "db")
			})
		}
	}
}

func TestPoolGolden(t *testing.T) {
	gold := loadConvGolden(t)
	seen := map[string]bool{}
	pools := map[string]func(*gorgonia.Node, ops.PoolOptions) (*gorgonia.Node, error){"max": ops.MaxPool2D, "avg": ops.AvgPool2D}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, c := range gold.Pool {
			t.Run(dt.String()+"/"+c.Kind+"/"+c.Name, func(t *testing.T) {
				pool, ok := pools[c.Kind]
				require.True(t, ok, "kind %q", c.Kind)
				seen[c.Kind] = true
				b := graph.NewBuilder(1)
				x, _ := b.Param("x", dt, fromValues(c.X), c.XShape...)
				y, err := pool(x, ops.PoolOptions{Kernel: pair(c.Kernel), Stride: pair(c.Stride), Padding: pair(c.Padding)})
				require.NoError(t, err)
				require.Equal(t, c.YShape, []int(y.Shape()))
				out, g := runGolden(t, b, y, dt, c.R, x)
				tol := goldenTol[dt]
				assert.InDeltaSlice(t, c.Y, out, tol, "y")
				assert.InDeltaSlice(t, c.DX, g[0], tol, "dx")
			})
		}
	}
	for k := range pools {
		assert.True(t, seen[k], "no PyTorch golden case for %s pooling", k)
	}
}
