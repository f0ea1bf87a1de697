package ops_test

import (
	"errors"
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

// convCase is one convolution geometry; x is (N, C, H, W), w is (O, C, KH, KW).
type convCase struct {
	name string
	x, w []int
	opt  ops.ConvOptions
}

// convCases cover the shapes the issue lists: stride 2 and 3, padding 0, 1
// and 2, dilation 2, a non-square (3×2) kernel, C = 3, O = 5, H ≠ W, batch 1
// and > 1.
var convCases = []convCase{
	{"plain/n=1", []int{1, 1, 5, 5}, []int{1, 1, 3, 3}, ops.ConvOptions{}},
	{"c3-o5/k3x2/s2/p1/n=2", []int{2, 3, 7, 6}, []int{5, 3, 3, 2}, ops.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{"c3-o5/k2x3/s3/p2/n=2", []int{2, 3, 8, 9}, []int{5, 3, 2, 3}, ops.ConvOptions{Stride: [2]int{3, 3}, Padding: [2]int{2, 2}}},
	{"c3-o5/k3x2/d2/p2x1/n=1", []int{1, 3, 9, 7}, []int{5, 3, 3, 2}, ops.ConvOptions{Padding: [2]int{2, 1}, Dilation: [2]int{2, 2}}},
	{"c2-o5/k3x2/s2x3/p0x2/d2x1/n=3", []int{3, 2, 10, 8}, []int{5, 2, 3, 2}, ops.ConvOptions{Stride: [2]int{2, 3}, Padding: [2]int{0, 2}, Dilation: [2]int{2, 1}}},
	{"c3-o5/k5/p2/n=2", []int{2, 3, 6, 5}, []int{5, 3, 5, 5}, ops.ConvOptions{Padding: [2]int{2, 2}}},
	// C·KH·KW = 150: a column matrix taller than internal/sgemm's row block.
	{"c6-o3/k5/s2x1/p2/n=2", []int{2, 6, 7, 5}, []int{3, 6, 5, 5}, ops.ConvOptions{Stride: [2]int{2, 1}, Padding: [2]int{2, 2}}},
}

// poolCase is one pooling geometry on x (N, C, H, W).
type poolCase struct {
	name string
	x    []int
	opt  ops.PoolOptions
}

var poolCases = []poolCase{
	{"k2/n=1", []int{1, 1, 4, 6}, ops.PoolOptions{Kernel: [2]int{2, 2}}},
	{"k3x2/s2x1/p1/n=2", []int{2, 3, 7, 6}, ops.PoolOptions{Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 1}}},
	{"k3/s3/p1/n=2", []int{2, 3, 8, 7}, ops.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{3, 3}, Padding: [2]int{1, 1}}},
	{"k2x3/s1x2/n=3", []int{3, 2, 5, 9}, ops.PoolOptions{Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}}},
	{"k5/s2/p2/n=1", []int{1, 3, 9, 8}, ops.PoolOptions{Kernel: [2]int{5, 5}, Stride: [2]int{2, 2}, Padding: [2]int{2, 2}}},
}

// checkGradients compiles loss and asserts that every parameter's gradient
// agrees with central differences to 1e-6.
func checkGradients(t *testing.T, b *graph.Builder, loss *gorgonia.Node, feeds graph.Feeds) {
	t.Helper()
	p, err := b.Compile(loss)
	require.NoError(t, err)
	defer p.Close()
	res, err := gradcheck.Check(p, feeds, gradcheck.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, res)
	for _, r := range res {
		assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
	}
}

func TestConvGradients(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			b := graph.NewBuilder(42)
			x, err := b.Param("x", tensor.Float64, randn(1, 0), c.x...)
			require.NoError(t, err)
			w, err := b.Param("w", tensor.Float64, randn(0.5, 0), c.w...)
			require.NoError(t, err)
			bias, err := b.Param("bias", tensor.Float64, randn(1, 0), c.w[0])
			require.NoError(t, err)
			y, err := ops.Conv2D(x, w, c.opt)
			require.NoError(t, err)
			want, err := ops.ConvOutputShape(c.x, c.w, c.opt)
			require.NoError(t, err)
			require.Equal(t, want, []int(y.Shape()))
			y, err = ops.BiasAdd(y, bias)
			require.NoError(t, err)
			loss, err := weightedSum(b, y)
			require.NoError(t, err)
			checkGradients(t, b, loss, graph.Feeds{"r": randTensor(7, want...)})
		})
	}
}

func TestPoolGradients(t *testing.T) {
	pools := map[string]func(*gorgonia.Node, ops.PoolOptions) (*gorgonia.Node, error){
		"MaxPool2D": ops.MaxPool2D, "AvgPool2D": ops.AvgPool2D,
	}
	for name, pool := range pools {
		for _, c := range poolCases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				b := graph.NewBuilder(42)
				x, err := b.Param("x", tensor.Float64, randn(1, 0), c.x...)
				require.NoError(t, err)
				y, err := pool(x, c.opt)
				require.NoError(t, err)
				want, err := ops.PoolOutputShape(c.x, c.opt)
				require.NoError(t, err)
				require.Equal(t, want, []int(y.Shape()))
				loss, err := weightedSum(b, y)
				require.NoError(t, err)
				checkGradients(t, b, loss, graph.Feeds{"r": randTensor(7, want...)})
			})
		}
	}
}

// TestConvPoolFlattenGradients checks a small CNN's chain: conv, bias,
// ReLU, max pool, flatten, dense.
func TestConvPoolFlattenGradients(t *testing.T) {
	b := graph.NewBuilder(3)
	x, _ := b.Param("x", tensor.Float64, randn(1, 0), 2, 3, 8, 7)
	w, _ := b.Param("w", tensor.Float64, randn(0.5, 0), 4, 3, 3, 3)
	bias, _ := b.Param("bias", tensor.Float64, randn(1, 0), 4)
	h, err := ops.Conv2D(x, w, ops.ConvOptions{Padding: [2]int{1, 1}})
	require.NoError(t, err)
	h, err = ops.BiasAdd(h, bias)
	require.NoError(t, err)
	h, err = ops.AvgPool2D(h, ops.PoolOptions{Kernel: [2]int{2, 2}})
	require.NoError(t, err)
	h, err = ops.MaxPool2D(h, ops.PoolOptions{Kernel: [2]int{2, 1}, Stride: [2]int{1, 1}})
	require.NoError(t, err)
	h, err = ops.Flatten(h)
	require.NoError(t, err)
	require.Equal(t, []int{2, 4 * 3 * 3}, []int(h.Shape()))
	wd, _ := b.Param("wd", tensor.Float64, randn(0.3, 0), 36, 3)
	h, err = ops.MatMul(h, wd)
	require.NoError(t, err)
	loss, err := weightedSum(b, h)
	require.NoError(t, err)
	checkGradients(t, b, loss, graph.Feeds{"r": randTensor(7, 2, 3)})
}

func TestConvPoolErrors(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Param("x", tensor.Float64, randn(1, 0), 2, 3, 8, 7)
	x32, _ := b.Param("x32", tensor.Float32, randn(1, 0), 2, 3, 8, 7)
	m, _ := b.Param("m", tensor.Float64, randn(1, 0), 8, 7)
	w, _ := b.Param("w", tensor.Float64, randn(1, 0), 5, 3, 3, 3)
	w4, _ := b.Param("w4", tensor.Float64, randn(1, 0), 5, 4, 3, 3)
	big, _ := b.Param("big", tensor.Float64, randn(1, 0), 5, 3, 9, 3)
	v, _ := b.Param("v", tensor.Float64, randn(1, 0), 4)
	yi, _ := b.Input("yi", tensor.Int, 2, 3, 8, 7)
	conv := func(x, w *gorgonia.Node, o ops.ConvOptions) func() (*gorgonia.Node, error) {
		return func() (*gorgonia.Node, error) { return ops.Conv2D(x, w, o) }
	}
	maxp := func(x *gorgonia.Node, o ops.PoolOptions) func() (*gorgonia.Node, error) {
		return func() (*gorgonia.Node, error) { return ops.MaxPool2D(x, o) }
	}
	avgp := func(x *gorgonia.Node, o ops.PoolOptions) func() (*gorgonia.Node, error) {
		return func() (*gorgonia.Node, error) { return ops.AvgPool2D(x, o) }
	}
	k2 := [2]int{2, 2}
	cases := []struct {
		name  string
		build func() (*gorgonia.Node, error)
		err   error
		says  []string
	}{
		{"conv/x-rank", conv(m, w, ops.ConvOptions{}), ops.ErrShape, []string{"Conv2D", "x", "(8, 7)", "4-D"}},
		{"conv/w-rank", conv(x, v, ops.ConvOptions{}), ops.ErrShape, []string{"Conv2D", "w", "(4)", "4-D"}},
		{"conv/channels", conv(x, w4, ops.ConvOptions{}), ops.ErrShape, []string{"Conv2D", "channels", "C = 3", "C = 4"}},
		{"conv/dtype", conv(x32, w, ops.ConvOptions{}), ops.ErrDtype, []string{"Conv2D", "float32", "float64"}},
		{"conv/int", conv(yi, w, ops.ConvOptions{}), ops.ErrDtype, []string{"Conv2D", "int"}},
		{"conv/nil", conv(nil, w, ops.ConvOptions{}), ops.ErrBuild, []string{"Conv2D", "x is nil"}},
		{"conv/stride", conv(x, w, ops.ConvOptions{Stride: [2]int{1, -2}}), ops.ErrConfig, []string{"Conv2D", "Stride[1]", "= -2", "want ≥ 1"}},
		{"conv/dilation", conv(x, w, ops.ConvOptions{Dilation: [2]int{-1, 1}}), ops.ErrConfig, []string{"Conv2D", "Dilation[0]", "= -1", "want ≥ 1"}},
		{"conv/padding", conv(x, w, ops.ConvOptions{Padding: [2]int{0, -1}}), ops.ErrConfig, []string{"Conv2D", "Padding[1]", "= -1", "want ≥ 0"}},
		{"conv/kernel-too-big", conv(x, big, ops.ConvOptions{}), ops.ErrShape, []string{"Conv2D", "kernel height 9", "padded input height 8 + 2·0"}},
		{"conv/dilated-too-big", conv(x, w, ops.ConvOptions{Dilation: [2]int{1, 4}}), ops.ErrShape, []string{"Conv2D", "kernel width 9", "width 7"}},
		{"max/rank", maxp(m, ops.PoolOptions{Kernel: k2}), ops.ErrShape, []string{"MaxPool2D", "(8, 7)", "4-D"}},
		{"max/kernel-zero", maxp(x, ops.PoolOptions{}), ops.ErrConfig, []string{"MaxPool2D", "Kernel[0]", "= 0", "want ≥ 1"}},
		{"max/kernel-neg", maxp(x, ops.PoolOptions{Kernel: [2]int{2, -3}}), ops.ErrConfig, []string{"MaxPool2D", "Kernel[1]", "= -3"}},
		{"max/stride-neg", maxp(x, ops.PoolOptions{Kernel: k2, Stride: [2]int{-1, 0}}), ops.ErrConfig, []string{"MaxPool2D", "Stride[0]", "= -1"}},
		{"max/padding-big", maxp(x, ops.PoolOptions{Kernel: [2]int{3, 3}, Padding: [2]int{2, 1}}), ops.ErrConfig, []string{"MaxPool2D", "Padding[0]", "= 2", "≤ Kernel[0]/2 = 1"}},
		{"max/kernel-too-big", maxp(x, ops.PoolOptions{Kernel: [2]int{3, 8}}), ops.ErrShape, []string{"MaxPool2D", "kernel width 8", "width 7"}},
		{"avg/int", avgp(yi, ops.PoolOptions{Kernel: k2}), ops.ErrDtype, []string{"AvgPool2D", "int"}},
		{"avg/padding-neg", avgp(x, ops.PoolOptions{Kernel: k2, Padding: [2]int{-1, 0}}), ops.ErrConfig, []string{"AvgPool2D", "Padding[0]", "= -1"}},
		{"flatten/rank", func() (*gorgonia.Node, error) { return ops.Flatten(v) }, ops.ErrShape, []string{"Flatten", "(4)"}},
		{"bias/channels", func() (*gorgonia.Node, error) { return ops.BiasAdd(x, v) }, ops.ErrShape, []string{"BiasAdd", "(2, 3, 8, 7)", "(4)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n *gorgonia.Node
			var err error
			require.NotPanics(t, func() { n, err = c.build() })
			assert.Nil(t, n)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.err), "%v is not %v", err, c.err)
			for _, s := range c.says {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
	_, err := ops.ConvOutputShape([]int{1, 3, 4, 4}, []int{2, 3, 5, 5}, ops.ConvOptions{})
	assert.ErrorIs(t, err, ops.ErrShape)
	_, err = ops.PoolOutputShape([]int{1, 3, 4}, ops.PoolOptions{Kernel: k2})
	assert.ErrorIs(t, err, ops.ErrShape)
}

// TestOutputShapes pins the output-size formulas on hand-computed cases.
func TestOutputShapes(t *testing.T) {
	s, err := ops.ConvOutputShape([]int{128, 1, 28, 28}, []int{16, 1, 5, 5}, ops.ConvOptions{Padding: [2]int{2, 2}})
	require.NoError(t, err)
	assert.Equal(t, []int{128, 16, 28, 28}, s)
	// (9 + 2·2 − 2·(3−1) − 1)/3 + 1 = 3; (7 + 0 − 1·(2−1) − 1)/2 + 1 = 3
	s, err = ops.ConvOutputShape([]int{1, 3, 9, 7}, []int{5, 3, 3, 2}, ops.ConvOptions{Stride: [2]int{3, 2}, Padding: [2]int{2, 0}, Dilation: [2]int{2, 1}})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 5, 3, 3}, s)
	s, err = ops.PoolOutputShape([]int{2, 16, 28, 28}, ops.PoolOptions{Kernel: [2]int{2, 2}})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 16, 14, 14}, s)
	// (7 + 2 − 3)/2 + 1 = 4; (6 + 2 − 2)/1 + 1 = 7
	s, err = ops.PoolOutputShape([]int{2, 3, 7, 6}, ops.PoolOptions{Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 1}})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3, 4, 7}, s)
	s, err = ops.FlattenOutputShape([]int{2, 3, 4, 7})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 84}, s)
}

// TestConvFloat32MatchesFloat64 runs the same network in both dtypes: one
// generic kernel, so the float32 results are the float64 ones rounded.
func TestConvFloat32MatchesFloat64(t *testing.T) {
	out := map[tensor.Dtype][]float64{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		b := graph.NewBuilder(5)
		x, _ := b.Param("x", dt, randn(1, 0), 3, 3, 9, 8)
		w, _ := b.Param("w", dt, randn(0.3, 0), 5, 3, 3, 2)
		h, err := ops.Conv2D(x, w, ops.ConvOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 2}})
		require.NoError(t, err)
		h, err = ops.MaxPool2D(h, ops.PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{1, 2}})
		require.NoError(t, err)
		h, err = ops.AvgPool2D(h, ops.PoolOptions{Kernel: [2]int{2, 2}, Padding: [2]int{1, 1}})
		require.NoError(t, err)
		loss, err := weightedSum(b, h)
		require.NoError(t, err)
		p, err := b.Compile(loss)
		require.NoError(t, err)
		require.NoError(t, p.Run(graph.Feeds{"r": dense(dt, f64s(randTensor(9, h.Shape()...)), h.Shape()...)}))
		vals := []float64{p.Loss()}
		for _, n := range []*gorgonia.Node{x, w} {
			g, err := n.Grad()
			require.NoError(t, err)
			vals = append(vals, asF64(g.Data())...)
		}
		out[dt] = vals
		p.Close()
	}
	assert.InDeltaSlice(t, out[tensor.Float64], out[tensor.Float32], 1e-4)
}

func asF64(d any) []float64 {
	switch v := d.(type) {
	case []float64:
		return append([]float64(nil), v...)
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	panic(fmt.Sprintf("asF64: %T", d))
}
