package benchmarks

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/solvers"
)

// The language model's benchmarks (benchmarks/CHARLM.md): a training step
// (forward, backward, AdamW) on a batch of windows of random token ids,
// reported in tokens/s, and generation through the incremental path,
// reported in characters/s.

// charlmBench are the benchmarked configurations (vocabulary 93, the
// default text's).
var charlmBench = []struct {
	name  string
	cfg   charlm.Config
	batch int
}{
	{"lstm-1x256-c128", charlm.Config{Arch: "lstm", Context: 128, Width: 256, Depth: 1, Vocab: 93, Seed: 1}, 32},
	{"gru-1x256-c128", charlm.Config{Arch: "gru", Context: 128, Width: 256, Depth: 1, Vocab: 93, Seed: 1}, 32},
	{"gru-1x512-c128", charlm.Config{Arch: "gru", Context: 128, Width: 512, Depth: 1, Vocab: 93, Seed: 1}, 32},
	{"transformer-4x128-h4-c64", charlm.Config{Arch: "transformer", Context: 64, Width: 128, Depth: 4, Heads: 4, Vocab: 93, Seed: 1}, 32},
}

// randomTokens returns n token ids below v.
func randomTokens(n, v int) []int {
	r := rand.New(rand.NewPCG(7, 8))
	out := make([]int, n)
	for i := range out {
		out[i] = r.IntN(v)
	}
	return out
}

func BenchmarkCharlmTrainStep(b *testing.B) {
	for _, c := range charlmBench {
		b.Run(c.name+"/gradlab", func(b *testing.B) {
			m, err := charlm.New(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			p, err := m.Program(c.batch)
			if err != nil {
				b.Fatal(err)
			}
			s, err := solvers.New("adamw", solvers.Config{LR: 2e-3, DecoupledDecay: 0.05, Options: solvers.Options{ClipNorm: 1}})
			if err != nil {
				b.Fatal(err)
			}
			n := c.batch * c.cfg.Context
			feeds := graph.Feeds{
				"x": tensor.New(tensor.WithShape(c.batch, c.cfg.Context), tensor.WithBacking(randomTokens(n, c.cfg.Vocab))),
				"y": tensor.New(tensor.WithShape(c.batch, c.cfg.Context), tensor.WithBacking(append(randomTokens(n, c.cfg.Vocab)[1:], 0))),
			}
			step := func() {
				if err := p.Run(feeds); err != nil {
					b.Fatal(err)
				}
				if err := s.Step(p.Learnables()); err != nil {
					b.Fatal(err)
				}
			}
			step()               // warm-up
			b.SetBytes(int64(n)) // a token is a byte of text
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

func BenchmarkCharlmGenerate(b *testing.B) {
	for _, c := range charlmBench {
		b.Run(c.name, func(b *testing.B) {
			m, err := charlm.New(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if _, err := m.Program(1); err != nil {
				b.Fatal(err)
			}
			g, err := charlm.NewGenerator(m, c.cfg, 0)
			if err != nil {
				b.Fatal(err)
			}
			const chars = 1000
			b.SetBytes(chars)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := g.Generate([]int{1}, chars, charlm.Sampling{Temperature: 0.8, Seed: 1}, func(int) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(chars*b.N)/b.Elapsed().Seconds(), "chars/s")
		})
	}
}
