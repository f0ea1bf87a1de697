package ops_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// lossGolden is ops/testdata/loss.json, written by gen_loss.py from PyTorch.
type lossGolden struct {
	Torch string `json:"torch"`
	Xent  []struct {
		Name        string
		Shape       []int
		Smoothing   float64
		Ignore      bool
		IgnoreIndex int `json:"ignore_index"`
		Logits      []float64
		Labels      []int
		R, Loss     float64
		DLogits     []float64 `json:"dlogits"`
	}
	Pointwise []struct {
		Name    string
		LossFn  string `json:"loss_fn"`
		Shape   []int
		Delta   float64
		X, T    []float64
		R, Loss float64
		DX, DT  []float64
	}
}

func loadLossGolden(t *testing.T) lossGolden {
	t.Helper()
	raw, err := os.ReadFile("testdata/loss.json")
	require.NoError(t, err)
	var g lossGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	require.NotEmpty(t, g.Xent)
	require.NotEmpty(t, g.Pointwise)
	return g
}

// pointLosses are the pointwise losses by the golden file's names.
var pointLosses = map[string]func(x, t *gorgonia.Node, delta float64) (*gorgonia.Node, error){
	"bce": func(x, t *gorgonia.Node, _ float64) (*gorgonia.Node, error) {
		return ops.BinaryCrossEntropyWithLogits(x, t)
	},
	"mse":   func(x, t *gorgonia.Node, _ float64) (*gorgonia.Node, error) { return ops.MSE(x, t) },
	"l1":    func(x, t *gorgonia.Node, _ float64) (*gorgonia.Node, error) { return ops.L1(x, t) },
	"huber": ops.Huber,
}

// xentLoss builds plain SoftmaxCrossEntropy for the zero options (the path
// every existing model takes) and SoftmaxCrossEntropyWith otherwise.
func xentLoss(z, y *gorgonia.Node, opt ops.XentOptions) (*gorgonia.Node, error) {
	if opt == (ops.XentOptions{}) {
		return ops.SoftmaxCrossEntropy(z, y)
	}
	return ops.SoftmaxCrossEntropyWith(z, y, opt)
}

func intTensor(vals []int, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]int(nil), vals...)))
}

// scaledRun compiles r·loss, runs it once and returns the loss and the
// gradients of params: the loss ops then see an upstream gradient r ≠ 1.
func scaledRun(t *testing.T, b *graph.Builder, loss *gorgonia.Node, r float64, feeds graph.Feeds, params ...*gorgonia.Node) (float64, [][]float64) {
	t.Helper()
	require.True(t, loss.IsScalar(), "the loss is %v", loss.Shape())
	var c *gorgonia.Node
	if loss.Dtype() == tensor.Float32 {
		c = gorgonia.NewConstant(float32(r))
	} else {
		c = gorgonia.NewConstant(r)
	}
	scaled, err := gorgonia.Mul(loss, c)
	require.NoError(t, err)
	p, err := b.Compile(scaled)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Run(feeds))
	var grads [][]float64
	for _, n := range params {
		g, err := n.Grad()
		require.NoError(t, err)
		grads = append(grads, asF64(g.Data()))
	}
	return scalarOf(t, loss.Value()), grads
}

func scalarOf(t *testing.T, v gorgonia.Value) float64 {
	t.Helper()
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	t.Fatalf("not a float scalar: %v", v)
	return 0
}

// assertClose checks |got − want| ≤ tol·max(1, |want|) elementwise.
func assertClose(t *testing.T, want, got []float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*max(1, math.Abs(want[i]))) {
			t.Errorf("%s[%d] = %.17g, want %.17g (diff %.3g, tol %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// lossTol is the relative tolerance per dtype against PyTorch's float64:
// float64 differs by summation order only; float32 by the rounding of the
// inputs and of the gradients.
var lossTol = map[tensor.Dtype]float64{tensor.Float64: 1e-12, tensor.Float32: 2e-6}

func TestLossGolden(t *testing.T) {
	gold := loadLossGolden(t)
	seen := map[string]bool{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := lossTol[dt]
		for _, c := range gold.Xent {
			t.Run(dt.String()+"/xent/"+c.Name, func(t *testing.T) {
				opt := ops.XentOptions{LabelSmoothing: c.Smoothing, Ignore: c.Ignore, IgnoreIndex: c.IgnoreIndex}
				if !c.Ignore {
					opt.IgnoreIndex = 0
				}
				seen[fmt.Sprintf("xent/smoothing=%v/ignore=%v", c.Smoothing > 0, c.Ignore)] = true
				seen[fmt.Sprintf("xent/rank=%d", len(c.Shape))] = true
				b := graph.NewBuilder(1)
				z, err := b.Param("z", dt, fromValues(c.Logits), c.Shape...)
				require.NoError(t, err)
				ys := c.Shape[:len(c.Shape)-1]
				y, err := b.Input("y", tensor.Int, ys...)
				require.NoError(t, err)
				loss, err := xentLoss(z, y, opt)
				require.NoError(t, err)
				assert.Equal(t, dt, loss.Dtype())
				l, g := scaledRun(t, b, loss, c.R, graph.Feeds{"y": intTensor(c.Labels, ys...)}, z)
				assertClose(t, []float64{c.Loss}, []float64{l}, tol, "loss")
				assertClose(t, c.DLogits, g[0], tol, "dlogits")
			})
		}
		for _, c := range gold.Pointwise {
			t.Run(dt.String()+"/"+c.Name, func(t *testing.T) {
				fn, ok := pointLosses[c.LossFn]
				require.True(t, ok, "loss %q", c.LossFn)
				seen[c.LossFn] = true
				b := graph.NewBuilder(1)
				x, err := b.Param("x", dt, fromValues(c.X), c.Shape...)
				require.NoError(t, err)
				tg, err := b.Param("t", dt, fromValues(c.T), c.Shape...)
				require.NoError(t, err)
				loss, err := fn(x, tg, c.Delta)
				require.NoError(t, err)
				assert.Equal(t, dt, loss.Dtype())
				l, g := scaledRun(t, b, loss, c.R, nil, x, tg)
				// BCE's large case has a loss of ~50 from logits of ±800
				// whose float32 rounding is exact; elsewhere |loss| < 10.
				assertClose(t, []float64{c.Loss}, []float64{l}, tol, "loss")
				assertClose(t, c.DX, g[0], tol, "dx")
				assertClose(t, c.DT, g[1], tol, "dt")
			})
		}
	}
	for k := range pointLosses {
		assert.True(t, seen[k], "no PyTorch golden case for %s", k)
	}
	for _, k := range []string{"xent/smoothing=false/ignore=false", "xent/smoothing=true/ignore=false",
		"xent/smoothing=false/ignore=true", "xent/smoothing=true/ignore=true", "xent/rank=2", "xent/rank=3", "xent/rank=4"} {
		assert.True(t, seen[k], "no PyTorch golden case for %s", k)
	}
}

// fill returns n values drawn by f from a seeded generator.
func fill(seed uint64, n int, f func(r *rand.Rand) float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 3))
	v := make([]float64, n)
	for i := range v {
		v[i] = f(r)
	}
	return v
}

func size(shape []int) int { return tensor.Shape(shape).TotalSize() }

// awayFrom returns values x + d with |d| ≥ gap from every kink k (|d| = k):
// finite differences across a kink measure a one-sided slope.
func awayFrom(seed uint64, x []float64, gap float64, kinks ...float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 4))
	t := make([]float64, len(x))
	for i := range x {
		for {
			d := 3 * r.NormFloat64()
			ok := true
			for _, k := range kinks {
				ok = ok && math.Abs(math.Abs(d)-k) >= gap
			}
			if ok {
				t[i] = x[i] - d
				break
			}
		}
	}
	return t
}

func TestLossGradients(t *testing.T) {
	type xentCase struct {
		shape  []int
		opt    ops.XentOptions
		ignore []int // flat positions given the ignored label
	}
	xents := map[string]xentCase{
		"n=1/v=5":                         {shape: []int{1, 5}},
		"n=4/v=2":                         {shape: []int{4, 2}},
		"n=3/t=4/v=5":                     {shape: []int{3, 4, 5}},
		"smooth=0.1/n=5/v=3":              {shape: []int{5, 3}, opt: ops.XentOptions{LabelSmoothing: 0.1}},
		"smooth=0.25/n=2/t=3/v=2":         {shape: []int{2, 3, 2}, opt: ops.XentOptions{LabelSmoothing: 0.25}},
		"ignore=-100/n=2/t=5/v=4":         {shape: []int{2, 5, 4}, opt: ops.XentOptions{Ignore: true, IgnoreIndex: -100}, ignore: []int{1, 7, 8}},
		"ignore=0/smooth=0.1/n=3/t=3/v=4": {shape: []int{3, 3, 4}, opt: ops.XentOptions{LabelSmoothing: 0.1, Ignore: true}, ignore: []int{0, 4}},
		"ignore=-1/n=1/t=2/s=2/v=3":       {shape: []int{1, 2, 2, 3}, opt: ops.XentOptions{Ignore: true, IgnoreIndex: -1}, ignore: []int{2}},
	}
	for name, c := range xents {
		t.Run("xent/"+name, func(t *testing.T) {
			b := graph.NewBuilder(5)
			z, err := b.Param("z", tensor.Float64, randn(2, 0), c.shape...)
			require.NoError(t, err)
			ys := c.shape[:len(c.shape)-1]
			y, err := b.Input("y", tensor.Int, ys...)
			require.NoError(t, err)
			loss, err := xentLoss(z, y, c.opt)
			require.NoError(t, err)
			v := c.shape[len(c.shape)-1]
			labels := make([]int, size(ys))
			for i := range labels {
				labels[i] = (i*7 + 1) % v
			}
			for _, i := range c.ignore {
				labels[i] = c.opt.IgnoreIndex
			}
			checkLossGradients(t, b, loss, graph.Feeds{"y": intTensor(labels, ys...)})
		})
	}

	type pointCase struct {
		loss  string
		shape []int
		delta float64
	}
	points := map[string]pointCase{
		"bce/n=3/k=4":                 {"bce", []int{3, 4}, 0},
		"bce/n=1/k=1":                 {"bce", []int{1, 1}, 0},
		"bce/n=2/t=3/k=2":             {"bce", []int{2, 3, 2}, 0},
		"mse/n=5/k=3":                 {"mse", []int{5, 3}, 0},
		"mse/n=1":                     {"mse", []int{1}, 0},
		"mse/n=2/t=2/k=3":             {"mse", []int{2, 2, 3}, 0},
		"l1/n=4/k=3":                  {"l1", []int{4, 3}, 0},
		"l1/n=1/t=3/k=2":              {"l1", []int{1, 3, 2}, 0},
		"huber/delta=1/n=6/k=4":       {"huber", []int{6, 4}, 1},
		"huber/delta=0.3/n=3/t=2/k=3": {"huber", []int{3, 2, 3}, 0.3},
		"huber/delta=2.5/n=1/k=7":     {"huber", []int{1, 7}, 2.5},
	}
	for name, c := range points {
		t.Run(name, func(t *testing.T) {
			n := size(c.shape)
			xv := fill(11, n, func(r *rand.Rand) float64 { return 2 * r.NormFloat64() })
			var tv []float64
			switch c.loss {
			case "bce":
				tv = fill(12, n, func(r *rand.Rand) float64 { return 0.05 + 0.9*r.Float64() })
			case "mse":
				tv = fill(12, n, func(r *rand.Rand) float64 { return 2 * r.NormFloat64() })
			default: // kinks at d = 0 and at |d| = delta
				tv = awayFrom(12, xv, 1e-3, 0, c.delta)
			}
			if c.loss == "huber" {
				inside := 0
				for i := range xv {
					if math.Abs(xv[i]-tv[i]) < c.delta {
						inside++
					}
				}
				require.True(t, inside > 0 && inside < n, "%d of %d elements inside delta: both sides must be checked", inside, n)
			}
			b := graph.NewBuilder(5)
			x, err := b.Param("x", tensor.Float64, fromValues(xv), c.shape...)
			require.NoError(t, err)
			tg, err := b.Param("t", tensor.Float64, fromValues(tv), c.shape...)
			require.NoError(t, err)
			loss, err := pointLosses[c.loss](x, tg, c.delta)
			require.NoError(t, err)
			checkLossGradients(t, b, loss, nil)
		})
	}
}

func checkLossGradients(t *testing.T, b *graph.Builder, loss *gorgonia.Node, feeds graph.Feeds) {
	t.Helper()
	p, err := b.Compile(loss)
	require.NoError(t, err)
	defer p.Close()
	res, err := gradcheck.Check(p, feeds, gradcheck.Options{})
	require.NoError(t, err)
	require.Len(t, res, len(p.Params()))
	for _, r := range res {
		assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
	}
}

// Today's formulas, copied from ops/xent.go as it was before options
// existed (commit 05a257e): SoftmaxCrossEntropy on (batch, classes) must
// still compute these bits.
func refXentLoss[T interface{ ~float32 | ~float64 }](z []T, labels []int, k int) float64 {
	var sum float64
	for i, y := range labels {
		row := z[i*k : (i+1)*k]
		sum += refLogSumExp(row) - float64(row[y])
	}
	return sum / float64(len(labels))
}

func refLogSumExp[T interface{ ~float32 | ~float64 }](row []T) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

func refXentGrad[T interface{ ~float32 | ~float64 }](dz, z []T, labels []int, k int, g float64) {
	scale := g / float64(len(labels))
	for i, y := range labels {
		row, out := z[i*k:(i+1)*k], dz[i*k:(i+1)*k]
		lse := refLogSumExp(row)
		for j, v := range row {
			p := math.Exp(float64(v) - lse)
			if j == y {
				p--
			}
			out[j] = T(scale * p)
		}
	}
}

func TestSoftmaxCrossEntropyBitIdentical(t *testing.T) {
	shapes := [][2]int{{1, 2}, {3, 10}, {17, 7}, {64, 10}, {5, 1}}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for si, s := range shapes {
			for _, kind := range []string{"normal", "extreme"} {
				t.Run(fmt.Sprintf("%v/%s/%dx%d", dt, kind, s[0], s[1]), func(t *testing.T) {
					n, k := s[0], s[1]
					seed := uint64(100*si + len(kind))
					zv := fill(seed, n*k, func(r *rand.Rand) float64 {
						if kind == "extreme" {
							// ±1000 and −Inf logits: a 0·(−Inf) term
							// anywhere would turn a loss into NaN.
							return [...]float64{1000, -1000, math.Inf(-1), 999.5, 0, 30 * r.NormFloat64()}[r.IntN(6)]
						}
						return 4 * r.NormFloat64()
					})
					r := rand.New(rand.NewPCG(seed, 9))
					labels := make([]int, n)
					for i := range labels {
						labels[i] = r.IntN(k)
					}
					g := 0.25 + r.Float64()
					b := graph.NewBuilder(1)
					z, err := b.Param("z", dt, fromValues(zv), n, k)
					require.NoError(t, err)
					y, err := b.Input("y", tensor.Int, n)
					require.NoError(t, err)
					loss, err := ops.SoftmaxCrossEntropy(z, y)
					require.NoError(t, err)
					l, grads := scaledRun(t, b, loss, g, graph.Feeds{"y": intTensor(labels, n)}, z)
					var wantL float64
					var wantG []float64
					if dt == tensor.Float64 {
						wantL = refXentLoss(zv, labels, k)
						wantG = make([]float64, n*k)
						refXentGrad(wantG, zv, labels, k, g)
					} else {
						z32 := make([]float32, len(zv))
						for i, v := range zv {
							z32[i] = float32(v)
						}
						wantL = float64(float32(refXentLoss(z32, labels, k)))
						dz := make([]float32, n*k)
						refXentGrad(dz, z32, labels, k, float64(float32(g)))
						wantG = asF64(dz)
					}
					assert.Equal(t, math.Float64bits(wantL), math.Float64bits(l), "loss %v, want %v", l, wantL)
					require.Len(t, grads[0], len(wantG))
					for i := range wantG {
						if math.Float64bits(wantG[i]) != math.Float64bits(grads[0][i]) {
							t.Errorf("dz[%d] = %v, want %v", i, grads[0][i], wantG[i])
						}
					}
				})
			}
		}
	}
}

func TestSoftmaxCrossEntropyAllIgnored(t *testing.T) {
	for _, eps := range []float64{0, 0.1} {
		t.Run(fmt.Sprintf("smoothing=%v", eps), func(t *testing.T) {
			b := graph.NewBuilder(1)
			z, _ := b.Param("z", tensor.Float64, randn(1, 0), 2, 3, 4)
			y, _ := b.Input("y", tensor.Int, 2, 3)
			loss, err := ops.SoftmaxCrossEntropyWith(z, y, ops.XentOptions{LabelSmoothing: eps, Ignore: true, IgnoreIndex: -100})
			require.NoError(t, err)
			// torch gives NaN here (0/0); gradlab gives 0 and a zero gradient.
			l, g := scaledRun(t, b, loss, 1.5, graph.Feeds{"y": intTensor([]int{-100, -100, -100, -100, -100, -100}, 2, 3)}, z)
			assert.Equal(t, 0.0, l)
			assert.Equal(t, make([]float64, 24), g[0])
		})
	}
}

// TestSoftmaxCrossEntropyIgnoredRows checks that ignored positions neither
// add to the loss nor count in the mean, and that their logits get no
// gradient: the loss equals the plain loss over the kept rows alone, even
// when an ignored row holds logits that would overflow.
func TestSoftmaxCrossEntropyIgnoredRows(t *testing.T) {
	zv := fill(3, 4*3, func(r *rand.Rand) float64 { return r.NormFloat64() })
	zv[3], zv[4], zv[5] = math.Inf(1), math.NaN(), -1e308 // row 1, ignored
	labels := []int{2, 7, 0, 1}
	kept := append(append([]float64(nil), zv[:3]...), zv[6:]...)

	b := graph.NewBuilder(1)
	z, _ := b.Param("z", tensor.Float64, fromValues(zv), 2, 2, 3)
	y, _ := b.Input("y", tensor.Int, 2, 2)
	loss, err := ops.SoftmaxCrossEntropyWith(z, y, ops.XentOptions{Ignore: true, IgnoreIndex: 7})
	require.NoError(t, err)
	l, g := scaledRun(t, b, loss, 1, graph.Feeds{"y": intTensor(labels, 2, 2)}, z)

	b2 := graph.NewBuilder(1)
	z2, _ := b2.Param("z", tensor.Float64, fromValues(kept), 3, 3)
	y2, _ := b2.Input("y", tensor.Int, 3)
	loss2, err := ops.SoftmaxCrossEntropy(z2, y2)
	require.NoError(t, err)
	l2, g2 := scaledRun(t, b2, loss2, 1, graph.Feeds{"y": intTensor([]int{2, 0, 1}, 3)}, z2)

	assert.Equal(t, l2, l)
	assert.Equal(t, g2[0][:3], g[0][:3])
	assert.Equal(t, []float64{0, 0, 0}, g[0][3:6])
	assert.Equal(t, g2[0][3:], g[0][6:])
}

func TestSoftmaxCrossEntropyLabelErrors(t *testing.T) {
	cases := []struct {
		name   string
		shape  []int
		opt    ops.XentOptions
		labels []int
		says   string
	}{
		{"rank3/too-large", []int{2, 3, 4}, ops.XentOptions{}, []int{0, 1, 2, 3, 4, 0}, "label 4 at row 4 (labels[1, 1] of (2, 3)) is outside [0, 4)"},
		{"rank2/negative", []int{3, 4}, ops.XentOptions{}, []int{0, -1, 2}, "label -1 at row 1 is outside [0, 4)"},
		{"ignore-index-without-ignore", []int{2, 4}, ops.XentOptions{IgnoreIndex: -100}, []int{-100, 1}, "label -100 at row 0"},
		{"other-label-with-ignore", []int{2, 4}, ops.XentOptions{Ignore: true, IgnoreIndex: -100}, []int{-100, -1}, "label -1 at row 1"},
		{"smoothing", []int{1, 2, 4}, ops.XentOptions{LabelSmoothing: 0.1}, []int{1, 9}, "label 9 at row 1 (labels[0, 1] of (1, 2))"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := graph.NewBuilder(1)
			z, _ := b.Param("z", tensor.Float64, randn(1, 0), c.shape...)
			ys := c.shape[:len(c.shape)-1]
			y, _ := b.Input("y", tensor.Int, ys...)
			loss, err := ops.SoftmaxCrossEntropyWith(z, y, c.opt)
			require.NoError(t, err)
			p, err := b.Compile(loss)
			require.NoError(t, err)
			defer p.Close()
			yv := intTensor(c.labels, ys...)
			err = p.Run(graph.Feeds{"y": yv})
			require.Error(t, err)
			assert.ErrorIs(t, err, graph.ErrRun)
			assert.Contains(t, err.Error(), "SoftmaxCrossEntropy")
			assert.Contains(t, err.Error(), c.says)
			// Gorgonia's tape machine flattens the chain (its error type
			// has no Unwrap), so ErrLabel is checked on the ops themselves.
			zv := randTensor(1, c.shape...)
			_, err = loss.Op().Do(zv, yv)
			assert.ErrorIs(t, err, ops.ErrLabel)
			assert.Contains(t, err.Error(), "SoftmaxCrossEntropy: "+c.says)
			_, err = gradOp(t, loss, z, y).Do(zv, yv, gorgonia.NewF64(1))
			assert.ErrorIs(t, err, ops.ErrLabel)
			assert.Contains(t, err.Error(), "SoftmaxCrossEntropyGrad: "+c.says)
		})
	}
	t.Run("ignored-label-is-not-checked", func(t *testing.T) {
		b := graph.NewBuilder(1)
		z, _ := b.Param("z", tensor.Float64, randn(1, 0), 2, 4)
		y, _ := b.Input("y", tensor.Int, 2)
		loss, err := ops.SoftmaxCrossEntropyWith(z, y, ops.XentOptions{Ignore: true, IgnoreIndex: -100})
		require.NoError(t, err)
		p, err := b.Compile(loss)
		require.NoError(t, err)
		defer p.Close()
		require.NoError(t, p.Run(graph.Feeds{"y": intTensor([]int{-100, 3}, 2)}))
		assert.False(t, math.IsNaN(p.Loss()) || p.Loss() <= 0, "loss %v", p.Loss())
	})
}

func TestLossBuildErrors(t *testing.T) {
	b := graph.NewBuilder(1)
	z, _ := b.Param("z", tensor.Float64, randn(1, 0), 2, 3, 4)
	z2, _ := b.Param("z2", tensor.Float64, randn(1, 0), 2, 3)
	z32, _ := b.Param("z32", tensor.Float32, randn(1, 0), 2, 3)
	v, _ := b.Param("v", tensor.Float64, randn(1, 0), 6)
	v1, _ := b.Param("v1", tensor.Float64, randn(1, 0), 6, 1)
	zi, _ := b.Input("zi", tensor.Int, 2, 3)
	y, _ := b.Input("y", tensor.Int, 2, 3)
	y2, _ := b.Input("y2", tensor.Int, 3, 2)
	yb, _ := b.Input("yb", tensor.Int, 2)
	yf, _ := b.Input("yf", tensor.Float64, 2, 3)
	s, _ := b.Input("s", tensor.Float64)
	with := func(eps float64) ops.XentOptions { return ops.XentOptions{LabelSmoothing: eps} }
	cases := []struct {
		name  string
		build func() (*gorgonia.Node, error)
		err   error
		says  []string
	}{
		{"xent/nil-logits", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(nil, y) }, ops.ErrBuild, []string{"SoftmaxCrossEntropy", "logits", "nil"}},
		{"xent/nil-labels", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropyWith(z, nil, ops.XentOptions{}) }, ops.ErrBuild, []string{"SoftmaxCrossEntropyWith", "labels", "nil"}},
		{"xent/int-logits", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(zi, yb) }, ops.ErrDtype, []string{"SoftmaxCrossEntropy", "logits", "int", "want float32 or float64"}},
		{"xent/float-labels", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(z, yf) }, ops.ErrDtype, []string{"SoftmaxCrossEntropy", "labels", "float64", "want int"}},
		{"xent/rank1-logits", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(v, yb) }, ops.ErrShape, []string{"SoftmaxCrossEntropy", "logits (6)", "k ≥ 1"}},
		{"xent/ntv-labels-transposed", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(z, y2) }, ops.ErrShape, []string{"logits (2, 3, 4)", "labels (3, 2)", "want labels of the logits' shape without its last dimension, (2, 3)"}},
		{"xent/ntv-labels-flat", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(z, yb) }, ops.ErrShape, []string{"(2, 3, 4)", "labels (2)", "(2, 3)"}},
		{"xent/2d-labels-rank2", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(z2, y) }, ops.ErrShape, []string{"(2, 3)", "want labels of the logits' shape without its last dimension, (2)"}},
		{"xent/smoothing<0", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropyWith(z, y, with(-0.1)) }, ops.ErrConfig, []string{"SoftmaxCrossEntropyWith", "LabelSmoothing", "-0.1", "[0, 1)"}},
		{"xent/smoothing=1", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropyWith(z, y, with(1)) }, ops.ErrConfig, []string{"LabelSmoothing is 1", "[0, 1)"}},
		{"xent/smoothing=NaN", func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropyWith(z, y, with(math.NaN())) }, ops.ErrConfig, []string{"LabelSmoothing is NaN"}},
		{"bce/nil-logits", func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(nil, z2) }, ops.ErrBuild, []string{"BinaryCrossEntropyWithLogits", "logits is nil"}},
		{"bce/nil-targets", func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(z2, nil) }, ops.ErrBuild, []string{"BinaryCrossEntropyWithLogits", "targets is nil"}},
		{"bce/int-targets", func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(z2, y) }, ops.ErrDtype, []string{"BinaryCrossEntropyWithLogits", "targets (2, 3)", "int", "want float32 or float64"}},
		{"bce/int-logits", func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(zi, z2) }, ops.ErrDtype, []string{"logits (2, 3)", "int"}},
		{"bce/dtypes", func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(z2, z32) }, ops.ErrDtype, []string{"logits (2, 3) is float64 and targets (2, 3) is float32, want one dtype"}},
		{"bce/shape", func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(z, z2) }, ops.ErrShape, []string{"logits (2, 3, 4) and targets (2, 3)", "want targets of logits's shape, (2, 3, 4)"}},
		{"mse/n-vs-n1", func() (*gorgonia.Node, error) { return ops.MSE(v, v1) }, ops.ErrShape, []string{"MSE", "x (6) and target (6, 1)"}},
		{"mse/scalar", func() (*gorgonia.Node, error) { return ops.MSE(s, s) }, ops.ErrShape, []string{"MSE", "x is a scalar"}},
		{"mse/nil", func() (*gorgonia.Node, error) { return ops.MSE(nil, v) }, ops.ErrBuild, []string{"MSE", "x is nil"}},
		{"l1/dtypes", func() (*gorgonia.Node, error) { return ops.L1(z32, z2) }, ops.ErrDtype, []string{"L1", "float32", "float64"}},
		{"l1/float-vs-int", func() (*gorgonia.Node, error) { return ops.L1(z2, zi) }, ops.ErrDtype, []string{"L1", "target", "int"}},
		{"huber/shape", func() (*gorgonia.Node, error) { return ops.Huber(z2, v, 1) }, ops.ErrShape, []string{"Huber", "x (2, 3) and target (6)"}},
		{"huber/delta=0", func() (*gorgonia.Node, error) { return ops.Huber(z2, z2, 0) }, ops.ErrConfig, []string{"Huber", "delta is 0", "> 0"}},
		{"huber/delta<0", func() (*gorgonia.Node, error) { return ops.Huber(z2, z2, -1) }, ops.ErrConfig, []string{"delta is -1"}},
		{"huber/delta=NaN", func() (*gorgonia.Node, error) { return ops.Huber(z2, z2, math.NaN()) }, ops.ErrConfig, []string{"delta is NaN"}},
		{"huber/delta=Inf", func() (*gorgonia.Node, error) { return ops.Huber(z2, z2, math.Inf(1)) }, ops.ErrConfig, []string{"delta is +Inf", "finite"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.build()
			assert.Nil(t, n)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.err), "%v is not %v", err, c.err)
			for _, s := range c.says {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// TestLossParametersInHash: Gorgonia merges nodes whose ops hash alike, so
// an op name that left out a parameter would silently reuse another loss.
func TestLossParametersInHash(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Param("x", tensor.Float64, fromValues([]float64{0, 0, 0, 0}), 2, 2)
	tg, _ := b.Param("t", tensor.Float64, fromValues([]float64{0.5, -2, 3, 0.1}), 2, 2)
	y, _ := b.Input("y", tensor.Int, 2)
	build := map[string]func() (*gorgonia.Node, error){
		"huber/1":   func() (*gorgonia.Node, error) { return ops.Huber(x, tg, 1) },
		"huber/2":   func() (*gorgonia.Node, error) { return ops.Huber(x, tg, 2) },
		"huber/1.5": func() (*gorgonia.Node, error) { return ops.Huber(x, tg, 1.5) },
		"mse":       func() (*gorgonia.Node, error) { return ops.MSE(x, tg) },
		"l1":        func() (*gorgonia.Node, error) { return ops.L1(x, tg) },
		"bce":       func() (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(x, tg) },
		"xent":      func() (*gorgonia.Node, error) { return ops.SoftmaxCrossEntropy(x, y) },
		"xent/s=0.1": func() (*gorgonia.Node, error) {
			return ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{LabelSmoothing: 0.1})
		},
		"xent/s=0.2": func() (*gorgonia.Node, error) {
			return ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{LabelSmoothing: 0.2})
		},
		"xent/i=0": func() (*gorgonia.Node, error) {
			return ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{Ignore: true})
		},
		"xent/i=1": func() (*gorgonia.Node, error) {
			return ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{Ignore: true, IgnoreIndex: 1})
		},
	}
	names := map[string]string{}
	for k, f := range build {
		n, err := f()
		require.NoError(t, err)
		s := n.Op().(fmt.Stringer).String()
		for k2, s2 := range names {
			assert.NotEqual(t, s2, s, "%s and %s", k, k2)
		}
		names[k] = s
	}
	assert.Equal(t, "Huber(delta=1.5)", names["huber/1.5"])
	assert.Equal(t, "SoftmaxCrossEntropy()", names["xent"])
	// The same loss twice is the same node (the hash is stable).
	a, _ := ops.Huber(x, tg, 2)
	c, _ := ops.Huber(x, tg, 2)
	assert.Same(t, a, c)
	// Ignore off: IgnoreIndex is irrelevant and kept out of the hash.
	d, _ := ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{IgnoreIndex: 5})
	e, _ := ops.SoftmaxCrossEntropy(x, y)
	assert.Same(t, d, e)
}

// TestLossFloat32MatchesFloat64 runs every loss in both dtypes on the same
// values (representable in float32): the float32 results, computed in
// float64 inside, agree to float32 rounding.
func TestLossFloat32MatchesFloat64(t *testing.T) {
	round := func(v []float64) []float64 {
		for i := range v {
			v[i] = float64(float32(v[i]))
		}
		return v
	}
	xv := round(fill(21, 24, func(r *rand.Rand) float64 { return 3 * r.NormFloat64() }))
	tv := round(fill(22, 24, func(r *rand.Rand) float64 { return r.Float64() }))
	labels := []int{0, 3, 1, -1, 2, 3}
	type build func(x, t, y *gorgonia.Node) (*gorgonia.Node, error)
	cases := map[string]build{
		"xent": func(x, _, y *gorgonia.Node) (*gorgonia.Node, error) {
			return ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{Ignore: true, IgnoreIndex: -1})
		},
		"xent/smooth": func(x, _, y *gorgonia.Node) (*gorgonia.Node, error) {
			return ops.SoftmaxCrossEntropyWith(x, y, ops.XentOptions{LabelSmoothing: 0.2, Ignore: true, IgnoreIndex: -1})
		},
		"bce":           func(x, t, _ *gorgonia.Node) (*gorgonia.Node, error) { return ops.BinaryCrossEntropyWithLogits(x, t) },
		"mse":           func(x, t, _ *gorgonia.Node) (*gorgonia.Node, error) { return ops.MSE(x, t) },
		"l1":            func(x, t, _ *gorgonia.Node) (*gorgonia.Node, error) { return ops.L1(x, t) },
		"huber/delta=1": func(x, t, _ *gorgonia.Node) (*gorgonia.Node, error) { return ops.Huber(x, t, 1) },
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			got := map[tensor.Dtype][]float64{}
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				b := graph.NewBuilder(1)
				x, _ := b.Param("x", dt, fromValues(xv), 2, 3, 4)
				var tg, y *gorgonia.Node
				params, feeds := []*gorgonia.Node{x}, graph.Feeds{}
				if strings.HasPrefix(name, "xent") {
					y, _ = b.Input("y", tensor.Int, 2, 3)
					feeds["y"] = intTensor(labels, 2, 3)
				} else {
					tg, _ = b.Param("t", dt, fromValues(tv), 2, 3, 4)
					params = append(params, tg)
				}
				loss, err := mk(x, tg, y)
				require.NoError(t, err)
				require.Equal(t, dt, loss.Dtype())
				require.True(t, loss.IsScalar())
				l, g := scaledRun(t, b, loss, 1.25, feeds, params...)
				vals := []float64{l}
				for _, gi := range g {
					vals = append(vals, gi...)
				}
				got[dt] = vals
			}
			assertClose(t, got[tensor.Float64], got[tensor.Float32], 1e-6, "float32")
		})
	}
}

// TestLossNoAllocs: with its buffers warm, a loss op's forward and gradient
// runs allocate nothing.
func TestLossNoAllocs(t *testing.T) {
	x := dense(tensor.Float64, fill(1, 32*10, func(r *rand.Rand) float64 { return r.NormFloat64() }), 32, 10)
	tg := dense(tensor.Float64, fill(2, 32*10, func(r *rand.Rand) float64 { return r.Float64() }), 32, 10)
	labels := intTensor(make([]int, 32), 32)
	g := gorgonia.NewF64(1.5)
	b := graph.NewBuilder(1)
	xn, _ := b.Param("x", tensor.Float64, fromValues(make([]float64, 320)), 32, 10)
	tn, _ := b.Param("t", tensor.Float64, fromValues(make([]float64, 320)), 32, 10)
	yn, _ := b.Input("y", tensor.Int, 32)
	mse, err := ops.Huber(xn, tn, 0.5)
	require.NoError(t, err)
	xent, err := ops.SoftmaxCrossEntropyWith(xn, yn, ops.XentOptions{LabelSmoothing: 0.1, Ignore: true})
	require.NoError(t, err)
	for name, c := range map[string]struct {
		loss *gorgonia.Node
		in   []gorgonia.Value
	}{"huber": {mse, []gorgonia.Value{x, tg}}, "xent": {xent, []gorgonia.Value{x, labels}}} {
		t.Run(name, func(t *testing.T) {
			fwd := c.loss.Op()
			second := yn
			if name == "huber" {
				second = tn
			}
			bwd := gradOp(t, c.loss, xn, second)
			gin := append(append([]gorgonia.Value(nil), c.in...), g)
			for range 2 {
				_, err := fwd.Do(c.in...)
				require.NoError(t, err)
				_, err = bwd.Do(gin...)
				require.NoError(t, err)
			}
			assert.Zero(t, testing.AllocsPerRun(50, func() { _, _ = fwd.Do(c.in...) }), "forward")
			assert.Zero(t, testing.AllocsPerRun(50, func() { _, _ = bwd.Do(gin...) }), "gradient")
		})
	}
}

// gradOp returns the op of the first input's gradient node of a loss on
// inputs a and b.
func gradOp(t *testing.T, loss, a, b *gorgonia.Node) gorgonia.Op {
	t.Helper()
	sd, ok := loss.Op().(gorgonia.SDOp)
	require.True(t, ok)
	g := gorgonia.NewConstant(1.0)
	if loss.Dtype() == tensor.Float32 {
		g = gorgonia.NewConstant(float32(1))
	}
	gn, err := sd.SymDiff(gorgonia.Nodes{a, b}, loss, g)
	require.NoError(t, err)
	return gn[0].Op()
}

// TestLossTargetsAsInputs: targets fed as data (the usual case) get no
// gradient of their own, and the parameters' gradients are unchanged.
func TestLossTargetsAsInputs(t *testing.T) {
	xv := fill(31, 12, func(r *rand.Rand) float64 { return r.NormFloat64() })
	tv := awayFrom(32, xv, 1e-3, 0, 0.5)
	for name, fn := range pointLosses {
		t.Run(name, func(t *testing.T) {
			var want []float64
			for _, fed := range []bool{false, true} {
				b := graph.NewBuilder(1)
				x, _ := b.Param("x", tensor.Float64, fromValues(xv), 3, 4)
				var tg *gorgonia.Node
				feeds := graph.Feeds{}
				if fed {
					tg, _ = b.Input("t", tensor.Float64, 3, 4)
					feeds["t"] = dense(tensor.Float64, append([]float64(nil), tv...), 3, 4)
				} else {
					tg, _ = b.Param("t", tensor.Float64, fromValues(tv), 3, 4)
				}
				loss, err := fn(x, tg, 0.5)
				require.NoError(t, err)
				_, g := scaledRun(t, b, loss, 1, feeds, x)
				if !fed {
					want = g[0]
					continue
				}
				assert.Equal(t, want, g[0])
				checkLossGradients(t, b, loss, feeds)
			}
		})
	}
}

// A regressor's loss: the targets are data, the gradient 2(x − t)/n flows
// to the predictions.
func ExampleMSE() {
	b := graph.NewBuilder(1)
	x, _ := b.Param("x", tensor.Float64, fromValues([]float64{1, 2, 3}), 3)
	target, _ := b.Input("t", tensor.Float64, 3)
	loss, _ := ops.MSE(x, target)
	p, _ := b.Compile(loss)
	defer p.Close()
	_ = p.Run(graph.Feeds{"t": tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 0, 5}))})
	g, _ := x.Grad()
	fmt.Printf("%.4f %.4f\n", p.Loss(), g.Data())
	// Output: 2.6667 [0.0000 1.3333 -1.3333]
}

// A sequence model's loss, with a padded position skipped.
func ExampleSoftmaxCrossEntropyWith() {
	b := graph.NewBuilder(1)
	// A batch of 1 sequence of 3 positions over 2 classes; the last
	// position is padding (label -100).
	z, _ := b.Param("z", tensor.Float64, fromValues([]float64{0, 0, 2, 0, 5, -5}), 1, 3, 2)
	y, _ := b.Input("y", tensor.Int, 1, 3)
	loss, _ := ops.SoftmaxCrossEntropyWith(z, y, ops.XentOptions{Ignore: true, IgnoreIndex: -100})
	p, _ := b.Compile(loss)
	defer p.Close()
	_ = p.Run(graph.Feeds{"y": tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]int{1, 0, -100}))})
	g, _ := z.Grad()
	// (log 2 + log(1 + e⁻²)) / 2 over the 2 positions kept.
	fmt.Printf("%.4f %.4f\n", p.Loss(), g.Data())
	// Output: 0.4100 [0.2500 -0.2500 -0.0596 0.0596 0.0000 0.0000]
}
