package onnx_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
)

// TestORTCharlm exports the language model of gradlab train -model charlm
// (each architecture, tiny) and checks ONNX Runtime's next-character logits
// (N, T, V) against gradlab's at the full context and at a shorter T: the
// models are causal, so a prefix's logits are the first T positions of the
// full window's.
func TestORTCharlm(t *testing.T) {
	const n = 2
	for _, c := range []charlm.Config{
		{Arch: "transformer", Context: 6, Width: 8, Depth: 2, Heads: 2, Vocab: 11, Seed: 3},
		{Arch: "lstm", Context: 6, Width: 8, Depth: 2, Vocab: 11, Seed: 3},
		{Arch: "gru", Context: 6, Width: 8, Depth: 2, Vocab: 11, Seed: 3},
	} {
		t.Run(c.Arch, func(t *testing.T) {
			m, err := charlm.New(c)
			require.NoError(t, err)
			defer m.Close()
			p, err := m.Program(n)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "charlm.onnx")
			require.NoError(t, onnx.WriteFile(path, m, onnx.Options{}))
			info := checkONNX(t, path)
			require.Equal(t, []string{onnx.IDsName}, info.Inputs)
			ids := make([]int, n*c.Context)
			for i := range ids {
				ids[i] = (i*7 + 2) % c.Vocab
			}
			m.SetMode(graph.Eval)
			require.NoError(t, p.Forward(graph.Feeds{
				nn.InputName: tensor.New(tensor.WithShape(n, c.Context), tensor.WithBacking(append([]int(nil), ids...))),
				nn.LabelName: tensor.New(tensor.WithShape(n, c.Context), tensor.WithBacking(make([]int, n*c.Context))),
			}))
			full := p.Output(0).Data().([]float32)
			for _, tlen := range []int{c.Context, 3} {
				in := make([]int, 0, n*tlen)
				want := make([]float32, 0, n*tlen*c.Vocab)
				for i := range n {
					in = append(in, ids[i*c.Context:i*c.Context+tlen]...)
					want = append(want, full[i*c.Context*c.Vocab:(i*c.Context+tlen)*c.Vocab]...)
				}
				got, dims := runORTSeq(t, path, i64bytes(in), "int64", []int{n, tlen})
				require.Equal(t, []int{n, tlen, c.Vocab}, dims)
				assertClose(t, want, got, 1e-5)
			}
		})
	}
}
