package graph

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// An Initializer makes the initial value of a learnable parameter.
//
// Initialize must be deterministic: the same seed, dtype and shape give the
// same values, bit for bit. It returns a dense tensor of the given dtype and
// shape, or an error naming what is wrong (an unsupported dtype, a shape the
// distribution cannot use). The initializers package implements it for every
// distribution gradlab offers; FromInitWFn adapts a plain gorgonia.InitWFn.
type Initializer interface {
	Initialize(seed uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error)
}

// InitializerFunc adapts an ordinary function to the Initializer interface.
type InitializerFunc func(seed uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error)

// Initialize calls f(seed, dt, shape...).
func (f InitializerFunc) Initialize(seed uint64, dt tensor.Dtype, shape ...int) (tensor.Tensor, error) {
	return f(seed, dt, shape...)
}

// FromInitWFn adapts a gorgonia.InitWFn (such as gorgonia.Zeroes() or
// gorgonia.Ones()) to an Initializer. The seed is ignored: Gorgonia's own
// random initializers seed themselves from the clock and are therefore not
// deterministic; use the initializers package for random values. A panic
// raised by fn is returned as an error.
func FromInitWFn(fn gorgonia.InitWFn) Initializer {
	return InitializerFunc(func(_ uint64, dt tensor.Dtype, shape ...int) (t tensor.Tensor, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w: gorgonia initializer panicked for %v %v: %v", ErrInit, dt, tensor.Shape(shape), r)
			}
		}()
		backing := fn(dt, shape...)
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
	})
}
