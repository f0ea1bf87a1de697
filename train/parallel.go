package train

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/metrics"
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
		if share == 0 { // a rank without examples adds zeros, whatever its buffers hold
			b = append(b, make([]T, len(d))...)
			continue
		}
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

// gather returns every rank's part, in rank order, on every rank: one
// all-reduce of the lengths and one of the parts, each rank writing its own
// slots of a zeroed buffer (adding zeros copies a value exactly).
func gather(w World, part []float64) ([][]float64, error) {
	k := w.Size()
	lens := make([]float64, k)
	lens[w.Rank()] = float64(len(part))
	if err := w.AllReduceSum64(lens); err != nil {
		return nil, fmt.Errorf("train: gathering the lengths of %d parts: %w", k, err)
	}
	at, total := 0, 0
	for r, n := range lens {
		if r < w.Rank() {
			at += int(n)
		}
		total += int(n)
	}
	buf := make([]float64, total)
	copy(buf[at:], part)
	if err := w.AllReduceSum64(buf); err != nil {
		return nil, fmt.Errorf("train: gathering %d values of %d parts: %w", total, k, err)
	}
	parts := make([][]float64, k)
	for r, n := range lens {
		parts[r], buf = buf[:int(n)], buf[int(n):]
	}
	return parts, nil
}

// mergeMetrics makes the metrics of every rank those of the union of the
// ranks' batches: each metric's state is gathered and merged in rank order
// (newRun checked that every metric is a metrics.Mergeable).
func (r *Run) mergeMetrics(ms []metrics.Metric) error {
	if r.red == nil {
		return nil
	}
	for _, m := range ms {
		mm := m.(metrics.Mergeable)
		parts, err := gather(r.world, mm.State())
		if err != nil {
			return fmt.Errorf("train: metric %s: %w", m.Name(), err)
		}
		mm.Reset()
		for _, p := range parts {
			if err := mm.Merge(p); err != nil {
				return fmt.Errorf("train: metric %s: %w", m.Name(), err)
			}
		}
	}
	return nil
}

// shareStates gives every rank rank 0's state tensors (batch norm's running
// statistics, dropout's counters), as PyTorch DDP's broadcast_buffers does:
// the statistics evaluation uses and the checkpoint saves are then the same
// on every rank.
func (r *Run) shareStates() error {
	if r.red == nil {
		return nil
	}
	for _, s := range r.model.States() {
		if err := r.fromRank0(s.Value); err != nil {
			return fmt.Errorf("train: sharing rank 0's state %s: %w", s.Name, err)
		}
	}
	return nil
}

// shareParams gives every rank rank 0's parameters, as PyTorch DDP does when
// it wraps a model: the ranks start alike whatever seeds built their models
// (RankSeed).
func (r *Run) shareParams() error {
	if r.red == nil {
		return nil
	}
	for _, p := range r.model.Params() {
		err := fmt.Errorf("holds a %T, want a dense tensor", p.Value())
		if d, ok := p.Value().(*tensor.Dense); ok {
			err = r.fromRank0(d)
		}
		if err != nil {
			return fmt.Errorf("train: sharing rank 0's parameter %s: %w", p.Name(), err)
		}
	}
	return nil
}

// fromRank0 overwrites t with rank 0's values: one all-reduce of rank 0's
// values and the other ranks' zeros.
func (r *Run) fromRank0(t *tensor.Dense) error {
	switch d := t.Data().(type) {
	case []float32:
		if r.world.Rank() != 0 {
			clear(d)
		}
		return r.world.AllReduceSum32(d)
	case []float64:
		if r.world.Rank() != 0 {
			clear(d)
		}
		return r.world.AllReduceSum64(d)
	}
	return fmt.Errorf("holds %v, want float32 or float64", t.Dtype())
}

// RankSeed is the model seed of rank r of a data-parallel run of the given
// seed: the seed itself for rank 0 (so rank 0, and a run of one process,
// draw what a run without a World draws), and for r > 0 one derived from
// both (graph.Builder's SeedFor of "rank#r"), so that every rank's dropout
// draws its own masks. Train gives every rank rank 0's parameters before the
// first step, so the ranks start alike whatever seeds built their models;
// the shuffling is Config.Seed's on every rank (each takes its shard of the
// same global batches).
func RankSeed(seed uint64, r int) uint64 {
	if r == 0 {
		return seed
	}
	return graph.NewBuilder(seed).SeedFor(fmt.Sprintf("rank#%d", r))
}
