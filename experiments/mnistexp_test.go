package experiments

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/train"
)

// tail returns the mean step loss over the last k steps.
func tail(c *Curve, k int) float64 { return c.MeanLoss(len(c.StepLoss)-k, len(c.StepLoss)) }

func checkWrite(t *testing.T, r *CurvesResult) {
	t.Helper()
	dir := t.TempDir()
	files, err := WriteCurves(dir, r)
	require.NoError(t, err)
	require.Len(t, files, 3)
	requireFiles(t, dir, files)
}

func TestOptimizersMNISTQuick(t *testing.T) {
	r, err := OptimizersMNIST(context.Background(), loadMNIST(t), Options{Seed: 1, Quick: true})
	require.NoError(t, err)
	require.Len(t, r.Curves, 7)
	sgd := r.Curve("SGD")
	require.NotNil(t, sgd)
	for _, c := range r.Curves {
		require.False(t, c.Diverged, c.Name)
		require.Len(t, c.Epochs, 3, c.Name)
		// Every optimizer lowers the loss from the same start.
		assert.Less(t, tail(&c, 10), c.MeanLoss(0, 5), c.Name)
	}
	// Plain SGD at lr 0.01 is the slowest: every other optimizer ends with a
	// lower loss and a higher test accuracy.
	for _, c := range r.Curves {
		if c.Name == "SGD" {
			continue
		}
		assert.Less(t, tail(&c, 10), tail(sgd, 10), c.Name)
		assert.Greater(t, c.Final().Test.Get("acc"), sgd.Final().Test.Get("acc"), c.Name)
	}
	// The adaptive methods are ahead of Momentum.
	for _, name := range []string{"AdaGrad", "RMSProp", "Adam"} {
		assert.Less(t, tail(r.Curve(name), 10), tail(r.Curve("Momentum"), 10), name)
	}
	checkWrite(t, r)
}

func TestInitMNISTQuick(t *testing.T) {
	r, err := InitMNIST(context.Background(), loadMNIST(t), Options{Seed: 1, Quick: true})
	require.NoError(t, err)
	small, xav, he := r.Curve("std=0.01"), r.Curve("Xavier"), r.Curve("He")
	require.NotNil(t, small)
	require.NotNil(t, xav)
	require.NotNil(t, he)
	// N(0, 0.01²) stalls at the loss of a uniform guess, ln 10 ≈ 2.303.
	assert.InDelta(t, 2.3026, tail(small, 10), 0.01)
	assert.Less(t, small.Final().Train.Get("acc"), 0.2)
	// He learns fastest, Xavier in between.
	assert.Less(t, tail(he, 10), tail(xav, 10))
	assert.Less(t, tail(xav, 10), tail(small, 10))
	assert.Greater(t, he.Final().Test.Get("acc"), xav.Final().Test.Get("acc"))
	checkWrite(t, r)
}

func TestBatchNormQuick(t *testing.T) {
	r, err := BatchNormMNIST(context.Background(), loadMNIST(t), Options{Seed: 1, Quick: true})
	require.NoError(t, err)
	require.Len(t, r.Curves, 4)
	for _, s := range []string{"1", "0.01"} {
		bn, plain := r.Curve("bn std="+s), r.Curve("plain std="+s)
		require.NotNil(t, bn, s)
		require.NotNil(t, plain, s)
		// With batch norm the network trains at both extremes of the weight
		// scale; without it, it diverges (std 1) or stalls (std 0.01).
		require.False(t, bn.Diverged, s)
		assert.Greater(t, bn.Final().Train.Get("acc"), 0.25, s)
		if !plain.Diverged {
			assert.Greater(t, bn.Final().Train.Get("acc"), plain.Final().Train.Get("acc")+0.1, s)
		}
	}
	assert.True(t, r.Curve("plain std=1").Diverged, "std 1 without batch norm overflows")
	assert.Less(t, r.Curve("plain std=0.01").Final().Train.Get("acc"), 0.2, "std 0.01 without batch norm stalls")
	checkWrite(t, r)
}

func TestOverfitQuick(t *testing.T) {
	r, err := Overfit(context.Background(), loadMNIST(t), Options{Seed: 1, Quick: true})
	require.NoError(t, err)
	assert.Equal(t, 300, r.TrainN)
	none, wd, drop := r.Curve("no regularization"), r.Curve("weight decay 0.1"), r.Curve("dropout 0.3")
	require.NotNil(t, none)
	require.NotNil(t, wd)
	require.NotNil(t, drop)
	// Without regularization the network memorizes the 300 images.
	assert.Greater(t, none.Final().Train.Get("acc"), 0.95)
	assert.Greater(t, none.GapTail(10), 0.2)
	// Weight decay and dropout keep the train–test gap smaller.
	assert.Less(t, wd.GapTail(10), none.GapTail(10))
	assert.Less(t, drop.GapTail(10), none.GapTail(10))
	assert.Less(t, wd.Final().Train.Get("acc"), none.Final().Train.Get("acc"))
	assert.Less(t, drop.Final().Train.Get("acc"), none.Final().Train.Get("acc"))
	checkWrite(t, r)
}

// untimed returns the curves without wall times (and with zero validation
// numbers, which are NaN here: NaN ≠ NaN).
func untimed(cs []Curve) []Curve {
	var out []Curve
	for _, c := range cs {
		c.Epochs = slices.Clone(c.Epochs)
		for i := range c.Epochs {
			c.Epochs[i].Seconds = 0
		}
		out = append(out, c)
	}
	return out
}

func TestMNISTDeterministicAndErrors(t *testing.T) {
	d := loadMNIST(t)
	runs := InitRuns()[2:]
	runs[0].Net.Dropout = 0.2
	a, err := runAll(context.Background(), "x", d, size{200, 100, 2}, Options{Seed: 7}, runs)
	require.NoError(t, err)
	b, err := runAll(context.Background(), "x", d, size{200, 100, 2}, Options{Seed: 7}, runs)
	require.NoError(t, err)
	assert.Equal(t, untimed(a.Curves), untimed(b.Curves))

	_, err = runAll(context.Background(), "x", train.Data{}, size{200, 100, 2}, Options{}, runs)
	assert.ErrorIs(t, err, ErrConfig)
	bad := InitRuns()[:1]
	bad[0].Batch = 0
	_, err = runAll(context.Background(), "x", d, size{200, 100, 2}, Options{}, bad)
	assert.ErrorIs(t, err, ErrConfig)
	_, err = BatchNormRuns([]float64{-1})
	assert.ErrorIs(t, err, ErrConfig)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = runAll(ctx, "x", d, size{200, 100, 2}, Options{}, InitRuns()[:1])
	assert.ErrorIs(t, err, context.Canceled)
}
