package nn

import (
	"fmt"
	"math"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/ops"
)

// Layer is one step of a network: it adds nodes (and named parameters and
// states) to a builder's graph.
type Layer interface {
	// Kind is the layer's type, e.g. "dense" or "relu"; Sequential names its
	// k-th unnamed layer of a kind kind+k: dense1, dense2, relu1, ….
	Kind() string
	// Apply adds the layer to b's graph on input x and returns its output.
	// name prefixes the layer's parameters and states ("dense1/w"); it is
	// "" only for a layer used outside a container, which then picks its
	// own. Errors name the layer and, for an input it cannot take, the shape
	// it wants and the shape it got (wrapping ErrLayer).
	Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error)
}

// LayerFunc makes any function of a builder, a scope name and a node a
// Layer (of kind "func"), so plain Gorgonia code mixes with the layers of
// this package:
//
//	nn.LayerFunc(func(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
//		w, err := b.Param(name+"/w", x.Dtype(), initializers.Must(initializers.Ones()), x.Shape()[1])
//		…
//	})
//
// name is the layer's scope in its Sequential (func1, func2, or the name
// given with Named, prefixed by enclosing Sequentials): a function that
// makes parameters or states prefixes their names with it, so the same
// function used twice makes two sets of parameters.
type LayerFunc func(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error)

// Kind returns "func".
func (LayerFunc) Kind() string { return "func" }

// Apply calls f with the layer's name ("func" outside a Sequential).
func (f LayerFunc) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return f(b, orDefault(name, "func"), x)
}

// named is a layer with a fixed name.
type named struct {
	Layer
	name string
}

// Named gives l the name that prefixes its parameters instead of the one
// Sequential would choose, e.g. Named("fc1", Dense(512)) makes fc1/w and
// fc1/b.
func Named(name string, l Layer) Layer { return named{l, name} }

// Option configures a layer with parameters.
type Option func(*options)

type options struct {
	init, biasInit graph.Initializer
	noBias         bool
	causal         bool // attention layers: mask later positions
	last           bool // recurrent layers: return the last step's state only
}

// Init sets the initializer of the layer's weights (default He normal,
// gain √2, for ReLU networks).
func Init(i graph.Initializer) Option { return func(o *options) { o.init = i } }

// BiasInit sets the initializer of the layer's bias (default zeros).
func BiasInit(i graph.Initializer) Option { return func(o *options) { o.biasInit = i } }

// NoBias leaves out the bias (for a layer followed by batch normalization,
// whose β takes its place).
func NoBias() Option { return func(o *options) { o.noBias = true } }

// makeOptions applies opts over the defaults: weights from init, zero biases.
func makeOptions(init graph.Initializer, opts []Option) options {
	o := options{init: init, biasInit: initializers.Zeros()}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// heNormal is the default weight initializer, He normal with gain √2 (ReLU).
var heNormal = initializers.Must(initializers.HeNormal(math.Sqrt2))

// layerErr wraps err with the layer's name and kind.
func layerErr(name, kind string, err error) error {
	return fmt.Errorf("layer %s (%s): %w", name, kind, err)
}

// wantShape returns an ErrLayer error: the layer wants want, got x's shape.
func wantShape(name, kind, want string, x *gorgonia.Node) error {
	return fmt.Errorf("%w: layer %s (%s): input shape %v, want %s", ErrLayer, name, kind, x.Shape(), want)
}

// DenseLayer is x·W + b over the last dimension of x: x of shape
// (batch, in) gives (batch, Units), and any N-D x (batch, …, in) gives
// (batch, …, Units) (a per-position projection of a sequence (N, T, D)).
// W (in, Units) is the parameter name+"/w", b (Units) is name+"/b".
type DenseLayer struct {
	Units int
	opt   options
}

// Dense returns a fully connected layer of units outputs.
func Dense(units int, opts ...Option) *DenseLayer {
	return &DenseLayer{Units: units, opt: makeOptions(heNormal, opts)}
}

// Kind returns "dense".
func (l *DenseLayer) Kind() string { return "dense" }

// Apply adds x·W (+ b) over x's last dimension.
func (l *DenseLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	name = orDefault(name, "dense")
	if l.Units <= 0 {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (dense): %d units, want > 0", ErrLayer, name, l.Units))
	}
	if x == nil || x.Shape().Dims() < 2 {
		if x == nil {
			return nil, b.Fail(fmt.Errorf("%w: layer %s (dense): nil input", ErrLayer, name))
		}
		return nil, b.Fail(wantShape(name, "dense", "(batch, features) or (batch, …, features)", x))
	}
	h, err := dense(b, name, x, l.Units, l.opt)
	return h, b.Fail(wrapIf(name, "dense", err))
}

// dense adds x·W (+ b) over the last dimension of x (rank ≥ 2), with the
// parameters name+"/w" and name+"/b": an N-D x is reshaped to
// (rows, in) and the product back to (…, units).
func dense(b *graph.Builder, name string, x *gorgonia.Node, units int, opt options) (*gorgonia.Node, error) {
	s := x.Shape()
	in := s[len(s)-1]
	w, err := b.Param(name+"/w", x.Dtype(), opt.init, in, units)
	if err != nil {
		return nil, err
	}
	flat := x
	if len(s) > 2 {
		if flat, err = ops.Reshape(x, s.TotalSize()/in, in); err != nil {
			return nil, err
		}
	}
	h, err := ops.MatMul(flat, w)
	if err != nil {
		return nil, err
	}
	if h, err = addBias(b, name, h, units, opt); err != nil {
		return nil, err
	}
	if len(s) > 2 {
		return ops.Reshape(h, append(s[:len(s)-1:len(s)-1], units)...)
	}
	return h, nil
}

// addBias adds the layer's bias name+"/b" (n values, along axis 1) to h,
// unless the layer has none (NoBias): the step Dense and Conv2D share.
func addBias(b *graph.Builder, name string, h *gorgonia.Node, n int, opt options) (*gorgonia.Node, error) {
	if opt.noBias {
		return h, nil
	}
	bias, err := b.Param(name+"/b", h.Dtype(), opt.biasInit, n)
	if err != nil {
		return nil, err
	}
	return ops.BiasAdd(h, bias)
}

func wrapIf(name, kind string, err error) error {
	if err != nil {
		return layerErr(name, kind, err)
	}
	return nil
}

func orDefault(name, kind string) string {
	if name == "" {
		return kind
	}
	return name
}

// fnLayer is a parameter-free layer made from an op.
type fnLayer struct {
	kind string
	f    func(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error)
}

func (l fnLayer) Kind() string { return l.kind }

func (l fnLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	name = orDefault(name, l.kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, l.kind))
	}
	y, err := l.f(b, name, x)
	if err != nil {
		return nil, b.Fail(layerErr(name, l.kind, err))
	}
	return y, nil
}

func activation(kind string, op func(*gorgonia.Node) (*gorgonia.Node, error)) Layer {
	return fnLayer{kind, func(_ *graph.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) { return op(x) }}
}

// ReLU is max(0, x) elementwise.
func ReLU() Layer { return activation("relu", ops.ReLU) }

// Tanh is tanh(x) elementwise.
func Tanh() Layer { return activation("tanh", ops.Tanh) }

// Sigmoid is 1/(1 + e^−x) elementwise.
func Sigmoid() Layer { return activation("sigmoid", ops.Sigmoid) }

// Activation returns the layer of an activation by name: relu, tanh or sigmoid.
func Activation(name string) (Layer, error) {
	switch name {
	case "relu":
		return ReLU(), nil
	case "tanh":
		return Tanh(), nil
	case "sigmoid":
		return Sigmoid(), nil
	}
	return nil, fmt.Errorf("%w: activation %q, want relu, tanh or sigmoid", ErrLayer, name)
}

// BatchNorm normalizes per feature of (batch, features) or per channel of
// (batch, channels, h, w), with learnable name+"/gamma" and name+"/beta" and
// running statistics as model state (ops.BatchNorm), at PyTorch's defaults
// (momentum 0.1, ε 1e-5).
func BatchNorm() Layer { return BatchNormWith(ops.BatchNormOptions{}) }

// BatchNormWith is BatchNorm with the given momentum and ε.
func BatchNormWith(opt ops.BatchNormOptions) Layer {
	return attrLayer{fnLayer{"batchnorm", func(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		if d := x.Shape().Dims(); d != 2 && d != 4 {
			return nil, wantShape(name, "batchnorm", "(batch, features) or (batch, channels, h, w)", x)
		}
		return ops.BatchNorm(b, name, x, opt)
	}}, opt}
}

// Dropout zeroes each value with probability p in Train mode and scales the
// rest by 1/(1 − p) (inverted dropout, ops.Dropout); the identity in Eval
// mode. Its masks come from the builder's seed.
func Dropout(p float64) Layer {
	return fnLayer{"dropout", func(b *graph.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.Dropout(b, x, p)
	}}
}

// RandomShift is data augmentation: in Train mode it moves each image of
// (batch, channels, h, w) by up to max pixels in each direction
// (ops.RandomShift, seeded like Dropout and resumed with the model's
// states); in Eval mode it is the identity.
func RandomShift(max int) Layer {
	return fnLayer{"shift", func(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		if x.Shape().Dims() != 4 {
			return nil, wantShape(name, "shift", "(batch, channels, height, width)", x)
		}
		return ops.RandomShift(b, x, max)
	}}
}

// Flatten reshapes (batch, d1, d2, …) to (batch, d1·d2·…) (ops.Flatten).
func Flatten() Layer {
	return fnLayer{"flatten", func(_ *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		if x.Shape().Dims() < 2 {
			return nil, wantShape(name, "flatten", "(batch, …) with at least two dimensions", x)
		}
		if x.Shape().Dims() == 2 {
			return x, nil
		}
		return ops.Flatten(x)
	}}
}

// Reshape reshapes each example to shape: (batch, …) to (batch, shape…).
// The sizes must agree.
func Reshape(shape ...int) Layer {
	return attrLayer{fnLayer{"reshape", func(_ *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		s := x.Shape()
		n := 1
		for _, d := range shape {
			n *= d
		}
		if s.Dims() < 1 || n <= 0 || s.TotalSize() != s[0]*n {
			return nil, wantShape(name, "reshape", fmt.Sprintf("(batch, …) of %d values per example for %v", n, shape), x)
		}
		return reshape(x, append([]int{s[0]}, shape...)...)
	}}, append([]int(nil), shape...)}
}

func reshape(x *gorgonia.Node, shape ...int) (n *gorgonia.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%w: reshape %v to %v: gorgonia panicked: %v", ErrLayer, x.Shape(), shape, r)
		}
	}()
	return gorgonia.Reshape(x, tensor.Shape(shape))
}

// shapeString renders a per-example shape with the batch as N: (N, 512).
func shapeString(s []int) string {
	parts := []string{"N"}
	for _, d := range s {
		parts = append(parts, fmt.Sprint(d))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
