package experiments

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInitStatsFindings runs the lecture's full-size experiment (1000×500
// inputs, 10 layers of 500 units) and checks each of its findings on the
// numbers.
func TestInitStatsFindings(t *testing.T) {
	r, err := InitStats(InitStatsOptions{Options: Options{Seed: 1}})
	require.NoError(t, err)
	require.Len(t, r.Cases, 6)
	for _, c := range r.Cases {
		require.Len(t, c.Layers, 10, c.Case.Name)
		require.Len(t, c.Hists, 10, c.Case.Name)
	}
	last := func(name string) LayerStats {
		c := r.Case(name)
		require.NotNil(t, c, name)
		return c.Layers[len(c.Layers)-1]
	}

	t.Run("std0.01-tanh collapses", func(t *testing.T) {
		c := r.Case("std0.01-tanh")
		assert.Less(t, last("std0.01-tanh").Std, 1e-3)
		for i := 1; i < len(c.Layers); i++ {
			assert.Less(t, c.Layers[i].Std, 0.5*c.Layers[i-1].Std, "layer %d", i+1)
		}
	})
	t.Run("std1-tanh saturates", func(t *testing.T) {
		for _, l := range r.Case("std1-tanh").Layers {
			assert.Greater(t, l.Saturated, 0.8, "layer %d: fraction |a| > 0.99", l.Layer)
			assert.Greater(t, l.Std, 0.95, "layer %d", l.Layer)
		}
	})
	t.Run("xavier-tanh stays healthy", func(t *testing.T) {
		for _, l := range r.Case("xavier-tanh").Layers {
			assert.InDelta(t, 0, l.Mean, 0.01, "layer %d", l.Layer)
			assert.Greater(t, l.Std, 0.15, "layer %d", l.Layer)
			assert.Less(t, l.Std, 0.8, "layer %d", l.Layer)
			assert.Less(t, l.Saturated, 0.05, "layer %d", l.Layer)
		}
	})
	t.Run("xavier-relu shrinks", func(t *testing.T) {
		c := r.Case("xavier-relu")
		for i := 1; i < len(c.Layers); i++ {
			// Var halves per layer with ReLU: std × 1/√2 ≈ 0.71.
			ratio := c.Layers[i].Std / c.Layers[i-1].Std
			assert.Less(t, ratio, 0.85, "layer %d", i+1)
			assert.Greater(t, ratio, 0.55, "layer %d", i+1)
		}
		assert.Less(t, last("xavier-relu").Std, 0.1*c.Layers[0].Std)
	})
	t.Run("he-relu stays constant", func(t *testing.T) {
		c := r.Case("he-relu")
		for _, l := range c.Layers {
			assert.InDelta(t, 1, l.Std/c.Layers[0].Std, 0.3, "layer %d", l.Layer)
		}
	})
	t.Run("he-relu-bn is unit Gaussian through ReLU", func(t *testing.T) {
		// ReLU of N(0, 1): mean 1/√(2π) ≈ 0.399, std √(1/2 − 1/(2π)) ≈ 0.584.
		for _, l := range r.Case("he-relu-bn").Layers {
			assert.InDelta(t, 0.399, l.Mean, 0.01, "layer %d", l.Layer)
			assert.InDelta(t, 0.584, l.Std, 0.01, "layer %d", l.Layer)
			assert.InDelta(t, 0.5, l.Zeros, 0.01, "layer %d", l.Layer)
		}
	})
	t.Run("histograms count every tanh value", func(t *testing.T) {
		for _, c := range r.Cases {
			if c.Activation != "tanh" {
				continue
			}
			for i, h := range c.Hists {
				var n float64
				for _, v := range h.Counts {
					n += v
				}
				assert.Zero(t, h.Outside, "%s layer %d", c.Case.Name, i+1)
				assert.Equal(t, float64(r.Samples*r.Units), n, "%s layer %d", c.Case.Name, i+1)
			}
		}
	})

	dir := t.TempDir()
	files, err := WriteInitStats(dir, r)
	require.NoError(t, err)
	requireFiles(t, dir, files)
	csv, err := os.ReadFile(filepath.Join(dir, "stats.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	assert.Equal(t, "case,layer,mean,std", lines[0])
	assert.Len(t, lines, 1+6*10)
	for _, name := range []string{"std0.01-tanh", "std1-tanh", "xavier-tanh", "xavier-relu", "he-relu", "he-relu-bn"} {
		assert.Contains(t, files, "init_hist_"+name+".png")
		assert.Contains(t, string(csv), "\n"+name+",10,")
	}
}

// TestInitStatsGradients checks the backward pass on a smaller network: with
// N(0, 0.01²) and tanh the weight gradients vanish (the activations they are
// made of collapse), with Xavier they keep the same size in every layer.
func TestInitStatsGradients(t *testing.T) {
	r, err := InitStats(InitStatsOptions{Options: Options{Seed: 2}, Samples: 200, Units: 100, Layers: 6, Gradients: true,
		Cases: []InitCase{InitCases()[0], InitCases()[2]}})
	require.NoError(t, err)
	small, xav := r.Cases[0].Layers, r.Cases[1].Layers
	for i := range small {
		assert.Less(t, small[i].GradStd, 1e-4*xav[i].GradStd, "layer %d", i+1)
		assert.InDelta(t, 1, xav[i].GradStd/xav[5].GradStd, 0.5, "layer %d", i+1)
	}
	dir := t.TempDir()
	files, err := WriteInitStats(dir, r)
	require.NoError(t, err)
	assert.Contains(t, files, "grads.csv")
	requireFiles(t, dir, files)
}

func TestInitStatsDeterministicAndErrors(t *testing.T) {
	o := InitStatsOptions{Options: Options{Seed: 3}, Samples: 20, Units: 10, Layers: 3}
	a, err := InitStats(o)
	require.NoError(t, err)
	b, err := InitStats(o)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	o.Seed = 4
	c, err := InitStats(o)
	require.NoError(t, err)
	assert.NotEqual(t, a.Cases[0].Layers, c.Cases[0].Layers)

	_, err = InitStats(InitStatsOptions{Samples: 1})
	assert.ErrorIs(t, err, ErrConfig)
	bad := InitCases()[0]
	bad.Activation = "gelu"
	_, err = InitStats(InitStatsOptions{Samples: 4, Units: 2, Layers: 1, Cases: []InitCase{bad}})
	assert.ErrorIs(t, err, ErrConfig)
	assert.ErrorContains(t, err, "gelu")
}
