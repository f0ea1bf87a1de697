package initializers

import (
	"fmt"
	"math"
)

// minTruncMass is the smallest probability N(mean, std²) may give [a, b] in
// TruncatedNormal: rejection sampling then needs at most 100 draws per element
// on average.
const minTruncMass = 0.01

// Must returns in, and panics if err is not nil. It is meant for package-level
// variables and examples with constant arguments:
//
//	var he = initializers.Must(initializers.HeNormal(math.Sqrt2))
func Must(in Init, err error) Init {
	if err != nil {
		panic(err)
	}
	return in
}

// Zeros fills every element with 0.
func Zeros() Init {
	return Init{name: "Zeros", kind: kindConstant}
}

// Constant fills every element with v. It returns ErrConfig if v is NaN or
// infinite.
func Constant(v float64) (Init, error) {
	if !finite(v) {
		return Init{}, fmt.Errorf("%w: Constant: value = %v, want finite", ErrConfig, v)
	}
	return Init{name: "Constant", args: "value=" + ftoa(v), kind: kindConstant, value: v}, nil
}

// Normal draws from N(mean, std²). The lecture's "small random numbers",
// randn·0.01, is Normal(0, 0.01); its "standard normal" is Normal(0, 1).
// std = 0 gives the constant mean. It returns ErrConfig if mean or std is
// not finite or std < 0.
func Normal(mean, std float64) (Init, error) {
	const who = "Normal"
	if !finite(mean) {
		return Init{}, fmt.Errorf("%w: %s: mean = %v, want finite", ErrConfig, who, mean)
	}
	if !finite(std) || std < 0 {
		return Init{}, fmt.Errorf("%w: %s: std = %v, want finite and ≥ 0", ErrConfig, who, std)
	}
	return Init{name: who, args: "mean=" + ftoa(mean) + ", std=" + ftoa(std), kind: kindNormal, mean: mean, std: std}, nil
}

// Uniform draws from U[low, high): mean (low+high)/2, std (high−low)/√12.
// A float64 value is low + (high−low)·u with u in [0, 1), so rounding can
// reach high in rare cases, and float32 values lie in [float32(low),
// float32(high)]. It returns ErrConfig if low or high is not finite, if
// low ≥ high, or if high−low overflows.
func Uniform(low, high float64) (Init, error) {
	const who = "Uniform"
	if !finite(low) {
		return Init{}, fmt.Errorf("%w: %s: low = %v, want finite", ErrConfig, who, low)
	}
	if !finite(high) {
		return Init{}, fmt.Errorf("%w: %s: high = %v, want finite", ErrConfig, who, high)
	}
	if low >= high {
		return Init{}, fmt.Errorf("%w: %s: low = %v ≥ high = %v, want low < high", ErrConfig, who, low, high)
	}
	if !finite(high - low) {
		return Init{}, fmt.Errorf("%w: %s: high − low = %v − %v overflows", ErrConfig, who, high, low)
	}
	return Init{name: who, args: "low=" + ftoa(low) + ", high=" + ftoa(high), kind: kindUniform, low: low, high: high}, nil
}

// TruncatedNormal draws from N(mean, std²) restricted to [a, b], by rejection
// (exact: values outside [a, b] are redrawn, never clamped).
//
// The bounds a and b are absolute values, as in PyTorch's trunc_normal_, not
// multiples of std as in Keras' TruncatedNormal (which cuts at mean ± 2·std):
// TruncatedNormal(0, 0.02, -2, 2) truncates nothing in practice; use
// TruncatedNormal(0, 0.02, -0.04, 0.04) to cut at two standard deviations.
// The resulting std is smaller than std (0.88·std for a cut at ±2·std).
//
// It returns ErrConfig if a parameter is not finite, if std ≤ 0, if a ≥ b, or
// if N(mean, std²) gives [a, b] less than 1% probability (rejection would be
// slow, and such a distribution is not a weight initialization).
func TruncatedNormal(mean, std, a, b float64) (Init, error) {
	const who = "TruncatedNormal"
	for _, p := range []struct {
		name string
		v    float64
	}{{"mean", mean}, {"std", std}, {"a", a}, {"b", b}} {
		if !finite(p.v) {
			return Init{}, fmt.Errorf("%w: %s: %s = %v, want finite", ErrConfig, who, p.name, p.v)
		}
	}
	if std <= 0 {
		return Init{}, fmt.Errorf("%w: %s: std = %v, want > 0", ErrConfig, who, std)
	}
	if a >= b {
		return Init{}, fmt.Errorf("%w: %s: a = %v ≥ b = %v, want a < b", ErrConfig, who, a, b)
	}
	if m := normalMass((a-mean)/std, (b-mean)/std); !(m >= minTruncMass) {
		return Init{}, fmt.Errorf("%w: %s: [a, b] = [%v, %v] has probability %.3g under N(%v, %v²), want ≥ %v",
			ErrConfig, who, a, b, m, mean, std, minTruncMass)
	}
	return Init{
		name: who,
		args: "mean=" + ftoa(mean) + ", std=" + ftoa(std) + ", a=" + ftoa(a) + ", b=" + ftoa(b),
		kind: kindTruncNormal, mean: mean, std: std, low: a, high: b,
	}, nil
}

// normalMass returns P(alpha ≤ Z ≤ beta) for a standard normal Z.
func normalMass(alpha, beta float64) float64 {
	// Φ(x) = erfc(−x/√2)/2; for intervals in the upper tail use the
	// complementary form to keep precision.
	if alpha > 0 {
		return (math.Erfc(alpha/math.Sqrt2) - math.Erfc(beta/math.Sqrt2)) / 2
	}
	return (math.Erfc(-beta/math.Sqrt2) - math.Erfc(-alpha/math.Sqrt2)) / 2
}

// checkGain validates the gain of a scaled initializer.
func checkGain(who string, gain float64) error {
	if !finite(gain) || gain <= 0 {
		return fmt.Errorf("%w: %s: gain = %v, want finite and > 0", ErrConfig, who, gain)
	}
	return nil
}

// scaled makes a fan-scaled initializer.
func scaled(who string, k kind, s scaling, gain float64) (Init, error) {
	if err := checkGain(who, gain); err != nil {
		return Init{}, err
	}
	return Init{name: who, args: "gain=" + ftoa(gain), kind: k, scale: s, gain: gain, fansNeeded: true}, nil
}

// XavierNormal draws from N(0, std²) with std = gain·√(2/(fan_in+fan_out))
// (Glorot & Bengio, 2010; PyTorch's xavier_normal_, Keras' GlorotNormal at
// gain 1). Use Gain for the nonlinearity that follows: 1 for linear and
// sigmoid, 5/3 for tanh. Fans come from Fans (rank 2), or ConvFans with Init.Conv.
// It returns ErrConfig unless gain is finite and > 0.
//
// This is not the lecture's "Xavier" (std 1/√fan_in); that is LeCunNormal.
func XavierNormal(gain float64) (Init, error) {
	return scaled("XavierNormal", kindNormal, scaleFanAvg, gain)
}

// XavierUniform draws from U[−b, b) with b = √3·std = gain·√(6/(fan_in+fan_out)),
// the same variance as XavierNormal (PyTorch's xavier_uniform_). It returns
// ErrConfig unless gain is finite and > 0.
func XavierUniform(gain float64) (Init, error) {
	return scaled("XavierUniform", kindUniform, scaleFanAvg, gain)
}

// LeCunNormal draws from N(0, std²) with std = 1/√fan_in (LeCun et al.,
// 1998; Keras' LecunNormal is its truncated variant). It is what the lecture
// calls "Xavier", randn(fan_in, fan_out)/sqrt(fan_in), and equals
// XavierNormal(1) for square layers. The shape needs rank 2, or rank ≥ 3 with Init.Conv.
func LeCunNormal() Init {
	return Init{name: "LeCunNormal", kind: kindNormal, scale: scaleFanIn, gain: 1, fansNeeded: true}
}

// LeCunUniform draws from U[−b, b) with b = √3/√fan_in, the same variance as
// LeCunNormal.
func LeCunUniform() Init {
	return Init{name: "LeCunUniform", kind: kindUniform, scale: scaleFanIn, gain: 1, fansNeeded: true}
}

// HeNormal draws from N(0, std²) with std = gain/√fan_in (He et al., 2015;
// PyTorch's kaiming_normal_ in fan_in mode). With gain √2 = Gain("relu") it is
// the lecture's He, randn(fan_in, fan_out)/sqrt(fan_in/2), and Keras'
// HeNormal (untruncated). Gorgonia's HeN(gain) has the same formula for rank 2.
// It returns ErrConfig unless gain is finite and > 0.
func HeNormal(gain float64) (Init, error) {
	return scaled("HeNormal", kindNormal, scaleFanIn, gain)
}

// HeUniform draws from U[−b, b) with b = √3·gain/√fan_in, the same variance as
// HeNormal (PyTorch's kaiming_uniform_ in fan_in mode; Keras' HeUniform at
// gain √2). It returns ErrConfig unless gain is finite and > 0.
func HeUniform(gain float64) (Init, error) {
	return scaled("HeUniform", kindUniform, scaleFanIn, gain)
}

// Orthogonal fills a (semi-)orthogonal matrix scaled by gain (Saxe et al.,
// 2013), as PyTorch's orthogonal_: the tensor is viewed as a matrix of
// rows = shape[0] and cols = the product of the other dimensions; a Gaussian
// matrix is QR-factorized and Q's columns multiplied by the signs of R's
// diagonal, which makes the result uniformly (Haar) distributed. If
// rows ≥ cols the columns are orthonormal (WᵀW = gain²·I); otherwise the rows
// are (WWᵀ = gain²·I). The shape needs rank 2, or rank ≥ 3 with Init.Conv. It returns ErrConfig unless
// gain is finite and > 0.
func Orthogonal(gain float64) (Init, error) {
	const who = "Orthogonal"
	if err := checkGain(who, gain); err != nil {
		return Init{}, err
	}
	return Init{name: who, args: "gain=" + ftoa(gain), kind: kindOrthogonal, gain: gain, fansNeeded: true}, nil
}
