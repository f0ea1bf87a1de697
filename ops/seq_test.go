package ops_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// weightedSums returns Σ_k sum(y_k ⊙ r_k) with each r_k a fed input named
// r0, r1, …, and the feeds of fixed random r_k.
func weightedSums(t *testing.T, b *graph.Builder, ys ...*gorgonia.Node) (*gorgonia.Node, graph.Feeds) {
	t.Helper()
	feeds := graph.Feeds{}
	var loss *gorgonia.Node
	for k, y := range ys {
		name := fmt.Sprintf("r%d", k)
		r, err := b.Input(name, y.Dtype(), y.Shape()...)
		require.NoError(t, err)
		feeds[name] = randTensor(uint64(100+k), y.Shape()...)
		if y.Dtype() == tensor.Float32 {
			feeds[name] = dense(tensor.Float32, randTensor(uint64(100+k), y.Shape()...).Float64s(), y.Shape()...)
		}
		p, err := gorgonia.HadamardProd(y, r)
		require.NoError(t, err)
		s, err := gorgonia.Sum(p)
		require.NoError(t, err)
		if loss == nil {
			loss = s
		} else {
			loss, err = gorgonia.Add(loss, s)
			require.NoError(t, err)
		}
	}
	return loss, feeds
}

// rnnCase is one recurrent geometry.
type rnnCase struct{ n, t, i, h int }

func (c rnnCase) String() string { return fmt.Sprintf("n=%d/t=%d/i=%d/h=%d", c.n, c.t, c.i, c.h) }

var rnnCases = []rnnCase{{1, 1, 3, 2}, {2, 4, 3, 5}, {3, 3, 5, 3}}

func TestLSTMGradients(t *testing.T) {
	for _, c := range rnnCases {
		t.Run(c.String(), func(t *testing.T) {
			b := graph.NewBuilder(5)
			p := func(name string, std float64, shape ...int) *gorgonia.Node {
				n, err := b.Param(name, tensor.Float64, randn(std, 0), shape...)
				require.NoError(t, err)
				return n
			}
			x, h0, c0 := p("x", 1, c.n, c.t, c.i), p("h0", 0.5, c.n, c.h), p("c0", 0.5, c.n, c.h)
			wih, whh := p("wih", 0.5, 4*c.h, c.i), p("whh", 0.5, 4*c.h, c.h)
			bih, bhh := p("bih", 0.3, 4*c.h), p("bhh", 0.3, 4*c.h)
			y, hT, cT, err := ops.LSTM(x, h0, c0, wih, whh, bih, bhh)
			require.NoError(t, err)
			loss, feeds := weightedSums(t, b, y, hT, cT)
			checkGradients(t, b, loss, feeds)
		})
	}
}

func TestGRUGradients(t *testing.T) {
	for _, c := range rnnCases {
		t.Run(c.String(), func(t *testing.T) {
			b := graph.NewBuilder(6)
			p := func(name string, std float64, shape ...int) *gorgonia.Node {
				n, err := b.Param(name, tensor.Float64, randn(std, 0), shape...)
				require.NoError(t, err)
				return n
			}
			x, h0 := p("x", 1, c.n, c.t, c.i), p("h0", 0.5, c.n, c.h)
			wih, whh := p("wih", 0.5, 3*c.h, c.i), p("whh", 0.5, 3*c.h, c.h)
			bih, bhh := p("bih", 0.3, 3*c.h), p("bhh", 0.3, 3*c.h)
			y, hT, err := ops.GRU(x, h0, wih, whh, bih, bhh)
			require.NoError(t, err)
			loss, feeds := weightedSums(t, b, y, hT)
			checkGradients(t, b, loss, feeds)
		})
	}
}

func TestGELUGradients(t *testing.T) {
	b := graph.NewBuilder(7)
	x, err := b.Param("x", tensor.Float64, randn(2, 0), 3, 5)
	require.NoError(t, err)
	y, err := ops.GELU(x)
	require.NoError(t, err)
	loss, feeds := weightedSums(t, b, y)
	checkGradients(t, b, loss, feeds)
}

func TestLayerNormGradients(t *testing.T) {
	for _, shape := range [][]int{{1, 1, 7}, {3, 5}, {2, 3, 4}, {70, 3}, {4, 1}} {
		t.Run(fmt.Sprintf("shape=%v", shape), func(t *testing.T) {
			b := graph.NewBuilder(8)
			d := shape[len(shape)-1]
			x, err := b.Param("x", tensor.Float64, randn(1.5, 0), shape...)
			require.NoError(t, err)
			gamma, err := b.Param("gamma", tensor.Float64, randn(1, 0), d)
			require.NoError(t, err)
			beta, err := b.Param("beta", tensor.Float64, randn(1, 0), d)
			require.NoError(t, err)
			y, err := ops.LayerNorm(x, gamma, beta, ops.LayerNormOptions{Eps: 1e-3})
			require.NoError(t, err)
			loss, feeds := weightedSums(t, b, y)
			checkGradients(t, b, loss, feeds)
		})
	}
}

func TestEmbeddingGradients(t *testing.T) {
	b := graph.NewBuilder(9)
	ids, err := b.Input("ids", tensor.Int, 2, 3)
	require.NoError(t, err)
	table, err := b.Param("table", tensor.Float64, randn(1, 0), 5, 3)
	require.NoError(t, err)
	y, err := ops.Embedding(ids, table)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3, 3}, []int(y.Shape()))
	loss, feeds := weightedSums(t, b, y)
	feeds["ids"] = tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{4, 0, 4, 2, 4, 0})) // repeated ids accumulate
	checkGradients(t, b, loss, feeds)
}

// attnCases: one head, batch 1, T = 1, Dh not a power of two.
var attnCases = []struct{ n, heads, t, dh int }{{1, 1, 1, 3}, {1, 1, 4, 3}, {2, 3, 5, 3}, {2, 2, 3, 5}}

func TestAttentionGradients(t *testing.T) {
	for _, c := range attnCases {
		for _, causal := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/heads=%d/t=%d/dh=%d/causal=%v", c.n, c.heads, c.t, c.dh, causal), func(t *testing.T) {
				b := graph.NewBuilder(10)
				p := func(name string) *gorgonia.Node {
					n, err := b.Param(name, tensor.Float64, randn(1, 0), c.n, c.heads, c.t, c.dh)
					require.NoError(t, err)
					return n
				}
				y, err := ops.Attention(p("q"), p("k"), p("v"), ops.AttentionOptions{Causal: causal})
				require.NoError(t, err)
				loss, feeds := weightedSums(t, b, y)
				checkGradients(t, b, loss, feeds)
			})
		}
	}
}
