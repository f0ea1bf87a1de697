package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
)

// seqModel is a classifier over sequences (batch, 5, 4) using every new
// float layer.
func seqModel(t *testing.T, dt tensor.Dtype, dropout float64) *nn.Model {
	t.Helper()
	m, err := nn.NewClassifier(3, dt, []int{5, 4}, nn.NewSequential(
		nn.LSTM(6),
		nn.Dense(8),
		nn.PositionalEmbedding(7),
		nn.TransformerBlock(2, 0, dropout, nn.Causal()),
		nn.LayerNorm(),
		nn.MultiHeadAttention(4),
		nn.Residual(nn.Dense(8), nn.GELU()),
		nn.GRU(5, nn.LastStep()),
		nn.Dense(3),
		nn.Softmax(),
	))
	require.NoError(t, err)
	return m
}

func TestSeqSummary(t *testing.T) {
	m := seqModel(t, tensor.Float32, 0.1)
	defer m.Close()
	_, err := m.Program(2)
	require.NoError(t, err)
	s, err := m.Summary()
	require.NoError(t, err)
	t.Log("\n" + s)
	for _, row := range []string{
		"lstm1", "(N, 5, 6)", "dense1", "(N, 5, 8)", "posembed1", "transformer1", "layernorm1",
		"attention1", "residual1", "gru1", "(N, 5)", "dense2", "(N, 3)", "softmax1",
	} {
		assert.Contains(t, s, row)
	}
	// lstm1: 4·6·(4 + 6) + 2·4·6 parameters
	assert.Regexp(t, `lstm1\s+lstm\s+\(N, 5, 6\)\s+288`, s)
	d, err := m.Describe()
	require.NoError(t, err)
	var kinds []string
	for _, l := range d.Layers {
		kinds = append(kinds, l.Kind)
	}
	assert.Equal(t, "lstm dense posembed transformer layernorm attention residual gru dense softmax", strings.Join(kinds, " "))
	assert.Equal(t, []string{"lstm1/weight_ih_l0", "lstm1/weight_hh_l0", "lstm1/bias_ih_l0", "lstm1/bias_hh_l0"}, d.Layers[0].Params)
}

func TestSeqModelGradients(t *testing.T) {
	m := seqModel(t, tensor.Float64, 0)
	defer m.Close()
	p, err := m.Program(2)
	require.NoError(t, err)
	x := tensor.New(tensor.WithShape(2, 5, 4), tensor.WithBacking(randValues(1, 40)))
	y := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{2, 0}))
	res, err := gradcheck.Check(p, graph.Feeds{nn.InputName: x, nn.LabelName: y}, gradcheck.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, res)
	for _, r := range res {
		assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
	}
}

// randValues returns n fixed values in (−2, 2).
func randValues(seed uint64, n int) []float64 {
	v := make([]float64, n)
	s := seed
	for i := range v {
		s = s*6364136223846793005 + 1442695040888963407
		v[i] = 4*float64(s>>11)/float64(1<<53) - 2
	}
	return v
}

// The default initializations are PyTorch's: U(±1/√H) for the
// recurrences, N(0, 1) for embeddings, Xavier-uniform over (3E, E) for the
// attention's q, k, v, U(±1/√E) for its output, ones and zeros for layer
// norm.
func TestSeqInitStatistics(t *testing.T) {
	m, err := nn.NewClassifier(5, tensor.Float64, []int{3, 64}, nn.NewSequential(
		nn.LSTM(256), nn.GRU(128), nn.MultiHeadAttention(4), nn.PositionalEmbedding(100), nn.LayerNorm(), nn.Dense(2), nn.Flatten(), nn.Dense(2)))
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Program(1)
	require.NoError(t, err)
	uniformBound := func(name string, bound float64) {
		w, ok := m.Tensor(name)
		require.True(t, ok, name)
		v := w.Data().([]float64)
		var mx, ss float64
		for _, x := range v {
			mx = max(mx, math.Abs(x))
			ss += x * x
		}
		assert.LessOrEqual(t, mx, bound, name)
		assert.Greater(t, mx, 0.98*bound, name)
		assert.InEpsilon(t, bound*bound/3, ss/float64(len(v)), 0.05, "%s variance", name)
	}
	uniformBound("lstm1/weight_ih_l0", 1/16.0)
	uniformBound("lstm1/weight_hh_l0", 1/16.0)
	uniformBound("lstm1/bias_hh_l0", 1/16.0)
	uniformBound("gru1/weight_hh_l0", 1/math.Sqrt(128))
	uniformBound("attention1/q/w", math.Sqrt(6.0/(4*128)))
	uniformBound("attention1/out/w", 1/math.Sqrt(128))
	pe, _ := m.Tensor("posembed1/weight")
	var s, ss float64
	for _, x := range pe.Data().([]float64) {
		s += x
		ss += x * x
	}
	n := float64(pe.Shape().TotalSize())
	assert.InDelta(t, 0, s/n, 0.02)
	assert.InDelta(t, 1, ss/n, 0.03)
	g, _ := m.Tensor("layernorm1/weight")
	assert.Equal(t, 1.0, g.Data().([]float64)[0])
	bias, _ := m.Tensor("attention1/q/b")
	assert.Equal(t, 0.0, bias.Data().([]float64)[5])
}

func TestSeqLayerErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		layers []nn.Layer
		says   string
	}{
		{"heads", []nn.Layer{nn.MultiHeadAttention(3), nn.Flatten(), nn.Dense(2)}, "layer attention1 (attention): 3 heads do not divide the model dimension E = 4"},
		{"block-heads", []nn.Layer{nn.TransformerBlock(3, 0, 0), nn.Flatten(), nn.Dense(2)}, "3 heads do not divide the model dimension E = 4"},
		{"lstm-rank", []nn.Layer{nn.Flatten(), nn.LSTM(3)}, "layer lstm1 (lstm): input shape (2, 20), want (batch, T, features)"},
		{"lstm-hidden", []nn.Layer{nn.LSTM(0)}, "0 hidden units"},
		{"embedding-float", []nn.Layer{nn.Embedding(10, 3)}, "input (2, 5, 4) has dtype float32, want int token ids"},
		{"posembed-long", []nn.Layer{nn.PositionalEmbedding(4)}, "sequence length T = 5, want ≤ MaxLen = 4"},
		{"residual-shape", []nn.Layer{nn.Residual(nn.Dense(3))}, "its layers turn (2, 5, 4) into (2, 5, 3)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := nn.NewClassifier(1, tensor.Float32, []int{5, 4}, nn.NewSequential(c.layers...))
			require.NoError(t, err)
			defer m.Close()
			_, err = m.Program(2)
			require.ErrorIs(t, err, nn.ErrLayer)
			require.ErrorContains(t, err, c.says)
		})
	}
}

// ApplyState runs a recurrence from given states, whose gradients pass the
// finite-difference check; an LSTM returns cT, a GRU none.
func TestRNNApplyState(t *testing.T) {
	for _, cell := range []string{"lstm", "gru"} {
		t.Run(cell, func(t *testing.T) {
			b := graph.NewBuilder(4)
			x, err := b.Param("x", tensor.Float64, values(randValues(2, 2*3*4)), 2, 3, 4)
			require.NoError(t, err)
			l := nn.LSTM(5)
			if cell == "gru" {
				l = nn.GRU(5)
			}
			h0, err := b.Param("h0", tensor.Float64, values(randValues(3, 10)), 2, 5)
			require.NoError(t, err)
			var c0 *gorgonia.Node
			if cell == "lstm" {
				c0, err = b.Param("c0", tensor.Float64, values(randValues(4, 10)), 2, 5)
				require.NoError(t, err)
			}
			y, hT, cT, err := l.ApplyState(b, "rnn", x, h0, c0)
			require.NoError(t, err)
			require.Equal(t, []int{2, 3, 5}, []int(y.Shape()))
			require.Equal(t, []int{2, 5}, []int(hT.Shape()))
			require.Equal(t, cell == "lstm", cT != nil)
			loss, err := gorgonia.Sum(hT)
			require.NoError(t, err)
			p, err := b.Compile(loss, hT)
			require.NoError(t, err)
			defer p.Close()
			require.NoError(t, p.Run(graph.Feeds{}))
			got := f64(p.Output(0).Data())
			require.Len(t, got, 10)
			res, err := gradcheck.Check(p, graph.Feeds{}, gradcheck.Options{})
			require.NoError(t, err)
			require.NotEmpty(t, res)
			for _, r := range res {
				assert.LessOrEqual(t, r.RelErr, 1e-6, "%v", r)
			}
		})
	}
}

// A LayerNorm over a dimension of size 1 returns β whatever x (x̂ is 0),
// as PyTorch does.
func TestLayerNormSizeOne(t *testing.T) {
	b := graph.NewBuilder(1)
	x, err := b.Input("x", tensor.Float64, 2, 3, 1)
	require.NoError(t, err)
	y, err := nn.LayerNorm().Apply(b, "ln", x)
	require.NoError(t, err)
	copy(b.Params()[1].Value().Data().([]float64), []float64{0.75}) // ln/bias
	loss, err := gorgonia.Sum(y)
	require.NoError(t, err)
	p, err := b.Compile(loss, y)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Forward(graph.Feeds{"x": tensor.New(tensor.WithShape(2, 3, 1), tensor.WithBacking([]float64{1, -2, 3e6, 0, 5, -7}))}))
	assert.Equal(t, []float64{0.75, 0.75, 0.75, 0.75, 0.75, 0.75}, f64(p.Output(0).Data()))
}
