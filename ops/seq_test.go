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

func TestSeqBadInput(t *testing.T) {
	b := graph.NewBuilder(1)
	node := func(name string, dt tensor.Dtype, shape ...int) *gorgonia.Node {
		n, err := b.Input(name, dt, shape...)
		require.NoError(t, err)
		return n
	}
	f := tensor.Float64
	x, h0, c0 := node("x", f, 2, 3, 4), node("h0", f, 2, 5), node("c0", f, 2, 5)
	wih, whh, bias := node("wih", f, 20, 4), node("whh", f, 20, 5), node("b", f, 20)
	_, _, _, err := ops.LSTM(x, h0, c0, wih, whh, bias, bias)
	require.NoError(t, err)
	cases := []struct {
		name string
		err  error
		want string
		f    func() error
	}{
		{"lstm/h0-batch", ops.ErrShape, "h0 has shape (3, 5), want (N, H) with N = 2", func() error {
			_, _, _, err := ops.LSTM(x, node("h0b", f, 3, 5), c0, wih, whh, bias, bias)
			return err
		}},
		{"lstm/c0-hidden", ops.ErrShape, "c0 has shape (2, 4), want h0's (2, 5)", func() error {
			_, _, _, err := ops.LSTM(x, h0, node("c0b", f, 2, 4), wih, whh, bias, bias)
			return err
		}},
		{"lstm/wih-input", ops.ErrShape, "wIH has shape (20, 3), want (20, 4)", func() error {
			_, _, _, err := ops.LSTM(x, h0, c0, node("wihb", f, 20, 3), whh, bias, bias)
			return err
		}},
		{"lstm/whh-hidden", ops.ErrShape, "wHH has shape (16, 4), want (20, 5)", func() error {
			_, _, _, err := ops.LSTM(x, h0, c0, wih, node("whhb", f, 16, 4), bias, bias)
			return err
		}},
		{"lstm/x-2d", ops.ErrShape, "x has shape (2, 3), want (N, T, I)", func() error {
			_, _, _, err := ops.LSTM(node("x2", f, 2, 3), h0, c0, wih, whh, bias, bias)
			return err
		}},
		{"lstm/dtype", ops.ErrDtype, "c0 is float32, x is float64", func() error {
			_, _, _, err := ops.LSTM(x, h0, node("c032", tensor.Float32, 2, 5), wih, whh, bias, bias)
			return err
		}},
		{"gru/gates", ops.ErrShape, "wIH has shape (20, 4), want (15, 4)", func() error {
			_, _, err := ops.GRU(x, h0, wih, whh, bias, bias)
			return err
		}},
		{"embedding/float-ids", ops.ErrDtype, "ids (2, 3) have dtype float64, want int", func() error {
			_, err := ops.Embedding(node("fids", f, 2, 3), node("table", f, 5, 3))
			return err
		}},
		{"embedding/table-1d", ops.ErrShape, "table has shape (5), want (V, D)", func() error {
			_, err := ops.Embedding(node("ids", tensor.Int, 2, 3), node("table1", f, 5))
			return err
		}},
		{"layernorm/gamma", ops.ErrShape, "gamma has shape (3), want (4), the last dimension of x (2, 3, 4)", func() error {
			_, err := ops.LayerNorm(x, node("g3", f, 3), node("b4", f, 4), ops.LayerNormOptions{})
			return err
		}},
		{"layernorm/eps", ops.ErrConfig, "Eps = -1", func() error {
			_, err := ops.LayerNorm(x, node("g4", f, 4), node("bb4", f, 4), ops.LayerNormOptions{Eps: -1})
			return err
		}},
		{"attention/k-shape", ops.ErrShape, "k has shape (1, 2, 3, 5), want q's (1, 2, 3, 4)", func() error {
			_, err := ops.Attention(node("q", f, 1, 2, 3, 4), node("k", f, 1, 2, 3, 5), node("v", f, 1, 2, 3, 4), ops.AttentionOptions{})
			return err
		}},
		{"attention/3d", ops.ErrShape, "q has shape (2, 3, 4), want (N, heads, T, Dh)", func() error {
			_, err := ops.Attention(x, x, x, ops.AttentionOptions{})
			return err
		}},
		{"gelu/int", ops.ErrDtype, "want float32 or float64", func() error {
			_, err := ops.GELU(node("ints", tensor.Int, 3))
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.f()
			require.ErrorIs(t, err, c.err)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// An id outside [0, V) is an error from the run naming its position and
// value, never an index panic.
func TestEmbeddingBadID(t *testing.T) {
	for _, bad := range []int{5, -1} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			b := graph.NewBuilder(1)
			ids, err := b.Input("ids", tensor.Int, 2, 3)
			require.NoError(t, err)
			table, err := b.Param("table", tensor.Float64, randn(1, 0), 5, 2)
			require.NoError(t, err)
			y, err := ops.Embedding(ids, table)
			require.NoError(t, err)
			loss, feeds := weightedSums(t, b, y)
			p, err := b.Compile(loss)
			require.NoError(t, err)
			defer p.Close()
			feeds["ids"] = tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, bad, 4}))
			err = p.Run(feeds)
			// Gorgonia's tape formats an op's error into its own (%v), so
			// the chain keeps graph.ErrRun and ops.ErrID's text.
			require.ErrorIs(t, err, graph.ErrRun)
			require.ErrorContains(t, err, ops.ErrID.Error())
			require.ErrorContains(t, err, fmt.Sprintf("id %d at position [1 1] of ids (2, 3) is outside [0, 5)", bad))
			feeds["ids"] = tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, 4, 4}))
			require.NoError(t, p.Run(feeds), "the program runs again after the error")
		})
	}
}

func TestShapeOpsGradients(t *testing.T) {
	b := graph.NewBuilder(11)
	x, err := b.Param("x", tensor.Float64, randn(1, 0), 2, 3, 6)
	require.NoError(t, err)
	p, err := b.Param("p", tensor.Float64, randn(1, 0), 3, 6)
	require.NoError(t, err)
	s, err := ops.AddBroadcast(x, p)
	require.NoError(t, err)
	h, err := ops.SplitHeads(s, 2)
	require.NoError(t, err)
	require.Equal(t, []int{2, 2, 3, 3}, []int(h.Shape()))
	sm, err := ops.Softmax(h)
	require.NoError(t, err)
	m, err := ops.MergeHeads(sm)
	require.NoError(t, err)
	r, err := ops.Reshape(m, 6, 6)
	require.NoError(t, err)
	loss, feeds := weightedSums(t, b, r)
	checkGradients(t, b, loss, feeds)
	_, err = ops.SplitHeads(x, 4)
	require.ErrorIs(t, err, ops.ErrShape)
	require.ErrorContains(t, err, "4 heads do not divide the model dimension E = 6")
}

// Token ids go through graph's checked feeds: float ids, or ids of the
// wrong shape, are feed errors naming the input before anything runs.
func TestEmbeddingFeeds(t *testing.T) {
	b := graph.NewBuilder(1)
	ids, err := b.Input("ids", tensor.Int, 2, 3)
	require.NoError(t, err)
	table, err := b.Param("table", tensor.Float64, randn(1, 0), 5, 2)
	require.NoError(t, err)
	y, err := ops.Embedding(ids, table)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(y)
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	defer p.Close()
	err = p.Run(graph.Feeds{"ids": dense(tensor.Float64, make([]float64, 6), 2, 3)})
	require.ErrorIs(t, err, graph.ErrDtype)
	require.ErrorContains(t, err, `"ids"`)
	err = p.Run(graph.Feeds{"ids": tensor.New(tensor.WithShape(3, 2), tensor.WithBacking(make([]int, 6)))})
	require.ErrorIs(t, err, graph.ErrShape)
	require.NoError(t, p.Run(graph.Feeds{"ids": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, 4, 0}))}))
	g, err := table.Grad()
	require.NoError(t, err)
	// every id once, id 0 twice: its row's gradient is 2, the others' 1
	require.Equal(t, []float64{2, 2, 1, 1, 1, 1, 1, 1, 1, 1}, g.Data())
}
