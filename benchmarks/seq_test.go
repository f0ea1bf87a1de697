package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/ops"
)

// The sequence-layer benchmark: one forward pass and the backward pass from
// a fixed output gradient dy, float32, for ops.LSTM, ops.GRU, ops.Attention
// and ops.LayerNorm, each on a Gorgonia tape machine (no loss: the gradients
// come from gorgonia.Backpropagate with dy as the output gradient). The
// gradients computed are those PyTorch computes in torch_seq.py: of x and
// every weight (recurrences; not of the zero initial states), of q, k and v
// (attention), of x, γ and β (layer norm). See SEQ.md for the results.

// seqLayer is one benchmarked layer.
type seqLayer struct {
	name string
	kind string // lstm, gru, attention, layernorm
	// lstm, gru: n, t, i, h; attention: n, heads (h), t, dh (i); layernorm: n rows of d (i)
	n, t, i, h int
}

var seqLayers = []seqLayer{
	{"lstm-n32-t128-i64-h256", "lstm", 32, 128, 64, 256},
	{"gru-n32-t128-i64-h256", "gru", 32, 128, 64, 256},
	{"attention-n32-h4-t128-d32", "attention", 32, 128, 32, 4},
	{"layernorm-n4096-d512", "layernorm", 4096, 0, 512, 0},
}

// flops counts the matrix products' floating-point operations of forward
// and backward passes (the backward twice the forward); element-wise work
// is not counted. Layer norm reports none (it is memory-bound).
func (l seqLayer) flops() float64 {
	switch l.kind {
	case "lstm":
		return 3 * 2 * float64(l.n*l.t*4*l.h*(l.i+l.h))
	case "gru":
		return 3 * 2 * float64(l.n*l.t*3*l.h*(l.i+l.h))
	case "attention": // q·kᵀ and P·v forward, twice as much backward
		return 3 * 2 * 2 * float64(l.n*l.h*l.t*l.t*l.i)
	}
	return 0
}

// bytes counts each tensor a step must touch once (float32): inputs and
// weights read, outputs written, their gradients written, dy read.
func (l seqLayer) bytes() int64 {
	switch l.kind {
	case "lstm", "gru":
		g := 4
		if l.kind == "gru" {
			g = 3
		}
		x, y, w := l.n*l.t*l.i, l.n*l.t*l.h, g*l.h*(l.i+l.h+2)
		return int64(4 * (2*x + 2*y + 2*w))
	case "attention":
		e := l.n * l.h * l.t * l.i
		return int64(4 * 8 * e) // q, k, v, out, dout, dq, dk, dv
	}
	e := l.n * l.i
	return int64(4 * (4*e + 4*l.i)) // x, y, dy, dx; γ, β, dγ, dβ
}

type seqGraph struct {
	vm gorgonia.VM
}

func (s *seqGraph) run() error { s.vm.Reset(); return s.vm.RunAll() }

// buildSeq builds the layer on fixed random inputs.
func buildSeq(l seqLayer) (*seqGraph, error) {
	r := rand.New(rand.NewPCG(5, 6))
	g := gorgonia.NewGraph()
	node := func(name string, std float64, shape ...int) *gorgonia.Node {
		v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(randFloat32s(r, tensor.Shape(shape).TotalSize(), std)))
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
	}
	var y *gorgonia.Node
	var wrt gorgonia.Nodes
	var err error
	switch l.kind {
	case "lstm", "gru":
		gates := 4
		if l.kind == "gru" {
			gates = 3
		}
		std := 1 / math.Sqrt(float64(l.h)) // PyTorch's U(−1/√H, 1/√H) has this order
		x := node("x", 1, l.n, l.t, l.i)
		h0 := node("h0", 0, l.n, l.h)
		wih, whh := node("wih", std, gates*l.h, l.i), node("whh", std, gates*l.h, l.h)
		bih, bhh := node("bih", std, gates*l.h), node("bhh", std, gates*l.h)
		if l.kind == "lstm" {
			y, _, _, err = ops.LSTM(x, h0, node("c0", 0, l.n, l.h), wih, whh, bih, bhh)
		} else {
			y, _, err = ops.GRU(x, h0, wih, whh, bih, bhh)
		}
		wrt = gorgonia.Nodes{x, wih, whh, bih, bhh}
	case "attention":
		q, k, v := node("q", 1, l.n, l.h, l.t, l.i), node("k", 1, l.n, l.h, l.t, l.i), node("v", 1, l.n, l.h, l.t, l.i)
		y, err = ops.Attention(q, k, v, ops.AttentionOptions{})
		wrt = gorgonia.Nodes{q, k, v}
	case "layernorm":
		x, gm, bt := node("x", 1, l.n, l.i), node("gamma", 1, l.i), node("beta", 1, l.i)
		y, err = ops.LayerNorm(x, gm, bt, ops.LayerNormOptions{})
		wrt = gorgonia.Nodes{x, gm, bt}
	default:
		err = fmt.Errorf("unknown layer kind %q", l.kind)
	}
	if err != nil {
		return nil, err
	}
	dy := node("dy", 1, y.Shape()...)
	if _, err := gorgonia.Backpropagate(gorgonia.Nodes{y}, gorgonia.Nodes{dy}, wrt); err != nil {
		return nil, err
	}
	return &seqGraph{vm: gorgonia.NewTapeMachine(g)}, nil
}

func BenchmarkSeqLayer(b *testing.B) {
	for _, l := range seqLayers {
		b.Run(l.name+"/gradlab", func(b *testing.B) {
			s, err := buildSeq(l)
			if err != nil {
				b.Fatal(err)
			}
			defer s.vm.Close()
			if err := s.run(); err != nil { // warm up: buffers, worker pool
				b.Fatal(err)
			}
			b.SetBytes(l.bytes())
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if err := s.run(); err != nil {
					b.Fatal(err)
				}
			}
			if f := l.flops(); f > 0 {
				b.ReportMetric(f*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestSeqLayersBuild checks that every benchmarked layer builds and runs
// (forward and backward) and that its gradients are finite.
func TestSeqLayersBuild(t *testing.T) {
	for _, l := range seqLayers {
		small := l
		small.n, small.t = 2, min(l.t, 3)
		if l.kind == "layernorm" {
			small.n = 5
		}
		t.Run(l.name, func(t *testing.T) {
			s, err := buildSeq(small)
			if err != nil {
				t.Fatal(err)
			}
			defer s.vm.Close()
			if err := s.run(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
