package experiments_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gradlab/gradlab/experiments"
)

// The optimizer-path experiment on f(x, y) = x²/20 + y²: how far each
// optimizer is from the minimum after 30 steps from (−7, 2).
func ExampleOptimizerPaths() {
	r, err := experiments.OptimizerPaths(experiments.PathOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range r.Paths {
		fmt.Printf("%-8s lr %-4g distance %.2f, y changed sign %d times\n", p.Spec.Name, p.Spec.Config.LR, p.Dist(r.Steps), p.ZigZags())
	}
	// Output:
	// SGD      lr 0.95 distance 0.36, y changed sign 30 times
	// Momentum lr 0.1  distance 0.90, y changed sign 4 times
	// Nesterov lr 0.1  distance 0.69, y changed sign 5 times
	// AdaGrad  lr 1.5  distance 0.12, y changed sign 0 times
	// RMSProp  lr 0.3  distance 0.15, y changed sign 12 times
	// Adadelta lr 1    distance 0.35, y changed sign 14 times
	// Adam     lr 0.3  distance 0.35, y changed sign 2 times
}

// The paths of SGD and momentum on the bowl have closed forms: each
// coordinate is a linear recurrence (f's gradient is (x/10, 2y)), here
// iterated in plain float64 as an independent reference for the solvers'
// kernels.
func TestPathsClosedForm(t *testing.T) {
	r, err := experiments.OptimizerPaths(experiments.PathOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Paths {
		var next func(w, v, a float64) (float64, float64)
		lr, mu := p.Spec.Config.LR, p.Spec.Config.Momentum
		switch p.Spec.Solver {
		case "sgd": // w ← w − lr·a·w
			next = func(w, v, a float64) (float64, float64) { return w - lr*a*w, 0 }
		case "momentum": // PyTorch's form: v ← μv + a·w; w ← w − lr·v
			next = func(w, v, a float64) (float64, float64) { v = mu*v + a*w; return w - lr*v, v }
		default:
			continue
		}
		x, y, vx, vy := experiments.BowlStart[0], experiments.BowlStart[1], 0.0, 0.0
		for i := 1; i <= r.Steps; i++ {
			x, vx = next(x, vx, 0.1)
			y, vy = next(y, vy, 2)
			if math.Abs(p.X[i]-x) > 1e-12*math.Max(1, math.Abs(x)) || math.Abs(p.Y[i]-y) > 1e-12*math.Max(1, math.Abs(y)) {
				t.Fatalf("%s step %d: (%g, %g), the recurrence gives (%g, %g)", p.Spec.Name, i, p.X[i], p.Y[i], x, y)
			}
		}
	}
}
