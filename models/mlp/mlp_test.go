package mlp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/models/mlp"
)

func cfg() mlp.Config {
	return mlp.Config{Inputs: 6, Hidden: []int{5, 4}, Classes: 3, Activation: "tanh", Init: "xavier",
		BatchNorm: true, Dropout: 0.25, Dtype: "float64", Seed: 9}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *mlp.Config)
		says string
	}{
		{"inputs", func(c *mlp.Config) { c.Inputs = 0 }, "inputs = 0"},
		{"classes", func(c *mlp.Config) { c.Classes = 1 }, "classes = 1"},
		{"hidden", func(c *mlp.Config) { c.Hidden = []int{3, 0} }, "hidden layer 2 has 0 units"},
		{"activation", func(c *mlp.Config) { c.Activation = "swish" }, `activation "swish"`},
		{"init", func(c *mlp.Config) { c.Init = "nope" }, `"nope"`},
		{"dropout", func(c *mlp.Config) { c.Dropout = -0.1 }, "dropout = -0.1"},
		{"dtype", func(c *mlp.Config) { c.Dtype = "float16" }, `dtype "float16"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cf := cfg()
			c.edit(&cf)
			_, err := mlp.New(cf)
			require.ErrorIs(t, err, mlp.ErrConfig)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestParamsAndCount(t *testing.T) {
	m, err := mlp.New(cfg())
	require.NoError(t, err)
	p, err := m.Program(8)
	require.NoError(t, err)
	var names []string
	total := 0
	for _, n := range m.Params() {
		names = append(names, n.Name())
		total += n.Shape().TotalSize()
	}
	assert.Equal(t, []string{"fc1/w", "bn1/gamma", "bn1/beta", "fc2/w", "bn2/gamma", "bn2/beta", "out/w", "out/b"}, names)
	assert.Equal(t, cfg().ParamCount(), total)
	var states []string
	for _, s := range p.States() {
		states = append(states, s.Name)
	}
	assert.Equal(t, []string{"bn1/running_mean", "bn1/running_var", "dropout#0/step", "bn2/running_mean", "bn2/running_var", "dropout#1/step"}, states)

	plain := cfg()
	plain.BatchNorm, plain.Dropout = false, 0
	assert.Equal(t, 6*5+5+5*4+4+4*3+3, plain.ParamCount())
}

func TestSameSeedSameWeights(t *testing.T) {
	values := func(seed uint64) []float64 {
		c := cfg()
		c.Seed = seed
		m, err := mlp.New(c)
		require.NoError(t, err)
		_, err = m.Program(4)
		require.NoError(t, err)
		return m.Params()[0].Value().Data().([]float64)
	}
	assert.Equal(t, values(1), values(1))
	assert.NotEqual(t, values(1), values(2))
}

func TestNewWithInit(t *testing.T) {
	c := cfg()
	c.Init = "N(0, 0.3²)"
	m, err := mlp.NewWithInit(c, initializers.Must(initializers.Normal(0, 0.3)))
	require.NoError(t, err)
	_, err = m.Program(4)
	require.NoError(t, err)
	// Exactly the initializer's values for the parameter's seed (the
	// builder derives it from the model's seed and the name).
	p := m.Params()[0]
	want, err := initializers.Must(initializers.Normal(0, 0.3)).Initialize(graph.NewBuilder(c.Seed).SeedFor(p.Name()), p.Dtype(), p.Shape()...)
	require.NoError(t, err)
	assert.Equal(t, want.Data(), p.Value().Data())
	c.Dropout = 2
	_, err = mlp.NewWithInit(c, initializers.Zeros())
	assert.ErrorIs(t, err, mlp.ErrConfig)
}
