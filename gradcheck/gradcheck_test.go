package gradcheck_test

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"testing"

	"github.com/chewxy/hm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/gradcheck"
	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// cubeOp computes x³ elementwise; its gradient is 3x²·g, or, when wrong is
// set, the deliberately wrong 2x²·g.
type cubeOp struct{ wrong bool }

func (o cubeOp) Arity() int    { return 1 }
func (o cubeOp) Type() hm.Type { a := hm.TypeVariable('a'); return hm.NewFnType(a, a) }
func (o cubeOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (o cubeOp) ReturnsPtr() bool      { return false }
func (o cubeOp) CallsExtern() bool     { return false }
func (o cubeOp) OverwritesInput() int  { return -1 }
func (o cubeOp) String() string        { return fmt.Sprintf("cube(wrong=%v)", o.wrong) }
func (o cubeOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.String()) }
func (o cubeOp) Hashcode() uint32      { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }
func (o cubeOp) DiffWRT(int) []bool    { return []bool{true} }

func (o cubeOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	x := in[0].Data().([]float64)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * v * v
	}
	return tensor.New(tensor.WithShape(in[0].Shape().Clone()...), tensor.WithBacking(y)), nil
}

func (o cubeOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	c := 3.0
	if o.wrong {
		c = 2.0
	}
	x2, err := gorgonia.HadamardProd(in[0], in[0])
	if err != nil {
		return nil, err
	}
	d, err := gorgonia.Mul(x2, gorgonia.NewConstant(c))
	if err != nil {
		return nil, err
	}
	d, err = gorgonia.HadamardProd(d, grad)
	return gorgonia.Nodes{d}, err
}

func uniform(seed uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
	r := rand.New(rand.NewPCG(seed, 0))
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = 0.5 + r.Float64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), nil
}

func cubeProgram(t *testing.T, wrong bool) *graph.Program {
	b := graph.NewBuilder(9)
	x, err := b.Param("x", tensor.Float64, graph.InitializerFunc(uniform), 2, 3)
	require.NoError(t, err)
	y, err := gorgonia.ApplyOp(cubeOp{wrong: wrong}, x)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(y)
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	return p
}

func TestCheckPassesCorrectGradient(t *testing.T) {
	res, err := gradcheck.Check(cubeProgram(t, false), nil, gradcheck.Options{})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, "x", res[0].Param)
	assert.Less(t, gradcheck.MaxRelErr(res), 1e-8)
}

func TestCheckCatchesWrongGradient(t *testing.T) {
	res, err := gradcheck.Check(cubeProgram(t, true), nil, gradcheck.Options{})
	require.NoError(t, err)
	// 2x² against 3x²: relative error 1/3 everywhere.
	assert.InDelta(t, 1.0/3, gradcheck.MaxRelErr(res), 1e-6)
}

func TestCheckRestoresParameters(t *testing.T) {
	p := cubeProgram(t, false)
	x, _ := p.Param("x")
	before := append([]float64(nil), x.Value().Data().([]float64)...)
	_, err := gradcheck.Check(p, nil, gradcheck.Options{})
	require.NoError(t, err)
	assert.Equal(t, before, x.Value().Data().([]float64))
	g, err := x.Grad()
	require.NoError(t, err)
	assert.Equal(t, make([]float64, 6), g.Data().([]float64), "gradients are zeroed")
}

func TestCheckRejectsFloat32(t *testing.T) {
	b := graph.NewBuilder(1)
	x, _ := b.Param("x32", tensor.Float32, graph.FromInitWFn(gorgonia.Ones()), 2)
	loss, err := gorgonia.Sum(x)
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	_, err = gradcheck.Check(p, nil, gradcheck.Options{})
	assert.ErrorIs(t, err, gradcheck.ErrDtype)
	assert.Contains(t, err.Error(), "x32")
}

func TestCheckRestoresStates(t *testing.T) {
	b := graph.NewBuilder(2)
	x, err := b.Param("x", tensor.Float64, graph.InitializerFunc(uniform), 4, 3)
	require.NoError(t, err)
	y, err := ops.BatchNorm(b, "bn", x, ops.BatchNormOptions{})
	require.NoError(t, err)
	sq, err := gorgonia.Square(y)
	require.NoError(t, err)
	w, err := gorgonia.HadamardProd(sq, x)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(w)
	require.NoError(t, err)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	var before [][]float64
	for _, st := range p.States() {
		before = append(before, append([]float64(nil), st.Value.Data().([]float64)...))
	}
	res, err := gradcheck.Check(p, nil, gradcheck.Options{})
	require.NoError(t, err)
	assert.Less(t, gradcheck.MaxRelErr(res), 1e-6)
	for i, st := range p.States() {
		assert.Equal(t, before[i], st.Value.Data(), st.Name)
	}
}
