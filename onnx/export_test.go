package onnx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/internal/onnxpb"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
	"github.com/gradlab/gradlab/ops"
)

func opsBN(eps float64) ops.BatchNormOptions { return ops.BatchNormOptions{Eps: eps} }

func convOpts(stride, pad int) ops.ConvOptions {
	return ops.ConvOptions{Stride: [2]int{stride, stride}, Padding: [2]int{pad, pad}}
}

func poolOpts(k, pad int) ops.PoolOptions {
	return ops.PoolOptions{Kernel: [2]int{k, k}, Padding: [2]int{pad, pad}}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// randomizeStats gives every batch-norm layer running statistics and γ, β
// other than their initial values, so the export's use of them shows.
func randomizeStats(t *testing.T, m *nn.Model) {
	t.Helper()
	d, err := m.Describe()
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	for _, l := range d.Layers {
		if l.Kind != "batchnorm" {
			continue
		}
		for i, name := range append(append([]string(nil), l.Params...), l.States...) {
			v, ok := m.Tensor(name)
			require.True(t, ok, name)
			lo := []float64{0.5, -0.5, -0.5, 0.2}[i] // γ, β, mean, var
			switch s := v.Data().(type) {
			case []float32:
				for k := range s {
					s[k] = float32(lo + r.Float64())
				}
			case []float64:
				for k := range s {
					s[k] = lo + r.Float64()
				}
			}
		}
	}
}

func decode(t *testing.T, b []byte) *onnxpb.ModelProto {
	t.Helper()
	var mp onnxpb.ModelProto
	require.NoError(t, proto.Unmarshal(b, &mp))
	return &mp
}

func smallMLP(t *testing.T, layers ...nn.Layer) *nn.Model {
	t.Helper()
	if layers == nil {
		layers = []nn.Layer{nn.Named("fc1", nn.Dense(8, nn.NoBias())), nn.Named("bn1", nn.BatchNorm()), nn.ReLU(), nn.Dropout(0.1), nn.Named("out", nn.Dense(10))}
	}
	m, err := nn.NewClassifier(1, tensor.Float32, []int{784}, nn.NewSequential(layers...))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	_, err = m.Program(2)
	require.NoError(t, err)
	return m
}

func TestEncodeGraph(t *testing.T) {
	m := smallMLP(t)
	b, err := onnx.Encode(m, onnx.Options{Mean: 0.1307, Std: 0.3081, Metadata: map[string]string{"b": "2", "a": "1"}, DocString: "test"})
	require.NoError(t, err)
	mp := decode(t, b)
	require.EqualValues(t, onnx.IRVersion, mp.GetIrVersion())
	require.EqualValues(t, onnx.Opset, mp.GetOpsetImport()[0].GetVersion())
	require.Equal(t, "test", mp.GetDocString())
	var keys []string
	for _, p := range mp.GetMetadataProps() {
		keys = append(keys, p.GetKey())
	}
	require.Equal(t, []string{"a", "b"}, keys, "metadata sorted by key")

	g := mp.GetGraph()
	var got []string
	for _, n := range g.GetNode() {
		got = append(got, n.GetOpType()+"("+joined(n.GetInput())+")->"+joined(n.GetOutput()))
	}
	require.Equal(t, []string{
		"Sub(pixels scale/mean)->scale/centred",
		"Div(scale/centred scale/std)->scale/out",
		"Flatten(scale/out)->input/flat",
		"Gemm(input/flat fc1/w)->fc1/out",
		"BatchNormalization(fc1/out bn1/gamma bn1/beta bn1/running_mean bn1/running_var)->bn1/out",
		"Relu(bn1/out)->relu1/out",
		"Gemm(relu1/out out/w out/b)->logits",
		"Softmax(logits)->probabilities",
	}, got)
	in := g.GetInput()[0].GetType().GetTensorType()
	require.Equal(t, int32(onnxpb.TensorProto_FLOAT), in.GetElemType())
	dims := in.GetShape().GetDim()
	require.Equal(t, "N", dims[0].GetDimParam())
	require.Equal(t, []int64{1, 28, 28}, []int64{dims[1].GetDimValue(), dims[2].GetDimValue(), dims[3].GetDimValue()})
	require.Equal(t, "N", g.GetOutput()[0].GetType().GetTensorType().GetShape().GetDim()[0].GetDimParam())

	// The initializers are the model's tensors, bit for bit.
	for _, init := range g.GetInitializer() {
		if v, ok := m.Tensor(init.GetName()); ok {
			require.Equal(t, f32bytes(v.Data().([]float32)), init.GetRawData(), init.GetName())
			require.EqualValues(t, []int(v.Shape()), toInts(init.GetDims()), init.GetName())
		}
	}

	again, err := onnx.Encode(m, onnx.Options{Mean: 0.1307, Std: 0.3081, Metadata: map[string]string{"a": "1", "b": "2"}, DocString: "test"})
	require.NoError(t, err)
	require.True(t, bytes.Equal(b, again), "Encode is deterministic")
}

func toInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func TestExportErrors(t *testing.T) {
	residual := nn.LayerFunc(func(_ *graph.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Add(x, x) })
	unbuilt, err := nn.NewClassifier(1, tensor.Float32, []int{784}, nn.NewSequential(nn.Dense(10)))
	require.NoError(t, err)
	plain, err := nn.NewModel(1, func(b *graph.Builder, batch int) (*gorgonia.Node, []*gorgonia.Node, error) {
		x, err := b.Input(nn.InputName, tensor.Float32, batch, 784)
		return nil, []*gorgonia.Node{x}, err
	})
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		m    *nn.Model
		opt  onnx.Options
		err  error
		msg  string
	}{
		{"layerfunc", smallMLP(t, nn.Dense(16), nn.Named("res", residual), nn.Dense(10)), onnx.Options{}, onnx.ErrUnsupported, "layer res (func)"},
		{"no-program", unbuilt, onnx.Options{}, onnx.ErrModel, "no parameter values"},
		{"not-sequential", plain, onnx.Options{}, onnx.ErrModel, "Sequential"},
		{"nil", nil, onnx.Options{}, onnx.ErrModel, "nil model"},
		{"input-size", smallMLP(t), onnx.Options{Input: []int{1, 32, 32}}, onnx.ErrModel, "1024 values"},
		{"nan-scaling", smallMLP(t), onnx.Options{Std: nan()}, onnx.ErrModel, "finite"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.onnx")
			require.NoError(t, os.WriteFile(path, []byte("previous"), 0o644))
			err := onnx.WriteFile(path, c.m, c.opt)
			require.ErrorIs(t, err, c.err)
			require.ErrorContains(t, err, c.msg)
			b, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			require.Equal(t, "previous", string(b), "a failed export leaves the file as it was")
		})
	}
	t.Run("not-writable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		err := onnx.WriteFile(filepath.Join(dir, "model.onnx"), smallMLP(t), onnx.Options{})
		require.ErrorIs(t, err, onnx.ErrWrite)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, "model.onnx")
	})
	t.Run("write-fails", func(t *testing.T) {
		err := onnx.Write(failWriter{}, smallMLP(t), onnx.Options{})
		require.True(t, errors.Is(err, errDisk))
	})
}

var errDisk = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

func nan() float64 { z := 0.0; return z / z }

// Layers named alike, or like the export's own nodes, still make a valid
// graph: every value name is unique.
func TestExportNameClashes(t *testing.T) {
	m := smallMLP(t, nn.Named("scale", nn.Dense(16)), nn.Named("act", nn.ReLU()), nn.Named("act", nn.ReLU()), nn.Named("logits", nn.Dense(10)))
	path := filepath.Join(t.TempDir(), "model.onnx")
	require.NoError(t, onnx.WriteFile(path, m, onnx.Options{Mean: 0.5, Std: 0.5}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, n := range decode(t, b).GetGraph().GetNode() {
		for _, o := range n.GetOutput() {
			require.False(t, seen[o], "output %q twice", o)
			seen[o] = true
		}
	}
	require.True(t, seen["act/out#2"] && seen["scale/out#2"], "%v", seen)
	info := checkONNX(t, path)
	require.Equal(t, "Sub Div Flatten Gemm Relu Relu Gemm Softmax", joined(info.Ops))
}
