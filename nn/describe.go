package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// attrLayer is a parameter-free layer that keeps the options it was made
// with, so Describe can report them (batch norm, pools, reshape).
type attrLayer struct {
	fnLayer
	attrs any
}

// Description is the architecture of a model made from a Sequential, as an
// exporter needs it: the input of one example and every layer in order.
type Description struct {
	Input  []int        // shape of one example of InputName (without the batch)
	Dtype  tensor.Dtype // the input's (and the parameters') dtype
	Layers []LayerDesc  // in application order; nested Sequentials are flattened
}

// LayerDesc describes one layer of a Description.
type LayerDesc struct {
	// Name is the layer's name as Sequential gives it (fc1, relu2,
	// block1/dense1), the prefix of its parameters and states; Kind is
	// Layer.Kind().
	Name, Kind string
	// Layer is the layer itself, unwrapped from Named: *DenseLayer and
	// *Conv2DLayer expose their fields, a LayerFunc is of kind "func".
	Layer Layer
	// In and Out are the shapes of one example going in and out.
	In, Out []int
	// Params and States name the tensors the layer made, in creation order
	// (Model.Tensor returns their values): dense1/w, dense1/b,
	// batchnorm1/running_mean, ….
	Params, States []string
	// Attrs are the layer's options with defaults filled in:
	// ops.BatchNormOptions (kind batchnorm), ops.PoolOptions (maxpool2d,
	// avgpool2d), ops.ConvOptions (conv2d), []int, the per-example shape
	// (reshape); nil for the other kinds.
	Attrs any
	// Sub are the layers of a residual block's body (kind residual: the
	// layer is x + Sub(x)), described as the top-level layers are.
	Sub []LayerDesc
}

// Describe returns the model's architecture, built on a scratch builder
// for a batch of one (nothing is compiled or run). It fails with ErrModel
// for a model that was not made from a Sequential (NewClassifier).
func (m *Model) Describe() (*Description, error) {
	if m.seq == nil {
		return nil, fmt.Errorf("%w: Describe needs a model made from a Sequential (NewClassifier)", ErrModel)
	}
	b := graph.NewBuilder(m.seed)
	if _, _, err := m.build(b, 1); err != nil {
		return nil, err
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	var in *gorgonia.Node
	for _, n := range b.Inputs() {
		if n.Name() == InputName {
			in = n
		}
	}
	if in == nil {
		return nil, fmt.Errorf("%w: the model has no input named %q", ErrModel, InputName)
	}
	d := &Description{Input: slices.Clone([]int(in.Shape()[1:])), Dtype: in.Dtype()}
	b = graph.NewBuilder(m.seed)
	x, err := b.Input(InputName, d.Dtype, append([]int{1}, d.Input...)...)
	if err != nil {
		return nil, err
	}
	if _, err := describeSeq(b, "", m.seq, x, &d.Layers); err != nil {
		return nil, err
	}
	return d, nil
}

// describeSeq applies s's layers as Sequential.Apply does, naming them the
// same way, and records each one.
func describeSeq(b *graph.Builder, prefix string, s *Sequential, x *gorgonia.Node, out *[]LayerDesc) (*gorgonia.Node, error) {
	counts := map[string]int{}
	for i, l := range s.layers {
		if l == nil {
			return nil, fmt.Errorf("%w: layer %d of %s is nil", ErrLayer, i+1, orDefault(prefix, "the sequential"))
		}
		kind := l.Kind()
		name, inner := layerName(l, prefix, counts)
		if sub, ok := inner.(*Sequential); ok {
			y, err := describeSeq(b, name, sub, x, out)
			if err != nil {
				return nil, err
			}
			x = y
			continue
		}
		np, ns := len(b.Params()), len(b.States())
		var sub []LayerDesc
		var y *gorgonia.Node
		var err error
		if r, ok := inner.(*ResidualLayer); ok { // x + body(x), the body described too
			if y, err = describeSeq(b, name, r.Body, x, &sub); err == nil {
				y, err = ops.AddBroadcast(x, y)
			}
		} else {
			y, err = inner.Apply(b, name, x)
		}
		if err != nil {
			return nil, err
		}
		if y == nil {
			return nil, fmt.Errorf("%w: layer %s (%s) returned no node", ErrLayer, name, kind)
		}
		d := LayerDesc{Name: name, Kind: kind, Layer: inner,
			In: slices.Clone([]int(x.Shape()[1:])), Out: slices.Clone([]int(y.Shape()[1:])), Attrs: attrsOf(inner), Sub: sub}
		for _, p := range b.Params()[np:] {
			d.Params = append(d.Params, p.Name())
		}
		for _, st := range b.States()[ns:] {
			d.States = append(d.States, st.Name)
		}
		*out = append(*out, d)
		x = y
	}
	return x, nil
}

// attrsOf returns a layer's options with their defaults filled in.
func attrsOf(l Layer) any {
	or := func(v [2]int, def [2]int) [2]int { // per axis, as ops does
		for i := range v {
			if v[i] == 0 {
				v[i] = def[i]
			}
		}
		return v
	}
	switch l := l.(type) {
	case *Conv2DLayer:
		o := l.Opt
		o.Stride, o.Dilation = or(o.Stride, [2]int{1, 1}), or(o.Dilation, [2]int{1, 1})
		return o
	case attrLayer:
		switch a := l.attrs.(type) {
		case ops.BatchNormOptions:
			if a.Momentum == 0 {
				a.Momentum = ops.DefaultBatchNormMomentum
			}
			if a.Eps == 0 {
				a.Eps = ops.DefaultBatchNormEps
			}
			return a
		case ops.PoolOptions:
			a.Stride = or(a.Stride, a.Kernel)
			return a
		case []int:
			return slices.Clone(a)
		}
		return l.attrs
	}
	return nil
}

// Tensor returns the current value of the parameter or state called name
// (dense1/w, batchnorm1/running_mean), once a program exists.
func (m *Model) Tensor(name string) (*tensor.Dense, bool) {
	for _, p := range m.Params() {
		if p.Name() == name {
			d, ok := p.Value().(*tensor.Dense)
			return d, ok
		}
	}
	for _, s := range m.States() {
		if s.Name == name {
			return s.Value, true
		}
	}
	return nil, false
}
