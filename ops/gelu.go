package ops

import (
	"math"

	"gorgonia.org/gorgonia"
)

// GELU returns x·Φ(x) elementwise, Φ the standard normal CDF, in its exact
// form 0.5·x·(1 + erf(x/√2)) (PyTorch's default GELU, not the tanh
// approximation); dx = g·(Φ(x) + x·φ(x)) with φ(x) = exp(−x²/2)/√(2π).
func GELU(x *gorgonia.Node) (*gorgonia.Node, error) {
	const op = "GELU"
	if err := checkFloat(op, "x", x); err != nil {
		return nil, err
	}
	return applyDef(&def{
		name:        "GELU()",
		label:       op,
		typ:         sig(0, 0),
		run32:       func(y []float32, in [][]float32) error { geluFwd(y, in[0]); return nil },
		run64:       func(y []float64, in [][]float64) error { geluFwd(y, in[0]); return nil },
		elementwise: true,
		grad: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(&def{
				name:        "GELUGrad()",
				label:       op + "Grad",
				typ:         sig(0, 0, 0),
				run32:       func(dx []float32, in [][]float32) error { geluBwd(dx, in[0], in[1]); return nil },
				run64:       func(dx []float64, in [][]float64) error { geluBwd(dx, in[0], in[1]); return nil },
				elementwise: true,
			}, in[0], g)
			return gorgonia.Nodes{dx}, err
		},
	}, x)
}

func geluFwd[T float](y, x []T) {
	y = y[:len(x)]
	for i, v := range x {
		f := float64(v)
		y[i] = T(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
}

func geluBwd[T float](dx, x, g []T) {
	dx, g = dx[:len(x)], g[:len(x)]
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	for i, v := range x {
		f := float64(v)
		cdf := 0.5 * (1 + math.Erf(f/math.Sqrt2))
		dx[i] = T(float64(g[i]) * (cdf + f*invSqrt2Pi*math.Exp(-0.5*f*f)))
	}
}
