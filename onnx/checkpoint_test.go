package onnx_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/train"
)

// TestCheckpointORT is the README's measurement, run on demand: it exports
// the checkpoint in $GRADLAB_ONNX_CHECKPOINT (a gradlab train run on MNIST),
// runs ONNX Runtime on the 10 000 MNIST test images and compares its
// logits and accuracy with gradlab's:
//
//	GRADLAB_ONNX_CHECKPOINT=runs/mnist/checkpoint.safetensors go test -run CheckpointORT -v ./onnx
func TestCheckpointORT(t *testing.T) {
	path := os.Getenv("GRADLAB_ONNX_CHECKPOINT")
	if path == "" {
		t.Skip("set GRADLAB_ONNX_CHECKPOINT to a checkpoint to measure it")
	}
	nodeModules(t)
	f, cfg, err := train.ReadCheckpoint(path)
	require.NoError(t, err)
	m, err := models.Build(cfg.Model.Name, cfg.Model.Config, cfg.Seed)
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Program(cfg.Batch)
	require.NoError(t, err)
	require.NoError(t, train.RestoreModel(m, f))
	var data struct{ Scaling string }
	require.NoError(t, cfg.Data.Decode(&data))
	s, err := mnist.ParseScaling(data.Scaling)
	require.NoError(t, err)

	out := filepath.Join(t.TempDir(), "model.onnx")
	require.NoError(t, onnx.WriteFile(out, m, scalingOptions(s)))
	_, te := loadMNIST(t)
	test := subset(t, te, te.N, s)
	want, err := m.Predict(scaled(t, test, m.Params()[0].Dtype()))
	require.NoError(t, err)
	w, ok := want.Data().([]float32)
	require.True(t, ok, "a float32 model")
	logits, _ := runORT(t, out, unitPixels(test), test.N)
	abs, rel := compareLogits(logits, w)
	ev, err := train.Evaluate(m, test, cfg.Batch)
	require.NoError(t, err)
	correct := 0
	for i, p := range argmax(logits, 10) {
		if p == int(test.Labels[i]) {
			correct++
		}
	}
	t.Logf("%s: max |logit difference| %.3g (relative %.3g); ONNX Runtime accuracy %.2f%% (%d/%d), train.Evaluate %.2f%%",
		path, abs, rel, 100*float64(correct)/float64(test.N), correct, test.N, 100*ev.Scores.Get("acc"))
	require.LessOrEqual(t, rel, 1e-4)
	require.Equal(t, int(ev.Scores.Get("acc")*float64(test.N)+0.5), correct)
}
