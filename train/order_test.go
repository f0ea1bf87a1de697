package train_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/train"
)

// recorder is a data set that records the indices of every Gather.
type recorder struct {
	datasets.Dataset
	seen [][]int
}

func (r *recorder) Gather(idx []int, x, y *tensor.Dense) error {
	r.seen = append(r.seen, append([]int(nil), idx...))
	return r.Dataset.Gather(idx, x, y)
}

// TestOrderIsTrainsOrder checks that Order gives exactly the batches Train
// feeds, epoch by epoch, and pins the permutation itself: a change to the
// formula would silently break the PyTorch twin (benchmarks/torch_train.py),
// which reads Order's permutations from a file.
func TestOrderIsTrainsOrder(t *testing.T) {
	s := small()
	s.cfg.Epochs = 2
	d := data(t)
	rec := &recorder{Dataset: d.Train}
	d.Train = rec
	_, err := s.run(t, context.Background(), d, train.Options{})
	require.NoError(t, err)
	const n, batch, steps = 1950, 100, 20
	require.Len(t, rec.seen, 2*steps)
	for e := 1; e <= 2; e++ {
		var got []int
		for _, idx := range rec.seen[(e-1)*steps : e*steps] {
			require.LessOrEqual(t, len(idx), batch)
			got = append(got, idx...)
		}
		assert.Equal(t, train.Order(s.cfg.Seed, e, n), got, "epoch %d", e)
	}

	assert.Equal(t, []int{3, 5, 4, 6, 9, 0, 8, 1, 7, 2}, train.Order(1, 1, 10))
	assert.Equal(t, []int{4, 7, 3, 6, 0, 8, 5, 1, 2, 9}, train.Order(1, 2, 10))
	assert.Equal(t, []int{2075, 13379, 25985, 43236, 47542}, train.Order(1, 1, 60000)[:5], "the default run's first batch starts so")
}
