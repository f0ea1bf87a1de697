package onnx_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/models/tabular"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
)

// runORTOutputs runs the file on (n, per) float32 features and returns its
// input names, output names, each output's dims and values.
func runORTOutputs(t *testing.T, model string, x []float32, n int) (ins, outs []string, dims [][]int, vals []float32) {
	t.Helper()
	info, v := execORT(t, "ort_run.js", model, f32bytes(x), itoa(n))
	return info.Inputs, info.Outputs, info.Dims, v
}

// TestTabularORT: a tabular model's export (standardization and, for a
// regressor, the target's scale inside the graph) gives in ONNX Runtime
// what the model predicts, to 1e-5 relative; the checker accepts it.
func TestTabularORT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d = 40, 7
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(100*rng.NormFloat64() + float64(i%d)*50) // far from standardized
	}
	y := make([]float32, n)
	labels := make([]int, n)
	for i := range y {
		y[i] = 1000 + 300*float32(rng.NormFloat64())
		labels[i] = i % 3
	}
	reg, err := datasets.FromValues(x, []int{d}, y, nil)
	require.NoError(t, err)
	clf, err := datasets.FromSlices(x, []int{d}, labels, 3)
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		data datasets.Dataset
		bn   bool
	}{{"regressor", reg, false}, {"classifier-bn", clf, true}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := tabular.Default()
			cfg.BatchNorm = c.bn
			cfg, err := tabular.Fit(cfg, c.data)
			require.NoError(t, err)
			m, err := tabular.New(cfg)
			require.NoError(t, err)
			defer m.Close()
			if _, err := m.Program(8); err != nil {
				t.Fatal(err)
			}
			if c.bn {
				randomizeStats(t, m)
			}
			path := filepath.Join(t.TempDir(), "t.onnx")
			require.NoError(t, onnx.WriteFile(path, m, onnx.Options{InputName: "features", Input: []int{d}, Metadata: map[string]string{"gradlab.columns": "c0,…"}}))
			info := checkONNX(t, path)
			assert.Equal(t, "c0,…", info.Metadata["gradlab.columns"])
			want, err := m.Infer(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(append([]float32(nil), x...))))
			require.NoError(t, err)
			ins, outs, dims, got := runORTOutputs(t, path, x, n)
			assert.Equal(t, []string{"features"}, ins)
			w := want.Float32s()
			if c.data == reg {
				require.Equal(t, []string{onnx.ValuesName}, outs)
				require.Equal(t, [][]int{{n}}, dims)
			} else {
				require.Equal(t, []string{onnx.LogitsName, onnx.ProbabilitiesName}, outs)
				got = got[len(got)/2:] // the probabilities
			}
			require.Len(t, got, len(w))
			// Relative to the value, or for a regressor to the target's scale:
			// a value near 0 is a difference of terms of that size (the output
			// is σ·z + μ), each rounded in float32.
			scale := math.Max(1, cfg.TargetStd+math.Abs(cfg.TargetMean))
			for i := range w {
				assert.InDelta(t, w[i], got[i], 1e-5*math.Max(scale, math.Abs(float64(w[i]))), "value %d", i)
			}
		})
	}
}

// TestMultiLabelORT: a multi-label model's probabilities are a sigmoid per
// label (as nn.Model.Infer gives them), not a softmax across the labels.
func TestMultiLabelORT(t *testing.T) {
	m, err := nn.NewSupervised(3, tensor.Float32, []int{4}, nn.NewSequential(nn.Dense(8), nn.Tanh(), nn.Dense(3)), nn.BCEWithLogits())
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Program(2)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ml.onnx")
	require.NoError(t, onnx.WriteFile(path, m, onnx.Options{InputName: "features", Input: []int{4}}))
	checkONNX(t, path)
	x := []float32{0.5, -1, 2, 0.1, 1, 1, -1, -2, 0, 0.3, 0.2, -0.7}
	want, err := m.Infer(tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(append([]float32(nil), x...))))
	require.NoError(t, err)
	_, outs, _, got := runORTOutputs(t, path, x, 3)
	require.Equal(t, []string{onnx.LogitsName, onnx.ProbabilitiesName}, outs)
	got = got[len(got)/2:]
	w := want.Float32s()
	for i := range w {
		assert.InDelta(t, w[i], got[i], 1e-6, "probability %d", i)
	}
}
