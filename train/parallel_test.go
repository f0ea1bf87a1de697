package train_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/ops"
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

// counting is a data set that counts the examples gathered from it.
type counting struct {
	datasets.Dataset
	n atomic.Int64
}

func (c *counting) Gather(idx []int, x, y *tensor.Dense) error {
	c.n.Add(int64(len(idx)))
	return c.Dataset.Gather(idx, x, y)
}

// parallel trains k goroutine ranks, each with its own model from build and
// the options opt(rank) (World and an OnStep that records the losses set
// here), and returns each rank's result, models and step losses.
func parallel(t *testing.T, k int, cfg train.Config, build func(rank int) *nn.Model, data func(rank int) train.Data, opt func(rank int) train.Options) ([]*train.Result, []*nn.Model, [][]float64) {
	t.Helper()
	h := newHub(k)
	models := make([]*nn.Model, k)
	for r := range k {
		models[r] = build(r)
	}
	results := make([]*train.Result, k)
	errs := make([]error, k)
	losses := make([][]float64, k)
	var wg sync.WaitGroup
	for r := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := train.Options{}
			if opt != nil {
				o = opt(r)
			}
			o.World = rank{h, r}
			o.OnStep = func(s train.Step) error { losses[r] = append(losses[r], s.Loss); return nil }
			results[r], errs[r] = train.Train(context.Background(), cfg, models[r], data(r), o)
		}()
	}
	wg.Wait()
	for r := range k {
		require.NoError(t, errs[r], "rank %d", r)
	}
	return results, models, losses
}

// sameScores asserts that every metric of every set of every epoch of got
// is want's to a relative tol.
func sameScores(t *testing.T, want, got *train.Result, tol float64) {
	t.Helper()
	require.Len(t, got.Epochs, len(want.Epochs))
	for e, we := range want.Epochs {
		for _, set := range []string{"train", "val", "test"} {
			ws, gs := we.Set(set), got.Epochs[e].Set(set)
			require.Len(t, gs, len(ws), "epoch %d %s", e+1, set)
			for i, w := range ws {
				assert.InDelta(t, w.Value, gs[i].Value, tol*math.Max(1, math.Abs(w.Value)), "epoch %d %s %s", e+1, set, w.Name)
			}
		}
		assert.Equal(t, we.LR, got.Epochs[e].LR, "epoch %d: the learning rate", e+1)
	}
}

// worstWeight returns the largest relative difference between the weights
// of a and b.
func worstWeight(a, b *nn.Model) float64 {
	var worst float64
	for i, p := range a.Params() {
		x, y := p.Value().Data().([]float64), b.Params()[i].Value().Data().([]float64)
		for j := range x {
			worst = max(worst, math.Abs(x[j]-y[j])/math.Max(1, math.Abs(x[j])))
		}
	}
	return worst
}

// TestDataParallelMatchesOneProcess: two ranks with a global batch B make
// the same steps as one process with batch B: the same losses and the same
// weights, to the rounding of a sum taken in another order (float64, no
// batch norm; measured below 1e-13 relative). The metrics each rank
// reports (the training set's running ones, the validation and test sets'
// sharded ones) are those of one process, and each rank evaluates only
// its half of a set.
func TestDataParallelMatchesOneProcess(t *testing.T) {
	tr, te := curve(310) // 248 training examples, 37 of them validation: a last batch of 11
	cfg := quick()
	cfg.Batch, cfg.Epochs, cfg.Validation = 50, 3, 37
	cfg.Optimizer, cfg.Solver = "adam", solvers.Config{LR: 0.01}
	build := func(int) *nn.Model {
		m, err := nn.NewRegressor(7, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(16), nn.Tanh(), nn.Dense(1), nn.Reshape()))
		require.NoError(t, err)
		t.Cleanup(func() { m.Close() })
		return m
	}
	one := build(0)
	want, err := train.Train(context.Background(), cfg, one, train.Data{Train: tr, Test: te}, train.Options{})
	require.NoError(t, err)

	tests := []*counting{{Dataset: te}, {Dataset: te}}
	results, models, losses := parallel(t, 2, cfg, build, func(r int) train.Data { return train.Data{Train: tr, Test: tests[r]} }, nil)
	assert.Equal(t, losses[0], losses[1], "every rank sees the same global loss")
	assert.Len(t, losses[0], 3*5)
	for r := range 2 {
		sameScores(t, want, results[r], 1e-12)
		// 3 epochs of a half of the 62 test examples, plus fits' checks.
		assert.Less(t, tests[r].n.Load(), int64(3*31+62+1), "rank %d evaluates its shard only", r)
	}
	require.Equal(t, 0.0, worstWeight(models[0], models[1]), "the ranks keep identical weights")
	worst := worstWeight(one, models[0])
	assert.Less(t, worst, 1e-12, "weights of 2 ranks against 1 process")
	t.Logf("largest relative weight difference after %d steps: %.3g", len(losses[0]), worst)

	// A global batch smaller than the world is refused.
	small := cfg
	small.Batch = 1
	_, err = train.Train(context.Background(), small, build(0), train.Data{Train: tr}, train.Options{World: rank{newHub(2), 0}})
	require.ErrorIs(t, err, train.ErrConfig)
	assert.Contains(t, err.Error(), "batch 1 is the global batch, split across 2 processes")
}

// TestDataParallelPartialBatch: a last batch with fewer examples than
// ranks (one example, three ranks) is a step on every rank, the empty ones
// adding zero gradients, so a K-rank run takes one process's steps and
// follows its learning-rate schedule (cosine over all steps) exactly.
func TestDataParallelPartialBatch(t *testing.T) {
	tr, te := curve(200) // 160 training examples: batches of 53, 53, 53, 1
	cfg := quick()
	cfg.Batch, cfg.Epochs = 53, 2
	cfg.Schedule = train.Schedule{Kind: "cosine"}
	build := func(int) *nn.Model {
		m, err := nn.NewRegressor(3, tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(8), nn.Tanh(), nn.Dense(1), nn.Reshape()))
		require.NoError(t, err)
		t.Cleanup(func() { m.Close() })
		return m
	}
	one := build(0)
	var want, lrs []float64
	res, err := train.Train(context.Background(), cfg, one, train.Data{Train: tr, Test: te}, train.Options{
		OnStep: func(s train.Step) error { want, lrs = append(want, s.Loss), append(lrs, s.LR); return nil }})
	require.NoError(t, err)
	require.Len(t, want, 8)
	var glr []float64
	results, models, got := parallel(t, 3, cfg, build, func(int) train.Data { return train.Data{Train: tr, Test: te} }, func(r int) train.Options {
		return train.Options{Callbacks: []train.Callback{train.Hooks{OnStep: func(_ *train.Run, s train.Step) error {
			if r == 0 {
				glr = append(glr, s.LR)
			}
			return nil
		}}}}
	})
	require.Len(t, got[0], len(want), "the steps of one process")
	assert.Equal(t, lrs, glr, "the learning rate of every step")
	for i := range want {
		assert.InDelta(t, want[i], got[0][i], 1e-12*want[i], "step %d", i)
	}
	sameScores(t, res, results[2], 1e-12)
	assert.Less(t, worstWeight(one, models[1]), 1e-12)
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

// images returns n random (1, 4, 4) images, the first 4/5 for training,
// with a smooth target of their pixels.
func images(n int) (tr, te datasets.Dataset) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := make([]float64, 16*n), make([]float64, n)
	for i := range n {
		for j := range 16 {
			x[16*i+j] = rng.NormFloat64() + 0.5
			y[i] += math.Sin(x[16*i+j]) * float64(j%3)
		}
	}
	cut := n * 4 / 5
	tr, _ = datasets.FromValues(x[:16*cut], []int{1, 4, 4}, y[:cut], nil)
	te, _ = datasets.FromValues(x[16*cut:], []int{1, 4, 4}, y[cut:], nil)
	return tr, te
}

// TestSyncBatchNorm: with synchronized batch norm, K goroutine ranks with a
// global batch B (K = 3: shards of 16, 17 and 17) make one process's steps
// with batch B: losses, weights and running statistics to 1e-12 relative
// (float64; the sums are taken in another order), for batch norm of dense
// features and of convolution channels. With per-rank statistics (the
// default) they do not.
func TestSyncBatchNorm(t *testing.T) {
	cfg := quick()
	cfg.Batch, cfg.Epochs = 50, 2
	// SGD, not Adam: the bias before batch norm has a zero gradient up to
	// rounding, which Adam would scale up to steps of 1e-11.
	cfg.Optimizer, cfg.Solver = "sgd", solvers.Config{LR: 0.1}
	for _, tc := range []struct {
		name   string
		data   func(int) (datasets.Dataset, datasets.Dataset)
		in     []int
		layers func() *nn.Sequential
	}{
		{"dense", curve, []int{2}, func() *nn.Sequential {
			return nn.NewSequential(nn.Dense(8), nn.BatchNorm(), nn.Tanh(), nn.Dense(1), nn.Reshape())
		}},
		{"conv", images, []int{1, 4, 4}, func() *nn.Sequential {
			return nn.NewSequential(nn.Conv2D(3, [2]int{3, 3}, ops.ConvOptions{Padding: [2]int{1, 1}}), nn.BatchNorm(), nn.Tanh(),
				nn.Flatten(), nn.Dense(1), nn.Reshape())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, te := tc.data(250) // 200 training examples: batches of 50
			build := func(int) *nn.Model {
				m, err := nn.NewRegressor(5, tensor.Float64, tc.in, tc.layers())
				require.NoError(t, err)
				t.Cleanup(func() { m.Close() })
				return m
			}
			one := build(0)
			var want []float64
			res, err := train.Train(context.Background(), cfg, one, train.Data{Train: tr, Test: te}, train.Options{
				OnStep: func(s train.Step) error { want = append(want, s.Loss); return nil }})
			require.NoError(t, err)
			data := func(int) train.Data { return train.Data{Train: tr, Test: te} }
			states := func(m *nn.Model) (v []float64) {
				for _, s := range m.States() {
					v = append(v, s.Value.Float64s()...)
				}
				return v
			}
			for _, k := range []int{2, 3} {
				results, models, got := parallel(t, k, cfg, build, data, func(int) train.Options { return train.Options{SyncBatchNorm: true} })
				for i := range want {
					assert.InDelta(t, want[i], got[0][i], 1e-12*want[i], "k=%d step %d", k, i)
				}
				sameScores(t, res, results[k-1], 1e-12)
				worst := worstWeight(one, models[k-1])
				assert.Less(t, worst, 1e-12, "k=%d", k)
				assert.InDeltaSlice(t, states(one), states(models[k-1]), 1e-12, "k=%d: running statistics", k)
				t.Logf("k=%d: largest relative weight difference %.3g", k, worst)
			}
			_, models, got := parallel(t, 2, cfg, build, data, nil)
			assert.NotEqual(t, want, got[0], "per-rank statistics: not one process's losses")
			assert.Greater(t, worstWeight(one, models[0]), 1e-6)

			// A last batch of fewer examples than ranks cannot synchronize.
			odd := cfg
			odd.Batch = 66 // 200 = 3·66 + 2
			_, err = train.Train(context.Background(), odd, build(0), train.Data{Train: tr}, train.Options{World: rank{newHub(3), 0}, SyncBatchNorm: true})
			require.ErrorIs(t, err, train.ErrConfig)
			assert.Contains(t, err.Error(), "has 2, want at least one per process")
		})
	}
}

// TestDataParallelDropout: ranks built with RankSeed draw their own dropout
// masks and start from rank 0's weights; a 2-rank run repeats exactly, and
// is not the 1-process run (other masks; only their distribution is the
// same) nor a 2-rank run whose ranks share one seed (correlated masks).
func TestDataParallelDropout(t *testing.T) {
	tr, te := curve(250)
	cfg := quick()
	cfg.Batch, cfg.Epochs = 50, 2
	build := func(seed func(r int) uint64) func(int) *nn.Model {
		return func(r int) *nn.Model {
			m, err := nn.NewRegressor(seed(r), tensor.Float64, []int{2}, nn.NewSequential(nn.Dense(16), nn.Tanh(), nn.Dropout(0.3), nn.Dense(1), nn.Reshape()))
			require.NoError(t, err)
			t.Cleanup(func() { m.Close() })
			return m
		}
	}
	perRank := build(func(r int) uint64 { return train.RankSeed(9, r) })
	data := func(int) train.Data { return train.Data{Train: tr, Test: te} }
	_, m1, a := parallel(t, 2, cfg, perRank, data, nil)
	_, m2, b := parallel(t, 2, cfg, perRank, data, nil)
	assert.Equal(t, a, b, "a 2-rank run with dropout repeats exactly")
	assert.Equal(t, 0.0, worstWeight(m1[0], m2[0]))
	assert.Equal(t, 0.0, worstWeight(m1[0], m1[1]), "the ranks keep identical weights")
	assert.Equal(t, uint64(9), train.RankSeed(9, 0), "rank 0 keeps the seed")
	assert.NotEqual(t, train.RankSeed(9, 1), train.RankSeed(9, 2))

	_, _, same := parallel(t, 2, cfg, build(func(int) uint64 { return 9 }), data, nil)
	assert.NotEqual(t, a, same, "ranks that share a seed draw the same masks for their shards")
	var one []float64
	_, err := train.Train(context.Background(), cfg, perRank(0), data(0), train.Options{
		OnStep: func(s train.Step) error { one = append(one, s.Loss); return nil }})
	require.NoError(t, err)
	assert.NotEqual(t, one, a[0], "one process draws other masks")
	assert.InDelta(t, one[0], a[0][0], 0.5*one[0], "…of the same distribution: the first losses are alike")
}
