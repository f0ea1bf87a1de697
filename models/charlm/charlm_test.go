package charlm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/nn"
)

func small(arch string) charlm.Config {
	c := charlm.Default()
	c.Arch, c.Vocab, c.Context, c.Width, c.Depth, c.Heads = arch, 7, 8, 16, 2, 4
	return c
}

// build returns an untrained model of c with its parameters perturbed
// (so that every weight, the biases and norms included, matters).
func build(t *testing.T, c charlm.Config) *nn.Model {
	m, err := charlm.New(c)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	_, err = m.Program(2)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range m.Params() {
		v := p.Value().Data().([]float32)
		for i := range v {
			v[i] += float32(0.3 * rng.NormFloat64())
		}
	}
	return m
}

// fullLogits runs the graph on one window (padded with token 0 to the
// context) and returns its (T, V) logits.
func fullLogits(t *testing.T, m *nn.Model, c charlm.Config, ids []int) []float32 {
	x := make([]int, c.Context)
	copy(x, ids)
	y, err := m.Predict(tensor.New(tensor.WithShape(1, c.Context), tensor.WithBacking(x)))
	require.NoError(t, err)
	return y.Data().([]float32)
}

// The incremental path (a key/value cache, the recurrent state) gives the
// graph's logits at every position of a window.
func TestStepMatchesGraph(t *testing.T) {
	for _, arch := range charlm.Architectures {
		t.Run(arch, func(t *testing.T) {
			c := small(arch)
			m := build(t, c)
			ids := []int{3, 1, 4, 1, 5, 6, 2, 6}
			want := fullLogits(t, m, c, ids)
			g, err := charlm.NewGenerator(m, c, 0)
			require.NoError(t, err)
			for p, id := range ids {
				got, err := g.Step(id)
				require.NoError(t, err)
				for j, v := range got {
					w := want[p*c.Vocab+j]
					require.InDelta(t, w, v, 1e-4*(1+math.Abs(float64(w))), "position %d token %d", p, j)
				}
			}
		})
	}
}

// Past a full window, a transformer re-encodes the last half of it: the
// logits are then those of the graph on that shorter window.
func TestSlidingWindow(t *testing.T) {
	c := small("transformer")
	m := build(t, c)
	g, err := charlm.NewGenerator(m, c, 4)
	require.NoError(t, err)
	ids := []int{3, 1, 4, 1, 5, 6}
	var got []float32
	for _, id := range ids {
		got, err = g.Step(id)
		require.NoError(t, err)
	}
	// After 3,1,4,1 (full) the window 4,1 was re-encoded, then 5 and 6.
	want := fullLogits(t, m, c, []int{4, 1, 5, 6})
	for j, v := range got {
		assert.InDelta(t, want[3*c.Vocab+j], v, 1e-4)
	}
	_, err = charlm.NewGenerator(m, c, 9)
	assert.ErrorIs(t, err, charlm.ErrContext)
}

// Sampling is deterministic for a seed, and differs between seeds;
// invalid options are named errors.
func TestGenerate(t *testing.T) {
	c := small("gru")
	m := build(t, c)
	g, err := charlm.NewGenerator(m, c, 0)
	require.NoError(t, err)
	gen := func(s charlm.Sampling, n int) ([]int, error) {
		var out []int
		err := g.Generate([]int{1, 2}, n, s, func(id int) error { out = append(out, id); return nil })
		return out, err
	}
	a, err := gen(charlm.Sampling{Temperature: 1, Seed: 1}, 40)
	require.NoError(t, err)
	b, _ := gen(charlm.Sampling{Temperature: 1, Seed: 1}, 40)
	d, _ := gen(charlm.Sampling{Temperature: 1, Seed: 2}, 40)
	assert.Len(t, a, 40)
	assert.Equal(t, a, b, "one seed, one text")
	assert.NotEqual(t, a, d)
	k1, _ := gen(charlm.Sampling{Temperature: 1, TopK: 1, Seed: 5}, 20)
	k2, _ := gen(charlm.Sampling{Temperature: 1e-6, Seed: 9}, 20)
	assert.Equal(t, k1, k2, "top-1 is greedy, as is a tiny temperature")
	for _, s := range []charlm.Sampling{{Temperature: 0}, {Temperature: -1}, {Temperature: math.NaN()}, {Temperature: math.Inf(1)}, {Temperature: 1, TopK: -1}} {
		_, err := gen(s, 3)
		assert.ErrorIs(t, err, charlm.ErrSampling, "%+v", s)
	}
	_, err = gen(charlm.Sampling{Temperature: 1}, -1)
	assert.ErrorIs(t, err, charlm.ErrSampling)
	none, err := gen(charlm.Sampling{Temperature: 1}, 0)
	assert.NoError(t, err)
	assert.Empty(t, none)
	_, err = g.Step(7)
	assert.ErrorIs(t, err, charlm.ErrSampling, "a token outside the vocabulary")
}

func TestConfig(t *testing.T) {
	for _, c := range []charlm.Config{
		{Arch: "rnn", Context: 8, Width: 8, Depth: 1, Vocab: 5},
		{Arch: "transformer", Context: 0, Width: 8, Depth: 1, Heads: 2, Vocab: 5},
		{Arch: "transformer", Context: 8, Width: 8, Depth: 1, Heads: 3, Vocab: 5},
		{Arch: "lstm", Context: 8, Width: 8, Depth: 0, Vocab: 5},
		{Arch: "lstm", Context: 8, Width: 8, Depth: 1, Dropout: 1, Vocab: 5},
		{Arch: "lstm", Context: 8, Width: 8, Depth: 1, Vocab: 1},
	} {
		_, err := charlm.New(c)
		assert.ErrorIs(t, err, charlm.ErrConfig, "%+v", c)
	}
	assert.Equal(t, "charlm-gru-1x512-c128", charlm.Default().Name())
	c := charlm.Default()
	c.Arch = "transformer"
	assert.Equal(t, "charlm-transformer-1x512-h4-c128", c.Name())
}
