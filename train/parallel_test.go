package train_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/solvers"
	"github.com/gradlab/gradlab/train"
)

// hub is an in-process all-reduce for goroutine "ranks": every rank's
// buffer is summed in rank order (deterministic), as MPI_Allreduce gives
// every rank the same result.
type hub struct {
	mu    sync.Mutex
	cond  *sync.Cond
	size  int
	parts [][]float64
	in    int
	gen   int
	sum   []float64
}

func newHub(size int) *hub {
	h := &hub{size: size, parts: make([][]float64, size)}
	h.cond = sync.NewCond(&h.mu)
	return h
}

type rank struct {
	h *hub
	r int
}

func (w rank) Rank() int { return w.r }
func (w rank) Size() int { return w.h.size }

func (w rank) AllReduceSum64(buf []float64) error {
	h := w.h
	h.mu.Lock()
	defer h.mu.Unlock()
	gen := h.gen
	h.parts[w.r] = append([]float64(nil), buf...)
	h.in++
	if h.in == h.size {
		h.sum = make([]float64, len(buf))
		for _, p := range h.parts {
			for i, v := range p {
				h.sum[i] += v
			}
		}
		h.in, h.gen = 0, h.gen+1
		h.cond.Broadcast()
	} else {
		for h.gen == gen {
			h.cond.Wait()
		}
	}
	copy(buf, h.sum)
	return nil
}

func (w rank) AllReduceSum32(buf []float32) error {
	b := make([]float64, len(buf))
	for i, v := range buf {
		b[i] = float64(v)
	}
	if err := w.AllReduceSum64(b); err != nil {
		return err
	}
	for i, v := range b {
		buf[i] = float32(v)
	}
	return nil
}

// TestDataParallelMatchesOneProcess: two ranks with a global batch B make
// the same steps as one process with batch B: the same losses and the same
// weights, to the rounding of a sum taken in another order (float64, no
// batch norm; measured below 1e-13 relative).
func TestDataParallelMatchesOneProcess(t *testing.T) {
	tr, te := curve(300)
	cfg := quick()
	cfg.Batch, cfg.Epochs = 50, 3
	cfg.Optimizer, cfg.Solver = "adam", solvers.Config{LR: 0.01}
	build := func() *nn.Model {
		m, err := nn.NewRegressor(7, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(16), nn.Tanh(), nn.Dense(1), nn.Reshape()))
		require.NoError(t, err)
		t.Cleanup(func() { m.Close() })
		return m
	}
	one := build()
	want, err := train.Train(context.Background(), cfg, one, train.Data{Train: tr, Test: te}, train.Options{})
	require.NoError(t, err)

	h := newHub(2)
	models := []*nn.Model{build(), build()}
	results := make([]*train.Result, 2)
	errs := make([]error, 2)
	var losses [2][]float64
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[r], errs[r] = train.Train(context.Background(), cfg, models[r], train.Data{Train: tr, Test: te}, train.Options{
				World:  rank{h, r},
				OnStep: func(s train.Step) error { losses[r] = append(losses[r], s.Loss); return nil },
			})
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.Equal(t, losses[0], losses[1], "every rank sees the same global loss")
	for e := range want.Epochs {
		for _, k := range []string{"loss", "rmse", "r2"} {
			w, g := want.Epochs[e].Test.Get(k), results[0].Epochs[e].Test.Get(k)
			assert.InDelta(t, w, g, 1e-12*math.Max(1, math.Abs(w)), "epoch %d test %s", e+1, k)
		}
	}
	var worst float64
	for i, p := range one.Params() {
		a, b, c := p.Value().Data().([]float64), models[0].Params()[i].Value().Data().([]float64), models[1].Params()[i].Value().Data().([]float64)
		require.Equal(t, b, c, "%s: the ranks keep identical weights", p.Name())
		for j := range a {
			worst = max(worst, math.Abs(a[j]-b[j])/math.Max(1, math.Abs(a[j])))
		}
	}
	assert.Less(t, worst, 1e-12, "weights of 2 ranks against 1 process")
	t.Logf("largest relative weight difference after %d steps: %.3g", len(losses[0]), worst)

	// A global batch smaller than the world is refused.
	small := cfg
	small.Batch = 1
	_, err = train.Train(context.Background(), small, build(), train.Data{Train: tr}, train.Options{World: rank{newHub(2), 0}})
	require.ErrorIs(t, err, train.ErrConfig)
	assert.Contains(t, err.Error(), "batch 1 is the global batch, split across 2 processes")
}

// TestDataParallelFailureOnOneRank: a callback that fails on rank 0 alone
// (a full disk where rank 0 writes) ends the run on every rank, with an
// error, instead of leaving rank 1 in the next all-reduce.
func TestDataParallelFailureOnOneRank(t *testing.T) {
	tr, _ := curve(200)
	cfg := quick()
	cfg.Batch, cfg.Epochs = 40, 5
	h := newHub(2)
	errs := make([]error, 2)
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for r := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := nn.NewRegressor(7, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(4), nn.Tanh(), nn.Dense(1), nn.Reshape()))
				if err != nil {
					errs[r] = err
					return
				}
				defer m.Close()
				opt := train.Options{World: rank{h, r}}
				if r == 0 {
					opt.OnEpoch = func(e train.Epoch) error {
						if e.Epoch == 2 {
							return errors.New("disk full")
						}
						return nil
					}
				}
				_, errs[r] = train.Train(context.Background(), cfg, m, train.Data{Train: tr}, opt)
			}()
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a rank still waits 20 s after rank 0 failed")
	}
	assert.ErrorContains(t, errs[0], "disk full")
	assert.ErrorContains(t, errs[1], "1 of 2 processes failed at the end of the epoch")
}
