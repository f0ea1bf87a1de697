package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/ops"
)

// The convolution-layer benchmark: one forward pass y = conv(x, w) and both
// backward passes dx and dw from a fixed output gradient dy, batch 128,
// float32, for the two convolution layers of the MNIST CNN and the second of
// Keras's MNIST convnet (3×3, no padding), built with
// ops.Conv2D and with Gorgonia's Conv2d. Both run on a Gorgonia tape machine
// over the same graph shape (no loss: the gradients come from
// gorgonia.Backpropagate with dy as the output gradient), so both pay the
// same machine overhead. See CONV.md for the results and torch_conv.py for
// PyTorch's same layers.

// convLayer is one benchmarked convolution: x (n, c, h, w) with o filters of
// k×k, stride 1, padding pad.
type convLayer struct {
	name             string
	n, c, h, w, o, k int
	pad              int
}

var convLayers = []convLayer{
	{"c1-1to16-k5-28x28", 128, 1, 28, 28, 16, 5, 2},
	{"c2-16to32-k5-14x14", 128, 16, 14, 14, 32, 5, 2},
	{"k3-32to64-13x13", 128, 32, 13, 13, 64, 3, 0}, // Keras's MNIST convnet's second layer
}

func (l convLayer) outHW() (int, int) { return l.h + 2*l.pad - l.k + 1, l.w + 2*l.pad - l.k + 1 }

// flops is the floating-point operations of the forward pass and the two
// backward products: each is 2·N·O·OH·OW·C·K·K.
func (l convLayer) flops() float64 {
	oh, ow := l.outHW()
	return 3 * 2 * float64(l.n*l.o*oh*ow*l.c*l.k*l.k)
}

// bytes counts each tensor the step must touch once: x, w and dy read; y,
// dx and dw written (float32).
func (l convLayer) bytes() int64 {
	oh, ow := l.outHW()
	x, w, y := l.n*l.c*l.h*l.w, l.o*l.c*l.k*l.k, l.n*l.o*oh*ow
	return int64(4 * (2*x + 2*w + 2*y))
}

// convGraph is a compiled layer: run computes y, dx and dw.
type convGraph struct {
	vm        gorgonia.VM
	y, dx, dw *gorgonia.Node
}

func (c *convGraph) run() error { c.vm.Reset(); return c.vm.RunAll() }

func (c *convGraph) close() { c.vm.Close() }

func randFloat32s(r *rand.Rand, n int, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * std)
	}
	return v
}

// buildConv builds the layer with impl "gradlab" (ops.Conv2D) or "gorgonia"
// (gorgonia.Conv2d) on fixed random x, w and dy.
func buildConv(impl string, l convLayer) (*convGraph, error) {
	r := rand.New(rand.NewPCG(3, 4))
	oh, ow := l.outHW()
	g := gorgonia.NewGraph()
	node := func(name string, std float64, shape ...int) *gorgonia.Node {
		v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(randFloat32s(r, tensor.Shape(shape).TotalSize(), std)))
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
	}
	x := node("x", 1, l.n, l.c, l.h, l.w)
	w := node("w", 1/math.Sqrt(float64(l.c*l.k*l.k)), l.o, l.c, l.k, l.k)
	dy := node("dy", 1, l.n, l.o, oh, ow)
	var y *gorgonia.Node
	var err error
	switch impl {
	case "gradlab":
		y, err = ops.Conv2D(x, w, ops.ConvOptions{Padding: [2]int{l.pad, l.pad}})
	case "gorgonia":
		y, err = gorgonia.Conv2d(x, w, tensor.Shape{l.k, l.k}, []int{l.pad, l.pad}, []int{1, 1}, []int{1, 1})
	default:
		err = fmt.Errorf("unknown impl %q", impl)
	}
	if err != nil {
		return nil, err
	}
	grads, err := gorgonia.Backpropagate(gorgonia.Nodes{y}, gorgonia.Nodes{dy}, gorgonia.Nodes{x, w})
	if err != nil {
		return nil, err
	}
	c := &convGraph{y: y, dx: grads[0], dw: grads[1]}
	c.vm = gorgonia.NewTapeMachine(g)
	return c, nil
}

func BenchmarkConvLayer(b *testing.B) {
	for _, l := range convLayers {
		for _, impl := range []string{"gradlab", "gorgonia"} {
			b.Run(l.name+"/"+impl, func(b *testing.B) {
				c, err := buildConv(impl, l)
				if err != nil {
					b.Fatal(err)
				}
				defer c.close()
				if err := c.run(); err != nil { // warm up: buffers, worker pool
					b.Fatal(err)
				}
				b.SetBytes(l.bytes())
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if err := c.run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(l.flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				// CPU time of the whole process: on a shared machine it shows
				// the work done apart from waiting for a core.
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// poolLayers are the 2×2 max pools after each convolution layer.
var poolLayers = []struct {
	name       string
	n, c, h, w int
}{
	{"p1-16x28x28", 128, 16, 28, 28},
	{"p2-32x14x14", 128, 32, 14, 14},
}

// BenchmarkPoolLayer times a 2×2, stride 2 pool forward and backward:
// BenchmarkPoolLayer/<layer>/<max|avg>/<impl> (Gorgonia has no average pool).
func BenchmarkPoolLayer(b *testing.B) {
	for _, l := range poolLayers {
		for _, c := range []struct{ kind, impl string }{{"max", "gradlab"}, {"max", "gorgonia"}, {"avg", "gradlab"}} {
			b.Run(l.name+"/"+c.kind+"/"+c.impl, func(b *testing.B) {
				r := rand.New(rand.NewPCG(5, 6))
				g := gorgonia.NewGraph()
				xs := []int{l.n, l.c, l.h, l.w}
				x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(xs...), gorgonia.WithName("x"),
					gorgonia.WithValue(tensor.New(tensor.WithShape(xs...), tensor.WithBacking(randFloat32s(r, l.n*l.c*l.h*l.w, 1)))))
				var y *gorgonia.Node
				var err error
				opt := ops.PoolOptions{Kernel: [2]int{2, 2}}
				switch {
				case c.impl == "gorgonia":
					y, err = gorgonia.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
				case c.kind == "max":
					y, err = ops.MaxPool2D(x, opt)
				default:
					y, err = ops.AvgPool2D(x, opt)
				}
				if err != nil {
					b.Fatal(err)
				}
				ys := y.Shape()
				dy := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(ys...), gorgonia.WithName("dy"),
					gorgonia.WithValue(tensor.New(tensor.WithShape(ys.Clone()...), tensor.WithBacking(randFloat32s(r, ys.TotalSize(), 1)))))
				if _, err := gorgonia.Backpropagate(gorgonia.Nodes{y}, gorgonia.Nodes{dy}, gorgonia.Nodes{x}); err != nil {
					b.Fatal(err)
				}
				vm := gorgonia.NewTapeMachine(g)
				defer vm.Close()
				run := func() error { vm.Reset(); return vm.RunAll() }
				if err := run(); err != nil {
					b.Fatal(err)
				}
				// x read twice (forward, backward), y written, dy read, dx written.
				b.SetBytes(int64(4 * (3*l.n*l.c*l.h*l.w + 2*ys.TotalSize())))
				b.ReportAllocs()
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestConvLayerAgree checks that the benchmarked graphs compute the same
// y, dx and dw with both implementations, so the benchmark compares equal
// work.
func TestConvLayerAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the full-size layers")
	}
	for _, l := range convLayers {
		t.Run(l.name, func(t *testing.T) {
			var got [2][3][]float32
			for i, impl := range []string{"gradlab", "gorgonia"} {
				c, err := buildConv(impl, l)
				require.NoError(t, err)
				require.NoError(t, c.run())
				for j, n := range []*gorgonia.Node{c.y, c.dx, c.dw} {
					v := n.Value().(*tensor.Dense)
					if v.IsView() {
						v = v.Materialize().(*tensor.Dense)
					}
					got[i][j] = append([]float32(nil), v.Data().([]float32)...)
				}
				c.close()
			}
			for j, what := range []string{"y", "dx", "dw"} {
				a, b := got[0][j], got[1][j]
				require.Len(t, b, len(a), what)
				var worst float64
				var scale float64
				for i := range a {
					worst = max(worst, math.Abs(float64(a[i]-b[i])))
					scale = max(scale, math.Abs(float64(b[i])))
				}
				assert.LessOrEqual(t, worst, 1e-5*scale, "%s: max |gradlab − gorgonia| = %g (scale %g)", what, worst, scale)
			}
		})
	}
}
