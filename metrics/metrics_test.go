package metrics_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/metrics"
	"github.com/gradlab/gradlab/nn"
)

func dense[T float64 | int | float32](shape []int, v ...T) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// run resets m, feeds it the batches and returns its value.
func run(t *testing.T, m metrics.Metric, bs ...metrics.Batch) float64 {
	t.Helper()
	m.Reset()
	for _, b := range bs {
		require.NoError(t, m.Update(b))
	}
	return m.Value()
}

func TestClassMetrics(t *testing.T) {
	// Three rows of three logits; labels 2, 0, 0 (and an ignored -100).
	z := dense([]int{4, 3}, 0.1, 0.2, 0.7, 0.5, 0.4, 0.1, 0.3, 0.2, 0.5, 9, 0, 0)
	y := dense([]int{4}, 2, 0, 0, -100)
	b := metrics.Batch{Output: z, Target: y, Loss: 0.6, N: 4}
	assert.InDelta(t, 2.0/3, run(t, metrics.Accuracy(), b), 1e-15, "rows 1 and 2 right, the ignored row not counted")
	assert.InDelta(t, 1.0, run(t, metrics.TopK(2), b), 1e-15, "label 0 of row 3 is second")
	assert.InDelta(t, 2.0/3, run(t, metrics.TopK(1), b), 1e-15)
	b2 := metrics.Batch{Output: dense([]int{1, 3}, float32(1), 2, 3), Target: dense([]int{1}, 0), Loss: 1.2, N: 1}
	assert.InDelta(t, 0.8, run(t, metrics.Accuracy(), metrics.Batch{Output: z, Target: dense([]int{4}, 2, 0, 2, 0), N: 4}, b2), 1e-15,
		"4 of 5 (one float32 batch), pooled over batches")
	assert.InDelta(t, (0.6*4+1.2)/5, run(t, metrics.Loss(), b, b2), 1e-15, "mean loss weighted by examples")
	assert.InDelta(t, (0.6*4+1.2)/5/math.Ln2, run(t, metrics.BitsPerToken(), b, b2), 1e-15)
	assert.InDelta(t, math.Exp((0.6*4+1.2)/5), run(t, metrics.Perplexity(), b, b2), 1e-12)
	assert.True(t, math.IsNaN(run(t, metrics.Accuracy())), "no batches: NaN")
	assert.Error(t, metrics.Accuracy().Update(metrics.Batch{Output: z, Target: dense([]int{4}, 0.1, 0.2, 0.3, 0.4)}), "float targets")
}

func TestValueMetrics(t *testing.T) {
	out := dense([]int{4, 2}, 1.0, 0, 2, 1, 3, 0, 4, 2)
	tgt := dense([]int{4, 2}, 1.5, 0, 2, 2, 2, 0, 4, 4)
	b := metrics.Batch{Output: out, Target: tgt, N: 4}
	d := []float64{-0.5, 0, 0, -1, 1, 0, 0, -2}
	var se, ae float64
	for _, v := range d {
		se += v * v
		ae += math.Abs(v)
	}
	assert.InDelta(t, math.Sqrt(se/8), run(t, metrics.RMSE(), b), 1e-15)
	assert.InDelta(t, ae/8, run(t, metrics.MAE(), b), 1e-15)
	// R² per column, averaged: column 0 targets 1.5, 2, 2, 4 (mean 2.375),
	// column 1 targets 0, 2, 0, 4 (mean 1.5).
	r0 := 1 - (0.25+0+1+0)/((1.5-2.375)*(1.5-2.375)+2*(2-2.375)*(2-2.375)+(4-2.375)*(4-2.375))
	r1 := 1 - (0+1+0+4)/(1.5*1.5+0.5*0.5+1.5*1.5+2.5*2.5)
	half := func(lo, hi int) metrics.Batch {
		return metrics.Batch{Output: dense([]int{hi - lo, 2}, out.Float64s()[2*lo:2*hi]...), Target: dense([]int{hi - lo, 2}, tgt.Float64s()[2*lo:2*hi]...), N: hi - lo}
	}
	assert.InDelta(t, (r0+r1)/2, run(t, metrics.R2(), b), 1e-12)
	assert.InDelta(t, (r0+r1)/2, run(t, metrics.R2(), half(0, 1), half(1, 4)), 1e-12, "over batches, not per batch")
	assert.InDelta(t, 5.0/8, run(t, metrics.BinaryAccuracy(), metrics.Batch{
		Output: dense([]int{4, 2}, 1.0, -1, 2, 3, -3, 0, 4, -2), Target: dense([]int{4, 2}, 1.0, 1, 0, 1, 0, 0, 1, 1), N: 4}), 1e-15)
	assert.Error(t, metrics.RMSE().Update(metrics.Batch{Output: out, Target: dense([]int{2, 2}, 1.0, 2, 3, 4)}), "shapes differ")
}

func TestFitsAndDefaults(t *testing.T) {
	assert.ErrorIs(t, metrics.Accuracy().Fits(nn.Values), metrics.ErrFit)
	assert.ErrorContains(t, metrics.Accuracy().Fits(nn.Values), "acc needs classes targets, the model's loss takes values targets")
	assert.ErrorIs(t, metrics.R2().Fits(nn.Classes), metrics.ErrFit)
	assert.ErrorIs(t, metrics.BinaryAccuracy().Fits(nn.Classes), metrics.ErrFit)
	assert.ErrorIs(t, metrics.Perplexity().Fits(nn.Values), metrics.ErrFit)
	assert.NoError(t, metrics.Loss().Fits(0), "the loss fits any model")
	names := func(ms []metrics.Metric) (s []string) {
		for _, m := range ms {
			s = append(s, m.Name())
		}
		return s
	}
	assert.Equal(t, []string{"acc"}, names(metrics.For(nn.Classes)))
	assert.Equal(t, []string{"binary_acc"}, names(metrics.For(nn.Binary)))
	assert.Equal(t, []string{"rmse", "mae", "r2"}, names(metrics.For(nn.Values)))
	assert.Equal(t, "92.45%", metrics.Format("acc", 0.92451))
	assert.Equal(t, "0.2429", metrics.Format("loss", 0.24291))
}

// TestMerge: every metric's state, measured on two halves of a data set and
// merged, gives the metric of the whole set (R² with the halves' different
// shifts moved onto one).
func TestMerge(t *testing.T) {
	cls := []metrics.Batch{
		{Output: dense([]int{2, 3}, 0.1, 0.2, 0.7, 0.5, 0.4, 0.1), Target: dense([]int{2}, 2, 1), Loss: 0.6, N: 2},
		{Output: dense([]int{3, 3}, 0.3, 0.2, 0.5, 9, 0, 0, 1, 2, 3), Target: dense([]int{3}, 0, 0, 2), Loss: 1.1, N: 3},
	}
	val := []metrics.Batch{
		{Output: dense([]int{2, 2}, 1.0, 0, 2, 1), Target: dense([]int{2, 2}, 1.5, 7, 2, 2), Loss: 0.3, N: 2},
		{Output: dense([]int{3, 2}, 3.0, 0, 4, 2, 5, 5), Target: dense([]int{3, 2}, 2, 0, 4, 4, 4.5, 6), Loss: 0.9, N: 3},
	}
	for _, tc := range []struct {
		m  func() metrics.Metric
		bs []metrics.Batch
	}{
		{metrics.Loss, cls}, {metrics.Accuracy, cls}, {func() metrics.Metric { return metrics.TopK(2) }, cls},
		{metrics.RMSE, val}, {metrics.MAE, val}, {metrics.R2, val}, {metrics.BinaryAccuracy, val},
	} {
		whole := run(t, tc.m(), tc.bs...)
		a, b := tc.m().(metrics.Mergeable), tc.m().(metrics.Mergeable)
		run(t, a, tc.bs[0])
		run(t, b, tc.bs[1])
		merged := tc.m().(metrics.Mergeable)
		merged.Reset()
		require.NoError(t, merged.Merge(a.State()))
		require.NoError(t, merged.Merge(b.State()))
		assert.InDelta(t, whole, merged.Value(), 1e-14, "%s", a.Name())
		empty := tc.m().(metrics.Mergeable)
		empty.Reset()
		require.NoError(t, merged.Merge(empty.State()), "%s: an empty state adds nothing", a.Name())
		assert.InDelta(t, whole, merged.Value(), 1e-14, "%s", a.Name())
		assert.ErrorIs(t, merged.Merge([]float64{1, 2, 3}), metrics.ErrState, "%s", a.Name())
	}
}
