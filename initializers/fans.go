package initializers

import (
	"fmt"
	"math"
	"strings"
)

// Fans returns the fan-in and fan-out of a weight of the given shape.
//
// A weight used as x·W has shape (in, out): fan_in = shape[0],
// fan_out = shape[1]. A higher-rank weight is read as (in, out, k1, k2, …)
// with receptive field k1·k2·…, which multiplies both fans:
// fan_in = in·k1·k2·…, fan_out = out·k1·k2·…. (PyTorch's convolution weights
// are (out, in, k1, …) instead: permute them before using this convention.)
//
// It returns ErrShape for rank 0 or 1 (a vector has no fans: biases are
// usually initialized with Zeros or Constant), for a zero or negative
// dimension, and when a fan overflows int.
func Fans(shape ...int) (fanIn, fanOut int, err error) {
	if len(shape) < 2 {
		return 0, 0, fmt.Errorf("%w: Fans: shape %v has rank %d, want rank ≥ 2 (in, out, …)", ErrShape, fmtShape(shape), len(shape))
	}
	if _, err := size("Fans", shape); err != nil {
		return 0, 0, err
	}
	fanIn, fanOut = fans(shape)
	return fanIn, fanOut, nil
}

// fans computes the fans of a shape already validated by size with rank ≥ 2.
// The product of all dimensions fits in an int, so both fans do too.
func fans(shape []int) (fanIn, fanOut int) {
	field := 1
	for _, d := range shape[2:] {
		field *= d
	}
	return shape[0] * field, shape[1] * field
}

// Gain returns the recommended gain for a nonlinearity, as PyTorch's
// torch.nn.init.calculate_gain:
//
//	linear, identity, conv1d, conv2d, conv3d,
//	conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid   1
//	tanh                                                            5/3
//	relu                                                            √2
//	leaky_relu                                                      √(2/(1+slope²)), slope = param[0], default 0.01
//	selu                                                            3/4
//
// Names are case-insensitive and '-' may replace '_'. Only leaky_relu takes a
// parameter (PyTorch ignores it for the others; here it is an error). It
// returns ErrUnknown for an unknown name and ErrConfig for a misplaced, extra
// or non-finite parameter.
func Gain(nonlinearity string, param ...float64) (float64, error) {
	name := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(nonlinearity)), "-", "_")
	if name == "leaky_relu" {
		slope := 0.01
		switch len(param) {
		case 0:
		case 1:
			slope = param[0]
			if !finite(slope) {
				return 0, fmt.Errorf("%w: Gain: leaky_relu slope = %v, want finite", ErrConfig, slope)
			}
		default:
			return 0, fmt.Errorf("%w: Gain: leaky_relu takes one parameter (the negative slope), got %d", ErrConfig, len(param))
		}
		return math.Sqrt(2 / (1 + slope*slope)), nil
	}
	var g float64
	switch name {
	case "linear", "identity", "conv1d", "conv2d", "conv3d",
		"conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid":
		g = 1
	case "tanh":
		g = 5.0 / 3
	case "relu":
		g = math.Sqrt2
	case "selu":
		g = 3.0 / 4
	default:
		return 0, fmt.Errorf("%w: Gain: nonlinearity %q; valid: linear, identity, conv1d, conv2d, conv3d, "+
			"conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu", ErrUnknown, nonlinearity)
	}
	if len(param) > 0 {
		return 0, fmt.Errorf("%w: Gain: %s takes no parameter, got %v", ErrConfig, name, param)
	}
	return g, nil
}
