package initializers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stream is the PCG stream (increment) constant every initializer uses with
// its seed. Changing it changes every initial value gradlab has ever made.
const stream = 0x6a09e667f3bcc909 // first 64 bits of the fractional part of √2

// kind is the family of distribution an Init samples from.
type kind uint8

const (
	kindConstant kind = iota + 1
	kindNormal
	kindUniform
	kindTruncNormal
	kindOrthogonal
)

// scaling says how the spread of a distribution follows from the shape.
type scaling uint8

const (
	scaleFixed  scaling = iota // parameters as given
	scaleFanAvg                // std = gain·√(2/(fan_in+fan_out)) (Glorot, Xavier)
	scaleFanIn                 // std = gain/√fan_in (LeCun, He)
)

// An Init is a weight initializer: a distribution, validated when it was made
// by one of the package's constructors (Zeros, Normal, HeNormal, …). It
// implements graph.Initializer through Initialize and adapts to
// gorgonia.WithInit through InitWFn.
//
// Init is a small comparable value, safe to copy and to use from several
// goroutines. The zero Init is not usable: Initialize returns ErrConfig.
type Init struct {
	name  string // the constructor's name, e.g. "HeNormal"
	args  string // the constructor's arguments, e.g. "gain=1.4142135623730951"
	kind  kind
	scale scaling

	value      float64 // kindConstant
	mean, std  float64 // kindNormal, kindTruncNormal; std is the base std for scaled kinds
	low, high  float64 // kindUniform; the truncation bounds a, b for kindTruncNormal
	gain       float64 // scaled kinds and kindOrthogonal
	fansNeeded bool    // Xavier, LeCun, He and Orthogonal need rank 2, or ≥ 3 with conv
	conv       bool    // shapes are convolution weights (out, in, k…); see Conv
}

// Conv returns in reading shapes as convolution weights in PyTorch's layout
// (out, in, k1, k2, …), ops.Conv2D's (O, C, KH, KW): fans as ConvFans
// (fan_in = in·k1·k2·…), so HeNormal(√2).Conv() has the std of PyTorch's
// kaiming_normal_(w, nonlinearity="relu") on a Conv2d weight, and Orthogonal
// flattens to (out, in·k1·k2·…) as PyTorch's orthogonal_. Without Conv, a
// fan-based initializer or Orthogonal accepts only rank-2 (in, out) shapes:
// a 4-D shape is an error, never silently read in another layout.
// Initializers that use no fans ignore the layout.
func (in Init) Conv() Init {
	in.conv = true
	return in
}

// Name returns the name of the constructor that made in, e.g. "HeNormal".
func (in Init) Name() string { return in.name }

// String returns the constructor call that made in, e.g.
// "HeNormal(gain=1.4142135623730951)".
func (in Init) String() string {
	if in.kind == 0 {
		return "Init{}"
	}
	if in.conv {
		return in.name + "(" + in.args + ").Conv()"
	}
	return in.name + "(" + in.args + ")"
}

// Initialize returns a *tensor.Dense of dtype dt (tensor.Float32 or
// tensor.Float64) and the given shape, filled from in's distribution with a
// generator seeded by seed. It implements graph.Initializer.
//
// It returns ErrDtype for any other dtype, and ErrShape for a shape with a
// zero or negative dimension, a size overflowing int, or, for an initializer
// that needs fans (Xavier, LeCun, He) or a matrix (Orthogonal), a rank other
// than 2 (a rank below 3 with Conv).
// Rank 0 is otherwise allowed and gives a scalar tensor. It returns ErrConfig
// for the zero Init and, for float32, for a hyperparameter beyond float32's
// range.
func (in Init) Initialize(seed uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
	backing, err := in.generate(seed, dt, shape)
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(slices.Clone(shape)...), tensor.WithBacking(backing)), nil
}

// InitWFn returns a gorgonia.InitWFn drawing the same values as
// Initialize(seed, dt, shape...), for use with gorgonia.WithInit:
//
//	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(784, 100),
//		gorgonia.WithInit(he.InitWFn(seed)))
//
// A gorgonia.InitWFn cannot return an error, so the returned function panics
// with the error Initialize would return (it names the initializer and the
// bad shape or dtype). Hyperparameters were validated when in was made.
func (in Init) InitWFn(seed uint64) gorgonia.InitWFn {
	return func(dt tensor.Dtype, shape ...int) interface{} {
		backing, err := in.generate(seed, dt, shape)
		if err != nil {
			panic(err)
		}
		return backing
	}
}

// generate validates dt and shape and returns a filled []float32 or []float64.
func (in Init) generate(seed uint64, dt tensor.Dtype, shape []int) (any, error) {
	if in.kind == 0 {
		return nil, fmt.Errorf("%w: zero Init: make one with a constructor such as HeNormal or ByName", ErrConfig)
	}
	n, err := size(in.String(), shape)
	if err != nil {
		return nil, err
	}
	if in.fansNeeded {
		if err := checkRank(in.String(), in.conv, shape); err != nil {
			return nil, err
		}
	}
	switch dt {
	case tensor.Float64:
		dst := make([]float64, n)
		fill(dst, in, shape, seed)
		return dst, nil
	case tensor.Float32:
		if err := in.fitsFloat32(); err != nil {
			return nil, err
		}
		dst := make([]float32, n)
		fill(dst, in, shape, seed)
		return dst, nil
	default:
		return nil, fmt.Errorf("%w: %v: dtype %v, want float32 or float64", ErrDtype, in, dt)
	}
}

// fitsFloat32 returns ErrConfig if a hyperparameter of in is beyond float32's
// range, so that rounding the samples to float32 would give infinities.
func (in Init) fitsFloat32() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"value", in.value}, {"mean", in.mean}, {"std", in.std}, {"low", in.low}, {"high", in.high}, {"gain", in.gain}} {
		if math.Abs(p.v) > math.MaxFloat32 {
			return fmt.Errorf("%w: %v: %s = %v overflows float32", ErrConfig, in, p.name, p.v)
		}
	}
	return nil
}

// fill is the one sampling implementation for both dtypes: values are drawn in
// float64 and rounded to T, so a float32 tensor holds exactly the rounded
// values of the float64 tensor made with the same seed and shape.
// The shape has been validated by generate.
func fill[T float32 | float64](dst []T, in Init, shape []int, seed uint64) {
	if in.kind == kindConstant {
		v := T(in.value)
		for i := range dst {
			dst[i] = v
		}
		return
	}
	r := rand.New(rand.NewPCG(seed, stream))
	std := in.std
	switch in.scale {
	case scaleFanAvg:
		fanIn, fanOut := fans(in.conv, shape)
		std = in.gain * math.Sqrt(2/float64(fanIn+fanOut))
	case scaleFanIn:
		fanIn, _ := fans(in.conv, shape)
		std = in.gain / math.Sqrt(float64(fanIn))
	}
	switch in.kind {
	case kindNormal:
		for i := range dst {
			dst[i] = T(in.mean + std*r.NormFloat64())
		}
	case kindUniform:
		low, high := in.low, in.high
		if in.scale != scaleFixed {
			// U[−b, b) has std b/√3.
			high = math.Sqrt(3) * std
			low = -high
		}
		width := high - low
		for i := range dst {
			dst[i] = T(low + width*r.Float64())
		}
	case kindTruncNormal:
		// Rejection sampling: exact, and the constructor guarantees that
		// [a, b] holds at least minTruncMass of the probability, so at most
		// 1/minTruncMass draws per element are expected.
		for i := range dst {
			for {
				x := in.mean + std*r.NormFloat64()
				if x >= in.low && x <= in.high {
					dst[i] = T(x)
					break
				}
			}
		}
	case kindOrthogonal:
		rows := shape[0]
		q := orthogonal(r, rows, len(dst)/rows, in.gain)
		for i, v := range q {
			dst[i] = T(v)
		}
	default:
		panic(fmt.Sprintf("initializers: internal error: unknown kind %d in %v", in.kind, in))
	}
}

// size validates every dimension of shape and returns the number of elements.
func size(who string, shape []int) (int, error) {
	n := 1
	for i, d := range shape {
		if d <= 0 {
			return 0, fmt.Errorf("%w: %s: shape %v: dimension %d is %d, want > 0", ErrShape, who, fmtShape(shape), i, d)
		}
		if n > math.MaxInt/d {
			return 0, fmt.Errorf("%w: %s: shape %v: size overflows int", ErrShape, who, fmtShape(shape))
		}
		n *= d
	}
	return n, nil
}

// fmtShape formats a shape as (3, 2), like tensor.Shape, without allocating a
// tensor.Shape that might alias the caller's slice.
func fmtShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// ftoa formats a hyperparameter for String and error messages.
func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
