package ops

import (
	"errors"
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrID reports a token id outside [0, V) of an embedding table at run time;
// the message names the position of the id in ids and its value.
var ErrID = errors.New("ops: id out of range")

// Embedding returns the rows of table, of shape (V, D), picked by ids, a
// tensor.Int node of any shape holding values in [0, V): out[p…, :] =
// table[ids[p…], :], of shape ids.shape + (D), as torch.nn.functional.embedding.
// The table's gradient adds the output gradient of every position into the
// row of its id, so repeated ids accumulate; ids get no gradient. An id
// outside [0, V) is an ErrID error from the run naming its position and
// value; ids of a float type are an ErrDtype error at construction.
func Embedding(ids, table *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "Embedding"
	if ids == nil {
		return nil, fmt.Errorf("%w: %s: ids is nil", ErrBuild, op)
	}
	if ids.Dtype() != tensor.Int {
		return nil, fmt.Errorf("%w: %s: ids %v have dtype %v, want int (token ids)", ErrDtype, op, ids.Shape(), ids.Dtype())
	}
	if err := checkFloat(op, "table", table); err != nil {
		return nil, err
	}
	ts := table.Shape()
	if len(ts) != 2 || ts[0] <= 0 || ts[1] <= 0 {
		return nil, fmt.Errorf("%w: %s: table has shape %v, want (V, D)", ErrShape, op, ts)
	}
	is := ids.Shape().Clone()
	if ids.IsScalar() {
		is = tensor.Shape{}
	}
	v, dim := ts[0], ts[1]
	out := append(is.Clone(), dim)
	a := hm.TypeVariable('a')
	idsType := func() hm.Type {
		if len(is) == 0 {
			return tensor.Int
		}
		return gorgonia.TensorType{Dims: len(is), Of: tensor.Int}
	}
	tab := gorgonia.TensorType{Dims: 2, Of: a}
	res := gorgonia.TensorType{Dims: len(out), Of: a}
	name := fmt.Sprintf("Embedding(ids=%v, table=%v)", is, ts)
	fwd := &def{
		name:   name,
		label:  op,
		typ:    hm.NewFnType(idsType(), tab, res),
		shape:  out,
		ints:   []bool{true, false},
		diff:   []bool{false, true},
		runI32: func(o []float32, in [][]float32, ints [][]int) error { return embedFwd(o, in[1], ints[0], is, v, dim) },
		runI64: func(o []float64, in [][]float64, ints [][]int) error { return embedFwd(o, in[1], ints[0], is, v, dim) },
	}
	fwd.grad = func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
		dt, err := applyDef(&def{
			name:   "EmbeddingGrad" + name[len("Embedding"):],
			label:  op + "Grad",
			typ:    hm.NewFnType(idsType(), res, tab),
			shape:  ts.Clone(),
			ints:   []bool{true, false},
			runI32: func(o []float32, in [][]float32, ints [][]int) error { return embedBwd(o, in[1], ints[0], is, v, dim) },
			runI64: func(o []float64, in [][]float64, ints [][]int) error { return embedBwd(o, in[1], ints[0], is, v, dim) },
		}, in[0], g)
		return gorgonia.Nodes{nil, dt}, err
	}
	return applyDef(fwd, ids, table)
}

// badID returns the ErrID error of the id at flat position p.
func badID(op string, ids []int, p int, shape tensor.Shape, v int) error {
	idx := make([]int, len(shape))
	r := p
	for i := len(shape) - 1; i >= 0; i-- {
		idx[i] = r % shape[i]
		r /= shape[i]
	}
	return fmt.Errorf("%w: %s: id %d at position %v of ids %v is outside [0, %d)", ErrID, op, ids[p], idx, shape, v)
}

func embedFwd[T float](out, table []T, ids []int, shape tensor.Shape, v, d int) error {
	if len(out) != len(ids)*d {
		return fmt.Errorf("%w: Embedding: %d ids for an output of %d values of width %d", ErrShape, len(ids), len(out), d)
	}
	for p, id := range ids {
		if id < 0 || id >= v {
			return badID("Embedding", ids, p, shape, v)
		}
		copy(out[p*d:(p+1)*d], table[id*d:(id+1)*d])
	}
	return nil
}

func embedBwd[T float](dtable, g []T, ids []int, shape tensor.Shape, v, d int) error {
	clear(dtable)
	for p, id := range ids {
		if id < 0 || id >= v {
			return badID("EmbeddingGrad", ids, p, shape, v)
		}
		row, gr := dtable[id*d:(id+1)*d], g[p*d:(p+1)*d]
		for j, x := range gr {
			row[j] += x
		}
	}
	return nil
}
