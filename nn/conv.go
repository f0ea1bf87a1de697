package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// Conv2DLayer is the 2-D convolution of x (batch, C, H, W) with Filters
// filters of Kernel (height, width): the parameter name+"/w" of shape
// (Filters, C, KH, KW) — PyTorch's layout — and the per-channel bias
// name+"/b" of shape (Filters), unless NoBias.
type Conv2DLayer struct {
	Filters int
	Kernel  [2]int
	Opt     ops.ConvOptions
	opt     options
}

// Conv2D returns a convolution layer of filters output channels and a
// kernel of the given (height, width), with stride, padding and dilation
// from opt (zero fields: 1, 0, 1). Its weights default to He normal with
// the convolution's fans (fan_in = C·KH·KW, PyTorch's kaiming_normal_).
func Conv2D(filters int, kernel [2]int, opt ops.ConvOptions, opts ...Option) *Conv2DLayer {
	return &Conv2DLayer{Filters: filters, Kernel: kernel, Opt: opt, opt: makeOptions(heNormal.Conv(), opts)}
}

// Kind returns "conv2d".
func (l *Conv2DLayer) Kind() string { return "conv2d" }

// Apply adds conv(x, W) (+ b).
func (l *Conv2DLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "conv2d"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	if l.Filters <= 0 || l.Kernel[0] <= 0 || l.Kernel[1] <= 0 {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): %d filters of %d×%d, want > 0 of each", ErrLayer, name, kind, l.Filters, l.Kernel[0], l.Kernel[1]))
	}
	if x.Shape().Dims() != 4 {
		return nil, b.Fail(wantShape(name, kind, "(batch, channels, height, width): add a Reshape(1, H, W) for one-channel images", x))
	}
	wshape := []int{l.Filters, x.Shape()[1], l.Kernel[0], l.Kernel[1]}
	if _, err := ops.ConvOutputShape(x.Shape(), wshape, l.Opt); err != nil {
		return nil, b.Fail(layerErr(name, kind, err))
	}
	w, err := b.Param(name+"/w", x.Dtype(), l.opt.init, wshape...)
	if err != nil {
		return nil, layerErr(name, kind, err)
	}
	y, err := ops.Conv2D(x, w, l.Opt)
	if err == nil {
		y, err = addBias(b, name, y, l.Filters, l.opt)
	}
	return y, b.Fail(wrapIf(name, kind, err))
}

func pool(kind string, op func(*gorgonia.Node, ops.PoolOptions) (*gorgonia.Node, error), opt ops.PoolOptions) Layer {
	return attrLayer{fnLayer{kind, func(_ *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
		if x.Shape().Dims() != 4 {
			return nil, wantShape(name, kind, "(batch, channels, height, width)", x)
		}
		return op(x, opt)
	}}, opt}
}

// MaxPool2D takes the maximum of each window (ops.MaxPool2D; a zero Stride
// is the kernel, PyTorch's default).
func MaxPool2D(opt ops.PoolOptions) Layer { return pool("maxpool2d", ops.MaxPool2D, opt) }

// AvgPool2D takes the mean of each window, padding included (ops.AvgPool2D).
func AvgPool2D(opt ops.PoolOptions) Layer { return pool("avgpool2d", ops.AvgPool2D, opt) }
