package main

import (
	"os"
	"runtime/pprof"
	"time"
	"fmt"

	"gorgonia.org/tensor"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/graph"
)

func main() {
	cfg := mlp.Config{Inputs: 784, Hidden: []int{256}, Classes: 10, Activation: "relu", Init: "he", Dtype: "float32", Seed: 1}
	m, _ := mlp.New(cfg)
	p, err := m.Program(128)
	if err != nil { panic(err) }
	s, _ := solvers.New("adam", solvers.Config{})
	x := make([]float32, 128*784)
	for i := range x { x[i] = float32(i%7) / 7 }
	y := make([]int, 128)
	feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(128, 784), tensor.WithBacking(x)), "y": tensor.New(tensor.WithShape(128), tensor.WithBacking(y))}
	f, _ := os.Create("/tmp/cpu.prof")
	pprof.StartCPUProfile(f)
	t := time.Now()
	n := 300
	for range n {
		if err := p.Run(feeds); err != nil { panic(err) }
		if err := s.Step(p.Learnables()); err != nil { panic(err) }
	}
	pprof.StopCPUProfile()
	el := time.Since(t)
	fmt.Printf("%.0f samples/s, %v/step\n", float64(n*128)/el.Seconds(), el/time.Duration(n))
}
