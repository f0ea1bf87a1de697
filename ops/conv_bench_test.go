package ops

import (
	"testing"

	"github.com/gradlab/gradlab/internal/parallel"
)

// BenchmarkConvOps times each convolution op alone (float32, batch 128, the
// MNIST CNN's two layers) on one core and on all: the breakdown behind
// benchmarks.BenchmarkConvLayer. GFLOP/s counts 2·N·O·OH·OW·C·KH·KW per op.
func BenchmarkConvOps(b *testing.B) {
	layers := []struct {
		name   string
		xs, ws []int
	}{
		{"c1-1to16-k5-28x28", []int{128, 1, 28, 28}, []int{16, 1, 5, 5}},
		{"c2-16to32-k5-14x14", []int{128, 16, 14, 14}, []int{32, 16, 5, 5}},
	}
	for _, l := range layers {
		for _, cores := range []int{1, 0} {
			ops, inputs, _ := convOps(b, l.xs, l.ws, ConvOptions{Padding: [2]int{2, 2}})
			g, _ := convGeometry(l.xs, l.ws, ConvOptions{Padding: [2]int{2, 2}})
			flops := 2 * float64(g.n*g.o*g.p()*g.ckk())
			name := "cores=all"
			if cores == 1 {
				name = "cores=1"
			}
			for k, what := range []string{"forward", "dx", "dw+forward"} {
				b.Run(l.name+"/"+what+"/"+name, func(b *testing.B) {
					defer parallel.SetParallelism(parallel.SetParallelism(0))
					parallel.SetParallelism(cores)
					run := func() {
						if k == convGradW { // as in a training step: the forward pass first
							if _, err := ops[0].Do(inputs[0]...); err != nil {
								b.Fatal(err)
							}
						}
						if _, err := ops[k].Do(inputs[k]...); err != nil {
							b.Fatal(err)
						}
					}
					run()
					b.ReportAllocs()
					for b.Loop() {
						run()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
