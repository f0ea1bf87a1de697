package ops

import (
	"math"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/internal/vec"
)

// An activation is an elementwise function whose derivative can be written
// in terms of its output y: the backward pass needs only y and the incoming
// gradient g. Each kernel is one generic function, instantiated for float32
// and float64.
type activation struct {
	name  string
	fwd32 func(y, x []float32)
	fwd64 func(y, x []float64)
	bwd32 func(dx, y, g []float32)
	bwd64 func(dx, y, g []float64)
}

var (
	tanhAct    = &activation{"Tanh", tanhFwd[float32], tanhFwd[float64], tanhBwd[float32], tanhBwd[float64]}
	sigmoidAct = &activation{"Sigmoid", sigmoidFwd[float32], sigmoidFwd[float64], sigmoidBwd[float32], sigmoidBwd[float64]}
	reluAct    = &activation{"ReLU", vec.ReLU[float32], vec.ReLU[float64], vec.ReLUGrad[float32], vec.ReLUGrad[float64]}
)

// Tanh returns tanh(x) elementwise; dx = g·(1 − y²).
func Tanh(x *gorgonia.Node) (*gorgonia.Node, error) { return activate(tanhAct, x) }

// Sigmoid returns 1/(1+exp(−x)) elementwise, computed without overflow for
// large |x|; dx = g·y·(1 − y).
func Sigmoid(x *gorgonia.Node) (*gorgonia.Node, error) { return activate(sigmoidAct, x) }

// ReLU returns max(x, 0) elementwise; dx = g where y > 0, else 0 (the
// derivative at 0 is taken as 0, as in PyTorch).
func ReLU(x *gorgonia.Node) (*gorgonia.Node, error) { return activate(reluAct, x) }

func activate(a *activation, x *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkFloat(a.name, "x", x); err != nil {
		return nil, err
	}
	return applyDef(&def{
		name:        a.name + "()",
		label:       a.name,
		typ:         sig(0, 0),
		run32:       func(y []float32, in [][]float32) error { a.fwd32(y, in[0]); return nil },
		run64:       func(y []float64, in [][]float64) error { a.fwd64(y, in[0]); return nil },
		elementwise: true,
		grad: func(_ gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := applyDef(&def{
				name:        a.name + "Grad()",
				label:       a.name + "Grad",
				typ:         sig(0, 0, 0),
				run32:       func(dx []float32, in [][]float32) error { a.bwd32(dx, in[0], in[1]); return nil },
				run64:       func(dx []float64, in [][]float64) error { a.bwd64(dx, in[0], in[1]); return nil },
				elementwise: true,
			}, y, g)
			return gorgonia.Nodes{dx}, err
		},
	}, x)
}

func tanhFwd[T float](y, x []T) {
	for i, v := range x {
		y[i] = T(math.Tanh(float64(v)))
	}
}

func tanhBwd[T float](dx, y, g []T) {
	for i, v := range y {
		dx[i] = g[i] * (1 - v*v)
	}
}

func sigmoidFwd[T float](y, x []T) {
	for i, v := range x {
		if v >= 0 {
			y[i] = T(1 / (1 + math.Exp(-float64(v))))
		} else {
			e := math.Exp(float64(v))
			y[i] = T(e / (1 + e))
		}
	}
}

func sigmoidBwd[T float](dx, y, g []T) {
	for i, v := range y {
		dx[i] = g[i] * v * (1 - v)
	}
}
