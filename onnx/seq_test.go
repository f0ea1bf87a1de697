package onnx_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/ops"
)

// runORTSeq runs the ONNX file in ONNX Runtime on one input (float32 or
// int64 data of the given shape) and returns the logits and their shape.
func runORTSeq(t *testing.T, model string, in []byte, dtype string, shape []int) ([]float32, []int) {
	t.Helper()
	dims, _ := json.Marshal(shape)
	info, v := execORT(t, "ort_seq.js", model, in, dtype, string(dims))
	require.Equal(t, []string{"logits", "probabilities"}, info.Outputs)
	return v[:len(v)/2], info.Dims[0]
}

func i64bytes(v []int) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(int64(x)))
	}
	return b
}

// seqInput returns n examples of shape (t, features) with fixed values.
func seqInput(n, t, features int) []float32 {
	v := make([]float32, n*t*features)
	for i := range v {
		v[i] = float32(math.Sin(float64(i)*0.37) * 1.5)
	}
	return v
}

// TestORTSequenceLayers exports a model of float sequences through every
// sequence layer and checks ONNX Runtime's logits against gradlab's (≤ 1e-5
// relative, 1e-5 absolute floor) at the exported sequence length and, the
// file's T being dynamic, at a shorter one (against the same model built for
// that length: the parameters are seeded by name, so they are the same).
func TestORTSequenceLayers(t *testing.T) {
	stacks := []struct {
		name   string
		layers func() *nn.Sequential
		ops    []string
	}{
		{"lstm-transformer-gru", func() *nn.Sequential {
			return nn.NewSequential(
				nn.LSTM(7),
				nn.Dense(8),
				nn.PositionalEmbedding(10),
				nn.TransformerBlock(2, 12, 0.1, nn.Causal()),
				nn.LayerNorm(),
				nn.MultiHeadAttention(4),
				nn.Residual(nn.LayerNormWith(opsLN(1e-3)), nn.Dense(8), nn.GELU()),
				nn.GRU(6, nn.LastStep()),
				nn.Dense(3),
			)
		}, []string{"LSTM", "GRU", "Erf", "ReduceMean", "Softmax", "Where", "Range", "Gather", "MatMul"}},
		{"gru-causal-lstm-softmax", func() *nn.Sequential {
			return nn.NewSequential(
				nn.GRU(5),
				nn.MultiHeadAttention(1, nn.Causal()),
				nn.LSTM(4, nn.LastStep()),
				nn.Dense(3),
				nn.Softmax(),
			)
		}, []string{"GRU", "LSTM", "Where", "Squeeze", "Softmax"}},
	}
	const steps, features, n = 6, 5, 4
	for _, c := range stacks {
		t.Run(c.name, func(t *testing.T) {
			build := func(tlen int) *nn.Model {
				m, err := nn.NewClassifier(11, tensor.Float32, []int{tlen, features}, c.layers())
				require.NoError(t, err)
				_, err = m.Program(n)
				require.NoError(t, err)
				return m
			}
			m := build(steps)
			defer m.Close()
			path := filepath.Join(t.TempDir(), "seq.onnx")
			require.NoError(t, onnx.WriteFile(path, m, onnx.Options{}))
			info := checkONNX(t, path)
			require.Equal(t, []int{onnx.Opset}, info.Opset)
			for _, op := range c.ops {
				require.Contains(t, info.Ops, op)
			}
			for _, tlen := range []int{steps, 3} {
				mt := m
				if tlen != steps {
					mt = build(tlen)
					defer mt.Close()
				}
				x := seqInput(n, tlen, features)
				want, err := mt.Predict(tensor.New(tensor.WithShape(n, tlen, features), tensor.WithBacking(x)))
				require.NoError(t, err)
				got, dims := runORTSeq(t, path, f32bytes(x), "float32", []int{n, tlen, features})
				require.Equal(t, []int{n, 3}, dims)
				assertClose(t, want.Data().([]float32), got, 1e-5)
			}
		})
	}
}

// TestORTTokenModel exports a model of token ids (Embedding first, ids as
// int64) and checks it as above. It needs a model of int input, which
// NewClassifier takes since issue 19 (before, it skips).
func TestORTTokenModel(t *testing.T) {
	const vocab, steps, n = 11, 5, 3
	layers := nn.NewSequential(
		nn.Embedding(vocab, 8),
		nn.PositionalEmbedding(8),
		nn.TransformerBlock(2, 0, 0, nn.Causal()),
		nn.LayerNorm(),
		nn.LSTM(6),
		nn.Dense(vocab), // per-position logits (batch, T, V)
		nn.GRU(5, nn.LastStep()),
		nn.Dense(vocab), // the next token's logits (batch, V)
	)
	m, err := nn.NewClassifier(12, tensor.Int, []int{steps}, layers)
	if err != nil {
		t.Skipf("NewClassifier does not take int token ids in this tree: %v", err)
	}
	defer m.Close()
	p, err := m.Program(n)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tokens.onnx")
	require.NoError(t, onnx.WriteFile(path, m, onnx.Options{}))
	checkONNX(t, path)
	ids := make([]int, n*steps)
	for i := range ids {
		ids[i] = (i*7 + 3) % vocab
	}
	m.SetMode(graph.Eval)
	require.NoError(t, p.Forward(graph.Feeds{
		nn.InputName: tensor.New(tensor.WithShape(n, steps), tensor.WithBacking(append([]int(nil), ids...))),
		nn.LabelName: tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]int, n))),
	}))
	want := append([]float32(nil), p.Output(0).Data().([]float32)...)
	got, dims := runORTSeq(t, path, i64bytes(ids), "int64", []int{n, steps})
	require.Equal(t, []int{n, vocab}, dims)
	assertClose(t, want, got, 1e-5)
}

// assertClose checks |got − want| ≤ tol·max(|want|, 1) elementwise.
func assertClose(t *testing.T, want, got []float32, tol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	var worst float64
	for i := range want {
		d := math.Abs(float64(got[i]-want[i])) / max(math.Abs(float64(want[i])), 1)
		worst = max(worst, d)
	}
	t.Logf("max relative difference %.3g over %d logits", worst, len(want))
	require.LessOrEqual(t, worst, tol)
}

func opsLN(eps float64) ops.LayerNormOptions { return ops.LayerNormOptions{Eps: eps} }

// TestORTTokenLM exports a causal language model of token ids with logits
// for every position (batch, T, V) and checks ONNX Runtime against gradlab
// at the exported length and a shorter one (the file's T is dynamic).
func TestORTTokenLM(t *testing.T) {
	const vocab, steps, n = 13, 5, 2
	build := func(tlen int) (*nn.Model, *graph.Program) {
		m, err := nn.NewClassifier(21, tensor.Int, []int{tlen}, nn.NewSequential(
			nn.Embedding(vocab, 8),
			nn.PositionalEmbedding(8),
			nn.TransformerBlock(2, 0, 0.1, nn.Causal()),
			nn.LayerNorm(),
			nn.Dense(vocab),
		))
		if err != nil {
			t.Skipf("NewClassifier does not take int token ids in this tree: %v", err)
		}
		p, err := m.Program(n)
		require.NoError(t, err)
		m.SetMode(graph.Eval)
		return m, p
	}
	m, _ := build(steps)
	defer m.Close()
	path := filepath.Join(t.TempDir(), "lm.onnx")
	require.NoError(t, onnx.WriteFile(path, m, onnx.Options{}))
	checkONNX(t, path)
	for _, tlen := range []int{steps, 3} {
		mt, p := build(tlen)
		defer mt.Close()
		ids := make([]int, n*tlen)
		for i := range ids {
			ids[i] = (i*5 + 2) % vocab
		}
		require.NoError(t, p.Forward(graph.Feeds{
			nn.InputName: tensor.New(tensor.WithShape(n, tlen), tensor.WithBacking(append([]int(nil), ids...))),
			nn.LabelName: tensor.New(tensor.WithShape(n, tlen), tensor.WithBacking(make([]int, n*tlen))),
		}))
		want := append([]float32(nil), p.Output(0).Data().([]float32)...)
		got, dims := runORTSeq(t, path, i64bytes(ids), "int64", []int{n, tlen})
		require.Equal(t, []int{n, tlen, vocab}, dims)
		assertClose(t, want, got, 1e-5)
	}
}
