package solvers_test

import (
	"fmt"

	"github.com/gradlab/gradlab/solvers"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Minimise f(w) = ½‖w − (1, 2)‖² with Adam, by name, as a training loop would.
func Example() {
	s, err := solvers.New("adam", solvers.Config{LR: 0.1})
	if err != nil {
		panic(err)
	}
	w := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 0}))
	g := tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float64))
	model := []gorgonia.ValueGrad{solvers.NewVar("w", w, g)}
	target := []float64{1, 2}
	for range 200 {
		for i, x := range w.Float64s() {
			g.Float64s()[i] += x - target[i] // gradients accumulate, as on a Gorgonia tape
		}
		if err := s.Step(model); err != nil {
			panic(err)
		}
	}
	fmt.Printf("w = [%.3f %.3f], gradient zeroed: %v\n", w.Float64s()[0], w.Float64s()[1], g.Float64s()[0] == 0)
	fmt.Println("state:", s.State()["w/step"].Float64s())

	_, err = solvers.New("adam", solvers.Config{Beta1: 1.5})
	fmt.Println(err)
	// Output:
	// w = [1.000 2.000], gradient zeroed: true
	// state: [200]
	// solvers: invalid config: adam: Beta1 = 1.5, want in [0, 1)
}
