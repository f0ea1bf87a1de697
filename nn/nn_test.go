package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/nn"
)

func classifier(t *testing.T, layers ...nn.Layer) *nn.Model {
	t.Helper()
	m, err := nn.NewClassifier(9, tensor.Float64, []int{6}, nn.NewSequential(layers...))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func feeds(n int) graph.Feeds {
	x := make([]float64, n*6)
	y := make([]int, n)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	for i := range y {
		y[i] = i % 3
	}
	return graph.Feeds{"x": tensor.New(tensor.WithShape(n, 6), tensor.WithBacking(x)), "y": tensor.New(tensor.WithShape(n), tensor.WithBacking(y))}
}

func TestSequentialNames(t *testing.T) {
	m := classifier(t, nn.Dense(5), nn.BatchNorm(), nn.ReLU(), nn.Named("mid", nn.Dense(4, nn.NoBias())), nn.Dropout(0.5),
		nn.NewSequential(nn.Dense(4), nn.Tanh()), nn.Dense(3))
	_, err := m.Program(4)
	require.NoError(t, err)
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name())
	}
	assert.Equal(t, []string{"dense1/w", "dense1/b", "batchnorm1/gamma", "batchnorm1/beta", "mid/w",
		"sequential1/dense1/w", "sequential1/dense1/b", "dense2/w", "dense2/b"}, names)
	var states []string
	for _, s := range m.States() {
		states = append(states, s.Name)
	}
	assert.Equal(t, []string{"batchnorm1/running_mean", "batchnorm1/running_var", "dropout#0/step"}, states)
	assert.Equal(t, 6*5+5+5+5+5*4+4*4+4+4*3+3, m.ParamCount())
}

func TestProgramsShareWeightsAndStates(t *testing.T) {
	m := classifier(t, nn.Dense(5), nn.BatchNorm(), nn.Tanh(), nn.Dropout(0.25), nn.Dense(3))
	full, err := m.Program(8)
	require.NoError(t, err)
	part, err := m.Program(3)
	require.NoError(t, err)
	again, err := m.Program(8)
	require.NoError(t, err)
	assert.Same(t, full, again, "programs are cached per batch size")
	require.NoError(t, part.Run(feeds(3)))
	for i, s := range full.States() {
		assert.Same(t, s.Value, part.States()[i].Value, s.Name)
	}
	assert.Equal(t, 1.0, full.States()[2].Value.Data().([]float64)[0], "dropout#0/step advanced once")
	wf, _ := full.Param("dense1/w")
	wp, _ := part.Param("dense1/w")
	assert.Same(t, wf.Value(), wp.Value())

	_, err = m.Program(0)
	require.ErrorIs(t, err, nn.ErrInput)
}

// TestNewProgramFollowsModelMode: a program made while the model is in Eval
// mode (the last partial batch of a test set) must evaluate, not train.
func TestNewProgramFollowsModelMode(t *testing.T) {
	m := classifier(t, nn.Dense(5), nn.BatchNorm(), nn.Dense(3))
	_, err := m.Program(8)
	require.NoError(t, err)
	m.SetMode(graph.Eval)
	assert.Equal(t, graph.Eval, m.Mode())
	p, err := m.Program(3)
	require.NoError(t, err)
	assert.Equal(t, graph.Eval, p.Mode())
	before := append([]float64(nil), p.States()[0].Value.Data().([]float64)...)
	require.NoError(t, p.Run(feeds(3)))
	assert.Equal(t, before, p.States()[0].Value.Data(), "an Eval run leaves the running mean alone")
}

// TestPredictAnyNumber: Predict of 1, 5 and 600 examples (several batches
// of PredictBatch) equals the Eval-mode outputs of a program of that batch,
// row by row, and leaves mode and statistics alone.
func TestPredictAnyNumber(t *testing.T) {
	m := classifier(t, nn.Dense(5), nn.BatchNorm(), nn.ReLU(), nn.Dropout(0.5), nn.Dense(3))
	p, err := m.Program(4)
	require.NoError(t, err)
	require.NoError(t, p.Run(feeds(4))) // move the running statistics off their start
	stats := append([]float64(nil), m.States()[0].Value.Data().([]float64)...)
	m.PredictBatch = 256
	for _, n := range []int{1, 5, 600} {
		f := feeds(n)
		got, err := m.Predict(f["x"])
		require.NoError(t, err, n)
		require.Equal(t, tensor.Shape{n, 3}, got.Shape())
		ref, err := m.Program(n)
		require.NoError(t, err)
		m.SetMode(graph.Eval)
		require.NoError(t, ref.Run(f))
		m.SetMode(graph.Train)
		assert.InDeltaSlice(t, ref.Output(0).Data(), got.Data(), 1e-12, "n=%d", n)
	}
	assert.Equal(t, graph.Train, m.Mode())
	assert.Equal(t, stats, m.States()[0].Value.Data(), "Predict leaves the running mean alone")

	_, err = m.Predict(tensor.New(tensor.WithShape(2, 5), tensor.WithBacking(make([]float64, 10))))
	require.ErrorIs(t, err, nn.ErrInput)
	assert.Contains(t, err.Error(), "per example")
	_, err = m.Predict(tensor.New(tensor.WithShape(1, 6), tensor.WithBacking(make([]float32, 6))))
	assert.ErrorIs(t, err, nn.ErrInput, "float32 into a float64 model")
	_, err = m.Predict(nil)
	assert.ErrorIs(t, err, nn.ErrInput)
}

func TestLayerErrors(t *testing.T) {
	cases := []struct {
		name   string
		layers []nn.Layer
		says   string
	}{
		{"zero-units", []nn.Layer{nn.Dense(0)}, "layer dense1 (dense): 0 units"},
		{"reshape-size", []nn.Layer{nn.Reshape(4), nn.Dense(3)}, "layer reshape1 (reshape): input shape (4, 6)"},
		{"batchnorm-rank", []nn.Layer{nn.Reshape(2, 3), nn.BatchNorm()}, "layer batchnorm1 (batchnorm): input shape (4, 2, 3)"},
		{"dropout-p", []nn.Layer{nn.Dropout(1), nn.Dense(3)}, "layer dropout1 (dropout)"},
		{"nil-layer", []nn.Layer{nil}, "layer 1"},
		{"logits-1d", []nn.Layer{nn.Dense(1), nn.Reshape()}, "class logits (4), want (batch, …, classes)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := classifier(t, c.layers...)
			_, err := m.Program(4)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
			_, err = m.Summary()
			assert.Error(t, err)
		})
	}
	_, err := nn.NewClassifier(1, tensor.Float64, []int{6}, nn.NewSequential())
	assert.ErrorIs(t, err, nn.ErrModel)
	_, err = nn.NewClassifier(1, tensor.Bool, []int{6}, nn.NewSequential(nn.Dense(2)))
	assert.ErrorIs(t, err, nn.ErrModel)
	_, err = nn.NewClassifier(1, tensor.Float32, []int{0}, nn.NewSequential(nn.Dense(2)))
	assert.ErrorIs(t, err, nn.ErrModel)
	_, err = nn.NewModel(1, nil)
	assert.ErrorIs(t, err, nn.ErrModel)
	_, err = nn.Activation("gelu")
	assert.ErrorIs(t, err, nn.ErrLayer)
}

// TestLayersCompute: Dense is x·W + b with the given initializers; Flatten
// and Reshape move no values.
func TestLayersCompute(t *testing.T) {
	b := graph.NewBuilder(1)
	x, err := b.Input("x", tensor.Float64, 2, 1, 2, 2)
	require.NoError(t, err)
	ones, err := initializers.Constant(1)
	require.NoError(t, err)
	half, err := initializers.Constant(0.5)
	require.NoError(t, err)
	seq := nn.NewSequential(nn.Flatten(), nn.Dense(3, nn.Init(ones), nn.BiasInit(half)), nn.Reshape(3, 1))
	y, err := seq.Apply(b, "", x)
	require.NoError(t, err)
	p, err := b.Compile(nil, y)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Run(graph.Feeds{"x": tensor.New(tensor.WithShape(2, 1, 2, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8}))}))
	assert.Equal(t, tensor.Shape{2, 3, 1}, p.Output(0).Shape())
	assert.Equal(t, []float64{10.5, 10.5, 10.5, 26.5, 26.5, 26.5}, p.Output(0).Data())
}

// TestModelFromBuildFunc: any graph is a Model; its summary lists its parameters.
func TestModelFromBuildFunc(t *testing.T) {
	m, err := nn.NewModel(2, func(b *graph.Builder, batch int) (*gorgonia.Node, []*gorgonia.Node, error) {
		x, err := b.Input(nn.InputName, tensor.Float64, batch, 3)
		if err != nil {
			return nil, nil, err
		}
		w, err := b.Param("w", tensor.Float64, initializers.Must(initializers.Constant(2)), 3, 1)
		if err != nil {
			return nil, nil, err
		}
		y, err := gorgonia.Mul(x, w)
		if err != nil {
			return nil, nil, err
		}
		loss, err := gorgonia.Sum(y)
		return loss, []*gorgonia.Node{y}, err
	})
	require.NoError(t, err)
	defer m.Close()
	out, err := m.Predict(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 2, 3})))
	require.NoError(t, err)
	assert.Equal(t, []float64{12}, out.Data())
	s, err := m.Summary()
	require.NoError(t, err)
	assert.True(t, strings.Contains(s, "w") && strings.Contains(s, "(3, 1)"), s)
	assert.Contains(t, s, "total: 3 learnable parameters")
}

func TestArgmax(t *testing.T) {
	logits := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float32{0, 1, 2, 5, -1, 0, 0, 9, 9}))
	got := make([]int, 3)
	require.NoError(t, nn.Argmax(logits, got))
	assert.Equal(t, []int{2, 0, 1}, got, "ties go to the first class")
	assert.ErrorIs(t, nn.Argmax(logits, make([]int, 2)), nn.ErrInput)
	nan := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{math.NaN(), math.NaN()}))
	require.NoError(t, nn.Argmax(nan, got[:1]))
	assert.Equal(t, 0, got[0])
}

// TestArgmaxRow: the first largest entry; NaNs are never the largest, and a
// row with nothing above −Inf gives 0.
func TestArgmaxRow(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		row  []float64
		want int
	}{
		{[]float64{3}, 0}, {[]float64{1, 3, 3, 2}, 1}, {[]float64{math.NaN(), 1}, 1},
		{[]float64{-1, math.NaN(), -0.5}, 2}, {[]float64{-inf, -inf}, 0}, {[]float64{-inf, inf}, 1}, {nil, 0},
	} {
		assert.Equal(t, c.want, nn.ArgmaxRow(c.row), "%v", c.row)
		row32 := make([]float32, len(c.row))
		for i, v := range c.row {
			row32[i] = float32(v)
		}
		assert.Equal(t, c.want, nn.ArgmaxRow(row32), "float32 %v", c.row)
	}
}
