package train

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// World is the group of processes a data-parallel run spans: internal/mpi's
// World is one (gradlab train under mpirun). Every process runs Train with
// the same configuration, model and data; each takes its shard of every
// global batch, and the gradients are summed across the processes before
// the solver step, so all keep identical parameters and solver state.
type World interface {
	Rank() int
	Size() int
	AllReduceSum32(buf []float32) error
	AllReduceSum64(buf []float64) error
}

// shard returns rank's part of a global batch of indices: the batch cut in
// Size() nearly equal runs, the first len(idx) mod K ranks one longer.
func shard(idx []int, rank, size int) []int {
	lo, hi := rank*len(idx)/size, (rank+1)*len(idx)/size
	return idx[lo:hi]
}

// reducer sums the gradients of a data-parallel step across the world in
// one all-reduce of a flat buffer (reused between steps), each rank's
// gradient first weighted by its share of the global batch, so the sum is
// the gradient of the global batch's mean loss. The batch's mean loss
// rides in the same buffer.
type reducer struct {
	w   World
	f32 []float32
	f64 []float64
}

// reduce weights the program's gradients by n/global, sums them and the
// loss·n/global across the world, writes the sums back, and returns the
// global batch's mean loss.
func (r *reducer) reduce(p *graph.Program, loss float64, n, global int) (float64, error) {
	params := p.Params()
	if len(params) == 0 {
		return loss, nil
	}
	share := float64(n) / float64(global)
	if params[0].Dtype() == tensor.Float32 {
		return reduceAs(r, &r.f32, params, loss, share, r.w.AllReduceSum32)
	}
	return reduceAs(r, &r.f64, params, loss, share, r.w.AllReduceSum64)
}

func reduceAs[T float32 | float64](r *reducer, buf *[]T, params []*gorgonia.Node, loss, share float64, sum func([]T) error) (float64, error) {
	b := (*buf)[:0]
	grads := make([][]T, len(params))
	for i, p := range params {
		g, err := p.Grad()
		if err != nil {
			return 0, fmt.Errorf("train: gradient of %s: %w", p.Name(), err)
		}
		d, ok := g.Data().([]T)
		if !ok {
			return 0, fmt.Errorf("train: gradient of %s holds %T, want the first parameter's dtype", p.Name(), g.Data())
		}
		grads[i] = d
		for _, v := range d {
			b = append(b, v*T(share))
		}
	}
	b = append(b, T(loss*share))
	*buf = b
	if err := sum(b); err != nil {
		return 0, fmt.Errorf("train: all-reduce of %d gradient values: %w", len(b), err)
	}
	at := 0
	for _, d := range grads {
		at += copy(d, b[at:at+len(d)])
	}
	return float64(b[at]), nil
}
