package onnx_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models/cnn"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/train"
)

// scalingOptions is the export of a scaling (what gradlab export does).
func scalingOptions(s mnist.Scaling) onnx.Options {
	switch s {
	case mnist.Standardize:
		return onnx.Options{Mean: mnist.Mean, Std: mnist.Std}
	case mnist.Symmetric:
		return onnx.Options{Mean: 0.5, Std: 0.5}
	}
	return onnx.Options{}
}

// TestORTMatchesGradlab trains small models for a few hundred steps,
// exports them, runs ONNX Runtime on MNIST test images and checks that its
// logits match gradlab's Predict (≤ 1e-4 relative) and that its accuracy is
// train.Evaluate's, image for image; onnx's checker accepts each file.
func TestORTMatchesGradlab(t *testing.T) {
	mlpCfg := mlp.Default()
	mlpCfg.Hidden, mlpCfg.Dropout = []int{64, 32}, 0.2 // batch norm, dropout, ReLU
	cnnCfg := cnn.Default()
	cnnCfg.Conv, cnnCfg.Kernel, cnnCfg.Dense, cnnCfg.Shift = []int{4, 8}, 3, []int{16}, 2 // with RandomShift
	for _, c := range []struct {
		name         string
		model        string
		cfg          any
		trainN, test int
		ops          string
	}{
		{"mlp/standardize", "mlp", mlpCfg, 6400, 10000,
			"Sub Div Flatten Gemm BatchNormalization Relu Gemm BatchNormalization Relu Gemm Softmax"},
		{"cnn/standardize", "cnn", cnnCfg, 3200, 2000,
			"Sub Div Conv BatchNormalization Relu MaxPool Conv BatchNormalization Relu MaxPool Flatten Gemm Relu Gemm Softmax"},
	} {
		t.Run(c.name, func(t *testing.T) {
			nodeModules(t) // skip before training when ONNX Runtime is missing
			_, te := loadMNIST(t)
			m, cfg := trainModel(t, c.model, c.cfg, c.trainN, mnist.Standardize)
			path := filepath.Join(t.TempDir(), "model.onnx")
			opt := scalingOptions(mnist.Standardize)
			opt.Metadata = map[string]string{"gradlab.config": string(mustJSON(t, cfg))}
			require.NoError(t, onnx.WriteFile(path, m, opt))

			info := checkONNX(t, path)
			require.Equal(t, onnx.IRVersion, info.IR)
			require.Equal(t, []int{onnx.Opset}, info.Opset)
			require.Equal(t, c.ops, joined(info.Ops))
			require.Equal(t, opt.Metadata, info.Metadata)

			test := subset(t, te, c.test, mnist.Standardize)
			want, err := m.Predict(scaled(t, test, tensor.Float32))
			require.NoError(t, err)
			logits, probs := runORT(t, path, unitPixels(test), test.N)
			abs, rel := compareLogits(logits, want.Data().([]float32))
			t.Logf("%s: %d test images, max |logit difference| %.3g, max relative %.3g", c.name, test.N, abs, rel)
			require.LessOrEqual(t, rel, 1e-4)
			for i := 0; i < len(probs); i += 10 {
				s := float32(0)
				for _, p := range probs[i : i+10] {
					s += p
				}
				require.InDelta(t, 1, s, 1e-5)
			}

			ev, err := train.Evaluate(m, test, 64)
			require.NoError(t, err)
			correct := 0
			for i, p := range argmax(logits, 10) {
				if p == int(test.Labels[i]) {
					correct++
				}
			}
			t.Logf("%s: ONNX Runtime accuracy %.2f%% (%d/%d), train.Evaluate %.2f%%", c.name, 100*float64(correct)/float64(test.N), correct, test.N, 100*ev.Scores.Get("acc"))
			require.Equal(t, int(ev.Scores.Get("acc")*float64(test.N)+0.5), correct)
			require.Equal(t, argmax(want.Data().([]float32), 10), argmax(logits, 10))
		})
	}
}

// TestORTLayersAndScalings exports untrained models covering the layers
// and scalings the trained ones do not (unit and symmetric scaling,
// Reshape, strided and padded Conv, AvgPool with padding, Tanh, Sigmoid,
// BatchNorm with other ε and statistics, a float64 model) and checks ONNX
// Runtime's logits against gradlab's.
func TestORTLayersAndScalings(t *testing.T) {
	_, te := loadMNIST(t)
	cases := []struct {
		name    string
		scaling mnist.Scaling
		dt      tensor.Dtype
		input   []int
		layers  func() *nn.Sequential
		ops     string
	}{
		{"mlp/unit/float64", mnist.Unit, tensor.Float64, []int{784}, func() *nn.Sequential {
			return nn.NewSequential(nn.Dense(32), nn.Tanh(), nn.BatchNormWith(opsBN(1e-3)), nn.Dropout(0.5), nn.Dense(10))
		}, "Flatten Gemm Tanh BatchNormalization Gemm Softmax"},
		{"conv/symmetric", mnist.Symmetric, tensor.Float32, []int{1, 28, 28}, func() *nn.Sequential {
			return nn.NewSequential(
				nn.Flatten(), nn.Reshape(1, 28, 28), nn.RandomShift(3),
				nn.Conv2D(3, [2]int{3, 3}, convOpts(2, 1)), nn.BatchNorm(), nn.Sigmoid(),
				nn.AvgPool2D(poolOpts(2, 1)), nn.MaxPool2D(poolOpts(3, 0)), nn.Flatten(), nn.Dense(10, nn.NoBias()))
		}, "Sub Div Flatten Reshape Conv BatchNormalization Sigmoid AveragePool MaxPool Flatten Gemm Softmax"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := nn.NewClassifier(7, c.dt, c.input, c.layers())
			require.NoError(t, err)
			defer m.Close()
			_, err = m.Program(4)
			require.NoError(t, err)
			randomizeStats(t, m)
			path := filepath.Join(t.TempDir(), "model.onnx")
			require.NoError(t, onnx.WriteFile(path, m, scalingOptions(c.scaling)))
			info := checkONNX(t, path)
			require.Equal(t, c.ops, joined(info.Ops))

			test := subset(t, te, 300, c.scaling)
			want, err := m.Predict(scaled(t, test, c.dt))
			require.NoError(t, err)
			var w []float32
			switch d := want.Data().(type) {
			case []float32:
				w = d
			case []float64:
				for _, v := range d {
					w = append(w, float32(v))
				}
			}
			logits, _ := runORT(t, path, unitPixels(test), test.N)
			abs, rel := compareLogits(logits, w)
			t.Logf("%s: max |logit difference| %.3g, max relative %.3g", c.name, abs, rel)
			require.LessOrEqual(t, rel, 1e-4)
		})
	}
}
