package experiments_test

import (
	"fmt"

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
