package initializers

import (
	"fmt"
	"math"
	"strings"
)

// Fans returns the fan-in and fan-out of a dense weight used as x·W, of
// shape (in, out): fan_in = shape[0], fan_out = shape[1].
//
// A shape of any other rank is an error wrapping ErrShape: rank 0 and 1 have
// no fans (biases are usually initialized with Zeros or Constant), and a
// rank above 2 is not read silently in some convention: for a convolution
// weight in PyTorch's (and ops.Conv2D's) layout (out, in, kh, kw) use
// ConvFans. It also returns ErrShape for a zero or negative dimension and
// when a fan overflows int.
func Fans(shape ...int) (fanIn, fanOut int, err error) {
	if err := checkRank("Fans", false, shape); err != nil {
		return 0, 0, err
	}
	if _, err := size("Fans", shape); err != nil {
		return 0, 0, err
	}
	fanIn, fanOut = fans(false, shape)
	return fanIn, fanOut, nil
}

// ConvFans returns the fan-in and fan-out of a convolution weight in
// PyTorch's layout (out, in, k1, k2, …) — ops.Conv2D's (O, C, KH, KW) — as
// PyTorch's torch.nn.init._calculate_fan_in_and_fan_out:
//
//	fan_in = in·k1·k2·…,  fan_out = out·k1·k2·…
//
// It returns ErrShape for a rank below 3, a zero or negative dimension, or a
// fan overflowing int.
func ConvFans(shape ...int) (fanIn, fanOut int, err error) {
	if err := checkRank("ConvFans", true, shape); err != nil {
		return 0, 0, err
	}
	if _, err := size("ConvFans", shape); err != nil {
		return 0, 0, err
	}
	fanIn, fanOut = fans(true, shape)
	return fanIn, fanOut, nil
}

// checkRank returns ErrShape unless shape has the rank fans are read from:
// exactly 2 (in, out) for a dense weight, at least 3 (out, in, k…) for a
// convolution weight.
func checkRank(who string, conv bool, shape []int) error {
	switch {
	case conv && len(shape) < 3:
		return fmt.Errorf("%w: %s: shape %v has rank %d, want rank ≥ 3 (out, in, k1, …) for a convolution weight",
			ErrShape, who, fmtShape(shape), len(shape))
	case !conv && len(shape) < 2:
		return fmt.Errorf("%w: %s: shape %v has rank %d, want rank 2 (in, out)", ErrShape, who, fmtShape(shape), len(shape))
	case !conv && len(shape) > 2:
		return fmt.Errorf("%w: %s: shape %v has rank %d, want rank 2 (in, out); for a convolution weight "+
			"(out, in, kh, kw) use the conv layout (ConvFans, Init.Conv)", ErrShape, who, fmtShape(shape), len(shape))
	}
	return nil
}

// fans computes the fans of a shape already validated by checkRank and
// size. The product of all dimensions fits in an int, so both fans do too.
func fans(conv bool, shape []int) (fanIn, fanOut int) {
	if !conv {
		return shape[0], shape[1]
	}
	field := 1
	for _, d := range shape[2:] {
		field *= d
	}
	return shape[1] * field, shape[0] * field
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
