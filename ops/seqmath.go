package ops

import "math"

// sigmoidInto sets x[j] = σ(x[j] + bias[j]) (bias may be nil), computed
// without overflow for large |x|.
func sigmoidInto[T float](x, bias []T) {
	if bias != nil {
		bias = bias[:len(x)]
	}
	for j, v := range x {
		if bias != nil {
			v += bias[j]
		}
		x[j] = sigmoid(v)
	}
}

// tanhInto sets x[j] = tanh(x[j] + bias[j]) (bias may be nil).
func tanhInto[T float](x, bias []T) {
	if bias != nil {
		bias = bias[:len(x)]
	}
	for j, v := range x {
		if bias != nil {
			v += bias[j]
		}
		x[j] = T(math.Tanh(float64(v)))
	}
}

// sigmoid is 1/(1 + e^−v).
func sigmoid[T float](v T) T {
	if v >= 0 {
		return T(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return T(e / (1 + e))
}
