package graph_test

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"slices"
	"testing"

	"github.com/chewxy/hm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
)

// normal is a seeded N(0, 1) initializer for tests.
var normal = initializers.Must(initializers.Normal(0, 1))

// TestGorgoniaRuns fails (by panicking at start) if the go4.org/unsafe/assume-no-moving-gc
// pin in go.mod is lost; it also pins the arithmetic of a tiny graph.
func TestGorgoniaRuns(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewScalar(g, tensor.Float64, gorgonia.WithName("x"))
	y := gorgonia.NewScalar(g, tensor.Float64, gorgonia.WithName("y"))
	z, err := gorgonia.Add(x, y)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	require.NoError(t, gorgonia.Let(x, 2.0))
	require.NoError(t, gorgonia.Let(y, 2.5))
	require.NoError(t, m.RunAll())
	assert.Equal(t, 4.5, z.Value().Data())
}

func TestNames(t *testing.T) {
	b := graph.NewBuilder(1)
	_, err := b.Input("x", tensor.Float64, 2, 3)
	require.NoError(t, err)
	cases := []struct {
		name string
		call func() error
		says string
	}{
		{"empty-input", func() error { _, err := b.Input("", tensor.Float64, 2); return err }, "input name is empty"},
		{"duplicate-input", func() error { _, err := b.Input("x", tensor.Float64, 2); return err }, `input "x"`},
		{"param-named-like-input", func() error { _, err := b.Param("x", tensor.Float64, normal, 2); return err }, `parameter "x": the name is already used by a input`},
		{"empty-param", func() error { _, err := b.Param("", tensor.Float64, normal, 2); return err }, "parameter name is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			require.ErrorIs(t, err, graph.ErrName)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestConstructionErrors(t *testing.T) {
	cases := []struct {
		name string
		call func(b *graph.Builder) error
		want error
		says string
	}{
		{"input-zero-dim", func(b *graph.Builder) error { _, err := b.Input("x", tensor.Float64, 2, 0); return err }, graph.ErrShape, `input "x": shape [2 0]`},
		{"input-dtype", func(b *graph.Builder) error { _, err := b.Input("x", tensor.Bool, 2); return err }, graph.ErrDtype, `input "x": dtype bool`},
		{"param-int", func(b *graph.Builder) error { _, err := b.Param("w", tensor.Int, normal, 2); return err }, graph.ErrDtype, `parameter "w"`},
		{"param-no-shape", func(b *graph.Builder) error { _, err := b.Param("w", tensor.Float64, normal); return err }, graph.ErrShape, `parameter "w"`},
		{"param-negative", func(b *graph.Builder) error { _, err := b.Param("w", tensor.Float64, normal, -1); return err }, graph.ErrShape, `parameter "w"`},
		{"param-nil-init", func(b *graph.Builder) error { _, err := b.Param("w", tensor.Float64, nil, 2); return err }, graph.ErrInit, `parameter "w"`},
		{"param-init-fails", func(b *graph.Builder) error {
			_, err := b.Param("w", tensor.Float64, graph.InitializerFunc(func(uint64, tensor.Dtype, ...int) (tensor.Tensor, error) {
				return nil, errors.New("boom")
			}), 2)
			return err
		}, graph.ErrInit, `parameter "w": boom`},
		{"param-init-wrong-shape", func(b *graph.Builder) error {
			_, err := b.Param("w", tensor.Float64, graph.InitializerFunc(func(s uint64, dt tensor.Dtype, _ ...int) (tensor.Tensor, error) {
				return normal.Initialize(s, dt, 3)
			}), 2)
			return err
		}, graph.ErrInit, "returned float64 (3), want float64 (2)"},
		{"gorgonia-init-panics", func(b *graph.Builder) error {
			_, err := b.Param("w", tensor.Float32, graph.FromInitWFn(gorgonia.HeN(1)), 2, 2)
			return err
		}, graph.ErrInit, "gorgonia initializer panicked"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := graph.NewBuilder(1)
			err := c.call(b)
			require.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), c.says)
			// The first error is kept and Compile returns it.
			assert.Equal(t, err, b.Err())
			_, err2 := b.Input("later", tensor.Float64, 1)
			require.NoError(t, err2)
			_, cerr := b.Compile(nil)
			assert.Equal(t, err, cerr)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	b := graph.NewBuilder(1)
	w, _ := b.Param("w", tensor.Float64, normal, 2, 2)
	_, err := b.Compile(w)
	require.ErrorIs(t, err, graph.ErrShape)
	assert.Contains(t, err.Error(), "must be a float scalar")

	b = graph.NewBuilder(1)
	_, err = b.Compile(nil)
	assert.ErrorIs(t, err, graph.ErrBuild)

	other := graph.NewBuilder(2)
	v, _ := other.Param("v", tensor.Float64, normal, 2)
	b = graph.NewBuilder(1)
	_, err = b.Compile(nil, v)
	assert.ErrorIs(t, err, graph.ErrBuild)
}

// linear builds loss = sum(x·w) with x an input (2, 3) and w a parameter (3, 2).
func linear(t *testing.T, seed uint64) (*graph.Program, *gorgonia.Node, *gorgonia.Node) {
	t.Helper()
	b := graph.NewBuilder(seed)
	x, err := b.Input("x", tensor.Float64, 2, 3)
	require.NoError(t, err)
	w, err := b.Param("w", tensor.Float64, normal, 3, 2)
	require.NoError(t, err)
	xw, err := gorgonia.Mul(x, w)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(xw)
	require.NoError(t, err)
	p, err := b.Compile(loss, xw)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p, x, w
}

func ones(shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(tensor.Ones(tensor.Float64, shape...).Data()))
}

func TestFeedErrors(t *testing.T) {
	p, _, _ := linear(t, 1)
	cases := []struct {
		name  string
		feeds graph.Feeds
		want  error
		says  string
	}{
		{"missing", graph.Feeds{}, graph.ErrMissingInput, `"x" (want float64 (2, 3))`},
		{"unknown", graph.Feeds{"x": ones(2, 3), "z": ones(1)}, graph.ErrUnknownInput, `"z" is not an input`},
		{"shape", graph.Feeds{"x": ones(3, 2)}, graph.ErrShape, `input "x": want shape (2, 3), got (3, 2)`},
		{"dtype", graph.Feeds{"x": tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32))}, graph.ErrDtype, `input "x": want dtype float64, got float32`},
		{"nil", graph.Feeds{"x": nil}, graph.ErrMissingInput, `"x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, run := range []func(graph.Feeds) error{p.Run, p.Forward} {
				err := run(c.feeds)
				require.ErrorIs(t, err, c.want)
				var fe *graph.FeedError
				require.ErrorAs(t, err, &fe)
				assert.Contains(t, err.Error(), c.says)
			}
		})
	}
}

func TestRunGradientsAccumulate(t *testing.T) {
	p, _, w := linear(t, 1)
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	feeds := graph.Feeds{"x": x}
	require.NoError(t, p.Run(feeds))
	g, err := w.Grad()
	require.NoError(t, err)
	// d sum(x·w)/dw[i][j] = Σ_r x[r][i]: (5, 7, 9) in each column.
	assert.Equal(t, []float64{5, 5, 7, 7, 9, 9}, g.Data())
	wv := w.Value().Data().([]float64)
	want := 0.0
	for i := range 3 {
		want += (x.Data().([]float64)[i] + x.Data().([]float64)[3+i]) * (wv[2*i] + wv[2*i+1])
	}
	assert.InDelta(t, want, p.Loss(), 1e-12)
	assert.Equal(t, tensor.Shape{2, 2}, p.Output(0).Shape())

	require.NoError(t, p.Run(feeds))
	g, _ = w.Grad()
	assert.Equal(t, []float64{10, 10, 14, 14, 18, 18}, g.Data(), "the tape accumulates")

	// Forward and Eval runs leave the gradient alone.
	require.NoError(t, p.Forward(feeds))
	p.SetMode(graph.Eval)
	require.NoError(t, p.Run(feeds))
	assert.InDelta(t, want, p.Loss(), 1e-12)
	g, _ = w.Grad()
	assert.Equal(t, []float64{10, 10, 14, 14, 18, 18}, g.Data())

	require.NoError(t, p.ZeroGrads())
	g, _ = w.Grad()
	assert.Equal(t, make([]float64, 6), g.Data())
}

func TestParamsStableOrderAndSeeds(t *testing.T) {
	build := func(seed uint64, names ...string) map[string][]float64 {
		b := graph.NewBuilder(seed)
		vals := map[string][]float64{}
		for _, n := range names {
			w, err := b.Param(n, tensor.Float64, normal, 4)
			require.NoError(t, err)
			vals[n] = w.Value().Data().([]float64)
		}
		x, _ := b.Input("x", tensor.Float64, 4)
		var loss *gorgonia.Node
		for _, w := range b.Params() {
			d, err := gorgonia.Mul(x, w) // inner product of vectors
			require.NoError(t, err)
			if loss == nil {
				loss = d
			} else {
				loss, _ = gorgonia.Add(loss, d)
			}
		}
		p, err := b.Compile(loss)
		require.NoError(t, err)
		var got []string
		for _, n := range p.Params() {
			got = append(got, n.Name())
		}
		assert.Equal(t, names, got)
		assert.Len(t, p.Learnables(), len(names))
		return vals
	}
	a := build(7, "w1", "w2", "w3")
	b := build(7, "w3", "w2", "w1")
	c := build(8, "w1", "w2", "w3")
	assert.Equal(t, a, b, "a parameter's value depends on the seed and its name, not the order")
	assert.NotEqual(t, a["w1"], c["w1"])
	assert.NotEqual(t, a["w1"], a["w2"])
}

// modeOp is the identity that records the modes it is told; panicAt makes Do
// panic with that message.
type modeOp struct {
	calls   *[]bool
	panicAt *string // when set and not empty, SetTraining(false) panics with it
}

func (o modeOp) Arity() int    { return 1 }
func (o modeOp) Type() hm.Type { a := hm.TypeVariable('a'); return hm.NewFnType(a, a) }
func (o modeOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (o modeOp) ReturnsPtr() bool      { return false }
func (o modeOp) CallsExtern() bool     { return false }
func (o modeOp) OverwritesInput() int  { return -1 }
func (o modeOp) String() string        { return "mode" }
func (o modeOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.String()) }
func (o modeOp) Hashcode() uint32      { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }
func (o modeOp) DiffWRT(int) []bool    { return []bool{true} }
func (o modeOp) SetTraining(on bool) error {
	*o.calls = append(*o.calls, on)
	if o.panicAt != nil && *o.panicAt != "" && !on {
		panic(*o.panicAt)
	}
	return nil
}
func (o modeOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	return in[0].(tensor.Tensor).Clone().(gorgonia.Value), nil
}
func (o modeOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{grad}, nil
}

func modeProgram(t *testing.T, op modeOp) *graph.Program {
	b := graph.NewBuilder(1)
	w, err := b.Param("w", tensor.Float64, normal, 3)
	require.NoError(t, err)
	y, err := gorgonia.ApplyOp(op, w)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(y)
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	return p
}

func TestModeReachesOps(t *testing.T) {
	var calls []bool
	p := modeProgram(t, modeOp{calls: &calls})
	calls = nil // whatever the machines did while being made
	assert.Equal(t, graph.Train, p.Mode())
	for _, m := range []graph.Mode{graph.Train, graph.Train, graph.Eval, graph.Eval, graph.Train, graph.Eval} {
		p.SetMode(m)
		require.NoError(t, p.Run(nil))
	}
	// Pushed once per change, never recompiled.
	assert.Equal(t, []bool{true, false, true, false}, calls)
	assert.Equal(t, "eval", graph.Eval.String())
}

func TestRunRecoversPanics(t *testing.T) {
	var calls []bool
	var msg string
	p := modeProgram(t, modeOp{calls: &calls, panicAt: &msg})
	require.NoError(t, p.Run(nil))
	msg = "kaboom"
	p.SetMode(graph.Eval)
	err := p.Run(nil)
	require.ErrorIs(t, err, graph.ErrRun)
	assert.Contains(t, err.Error(), "kaboom")
}

func TestFromInitWFn(t *testing.T) {
	v, err := graph.FromInitWFn(gorgonia.Ones()).Initialize(0, tensor.Float32, 2, 2)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 1, 1, 1}, v.Data())
}

func TestStreamsAndStates(t *testing.T) {
	b := graph.NewBuilder(3)
	s0, k0 := b.Stream("dropout")
	s1, k1 := b.Stream("dropout")
	assert.NotEqual(t, s0, s1)
	assert.Equal(t, []int{0, 1}, []int{k0, k1})
	assert.Equal(t, b.SeedFor("dropout#0"), s0)
	again := graph.NewBuilder(3)
	a0, _ := again.Stream("dropout")
	assert.Equal(t, s0, a0)
	o0, _ := graph.NewBuilder(4).Stream("dropout")
	assert.NotEqual(t, s0, o0)

	mean := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 0}))
	got, err := b.AddState("bn/mean", mean)
	require.NoError(t, err)
	assert.Same(t, mean, got)
	_, err = again.AddState("s", mean)
	require.NoError(t, err)
	_, err = again.AddState("s", mean)
	require.ErrorIs(t, err, graph.ErrName)
	x, _ := b.Param("x", tensor.Float64, normal, 2)
	loss, _ := gorgonia.Sum(x)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	st := p.States()
	require.Len(t, st, 1)
	assert.Equal(t, "bn/mean", st[0].Name)
	assert.Same(t, mean, st[0].Value)
}

func TestShare(t *testing.T) {
	build := func(batch int, share *graph.Program) (*graph.Program, *tensor.Dense) {
		b := graph.NewBuilder(1)
		b.Share(share)
		x, _ := b.Input("x", tensor.Float64, batch, 3)
		w, _ := b.Param("w", tensor.Float64, normal, 3, 2)
		st, err := b.AddState("count", tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0})))
		require.NoError(t, err)
		xw, _ := gorgonia.Mul(x, w)
		loss, _ := gorgonia.Sum(xw)
		p, err := b.Compile(loss)
		require.NoError(t, err)
		return p, st
	}
	full, s1 := build(4, nil)
	part, s2 := build(1, full)
	assert.Same(t, s1, s2, "states are shared")
	wf, _ := full.Param("w")
	wp, _ := part.Param("w")
	require.NoError(t, part.Run(graph.Feeds{"x": ones(1, 3)}))
	wp.Value().Data().([]float64)[0] = 42 // an in-place update, as a solver makes
	assert.Equal(t, 42.0, wf.Value().Data().([]float64)[0], "parameters are shared")
	require.NoError(t, full.Run(graph.Feeds{"x": ones(4, 3)}))
	assert.Equal(t, 42.0, wp.Value().Data().([]float64)[0])

	b := graph.NewBuilder(1)
	b.Share(full)
	_, err := b.Param("w", tensor.Float64, normal, 3, 3)
	require.ErrorIs(t, err, graph.ErrShape)
	assert.Contains(t, err.Error(), `shared parameter "w" is float64 (3, 2), want float64 (3, 3)`)
}

// TestModeSharedByPrograms: the mode-aware ops of a graph are shared by every
// program compiled on it, and making a machine sets their mode; each program
// therefore pushes its own mode again after another program ran or compiled.
func TestModeSharedByPrograms(t *testing.T) {
	var mode []bool
	op := modeOp{calls: &mode}
	b := graph.NewBuilder(1)
	w, err := b.Param("w", tensor.Float64, normal, 3)
	require.NoError(t, err)
	y, err := gorgonia.ApplyOp(op, w)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(y)
	require.NoError(t, err)
	train, err := b.Compile(loss)
	require.NoError(t, err)
	defer train.Close()
	last := func() bool { return mode[len(mode)-1] }
	require.NoError(t, train.Run(nil))
	assert.True(t, last())
	eval, err := b.Compile(nil, y) // its forward machine sets the op to eval
	require.NoError(t, err)
	defer eval.Close()
	eval.SetMode(graph.Eval)
	assert.False(t, last())
	require.NoError(t, train.Run(nil))
	assert.True(t, last(), "train program after another Compile")
	require.NoError(t, eval.Run(nil))
	assert.False(t, last())
	require.NoError(t, train.Run(nil))
	assert.True(t, last(), "train program after another program's eval run")
	n := len(mode)
	require.NoError(t, train.Run(nil))
	assert.Len(t, mode, n, "no push while nothing changed")
}

// TestOutputsSurviveInPlaceConsumers: a plain Gorgonia op that consumes an
// output may overwrite it in place; the program's outputs are copies.
func TestOutputsSurviveInPlaceConsumers(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 4)
	w, _ := b.Param("w", tensor.Float64, initializers.Must(initializers.Constant(1)), 4)
	h, err := gorgonia.Add(x, w)
	require.NoError(t, err)
	sq, err := gorgonia.Square(h)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(sq)
	require.NoError(t, err)
	p, err := b.Compile(loss, h)
	require.NoError(t, err)
	feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, 2, 3, 4}))}
	for _, m := range []graph.Mode{graph.Train, graph.Eval} {
		p.SetMode(m)
		require.NoError(t, p.Run(feeds))
		assert.Equal(t, []float64{2, 3, 4, 5}, p.Output(0).Data(), m.String())
		assert.Equal(t, 4.0+9+16+25, p.Loss())
	}
}

// TestOutputShape: the static shape of each requested output, a copy, and
// nil past the end.
func TestOutputShape(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Input("x", tensor.Float64, 3, 4)
	s, err := gorgonia.Sum(x, 1)
	require.NoError(t, err)
	p, err := b.Compile(nil, x, s)
	require.NoError(t, err)
	defer p.Close()
	assert.Equal(t, tensor.Shape{3, 4}, p.OutputShape(0))
	assert.Equal(t, tensor.Shape{3}, p.OutputShape(1))
	p.OutputShape(0)[0] = 99
	assert.Equal(t, tensor.Shape{3, 4}, p.OutputShape(0), "a copy")
	assert.Nil(t, p.OutputShape(2))
	assert.Nil(t, p.OutputShape(-1))
}

func TestProgramInputAndBuilderStates(t *testing.T) {
	b := graph.NewBuilder(1)
	x, err := b.Input("x", tensor.Float64, 3, 2)
	require.NoError(t, err)
	_, err = b.Input("unused", tensor.Float64, 1)
	require.NoError(t, err)
	st, err := b.AddState("s", tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{4})))
	require.NoError(t, err)
	p, err := b.Compile(nil, x)
	require.NoError(t, err)
	defer p.Close()
	n, ok := p.Input("x")
	require.True(t, ok)
	assert.Equal(t, tensor.Shape{3, 2}, n.Shape())
	_, ok = p.Input("unused")
	assert.False(t, ok, "an input the outputs do not read is not the program's")
	require.Len(t, b.States(), 1)
	assert.Same(t, st, b.States()[0].Value)
}

// TestLargeGradientsAccumulate checks gradients large enough for the
// program's parallel accumulation (graph/accumulate.go), in both dtypes:
// three runs without zeroing give three times one run's gradient (exact:
// the values are small integers), and ZeroGrads clears them.
func TestLargeGradientsAccumulate(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			const rows, in, out = 4, 300, 200 // w has 60 000 elements
			b := graph.NewBuilder(1)
			x, err := b.Input("x", dt, rows, in)
			require.NoError(t, err)
			w, err := b.Param("w", dt, normal, in, out)
			require.NoError(t, err)
			xw, err := gorgonia.Mul(x, w)
			require.NoError(t, err)
			loss, err := gorgonia.Sum(xw)
			require.NoError(t, err)
			p, err := b.Compile(loss)
			require.NoError(t, err)
			defer p.Close()
			xs := make([]float64, rows*in)
			for i := range xs {
				xs[i] = float64(i%5 - 2)
			}
			xt := tensor.New(tensor.WithShape(rows, in), tensor.WithBacking(xs))
			if dt == tensor.Float32 {
				x32 := make([]float32, len(xs))
				for i, v := range xs {
					x32[i] = float32(v)
				}
				xt = tensor.New(tensor.WithShape(rows, in), tensor.WithBacking(x32))
			}
			feeds := graph.Feeds{"x": xt}
			grad := func() []float64 {
				g, err := w.Grad()
				require.NoError(t, err)
				switch d := g.Data().(type) {
				case []float32:
					v := make([]float64, len(d))
					for i, x := range d {
						v[i] = float64(x)
					}
					return v
				default:
					return slices.Clone(d.([]float64))
				}
			}
			for run := 1; run <= 3; run++ {
				require.NoError(t, p.Run(feeds))
				g := grad()
				for i := range in {
					var col float64 // d sum(x·w)/dw[i][j] = Σ_r x[r][i]
					for r := range rows {
						col += xs[r*in+i]
					}
					for j := range out {
						require.Equal(t, float64(run)*col, g[i*out+j], "run %d, w[%d][%d]", run, i, j)
					}
				}
			}
			require.NoError(t, p.ZeroGrads())
			require.Equal(t, make([]float64, in*out), grad())
		})
	}
}
