package train_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gradlab/gradlab/train"
)

// TestScheduleValues pins every schedule against its closed form.
func TestScheduleValues(t *testing.T) {
	const base, spe, total = 0.1, 10, 50
	for step := range total {
		assert.Equal(t, base, train.Schedule{}.LR(base, step, spe, total), "constant")
		assert.Equal(t, base, train.Schedule{Kind: "constant"}.LR(base, step, spe, total))
		// step: ×γ every StepEpochs epochs (defaults 3 and 0.1).
		assert.InDelta(t, base*math.Pow(0.5, float64(step/spe/2)), train.Schedule{Kind: "step", StepEpochs: 2, Gamma: 0.5}.LR(base, step, spe, total), 1e-15)
		assert.InDelta(t, base*math.Pow(0.1, float64(step/spe/3)), train.Schedule{Kind: "step"}.LR(base, step, spe, total), 1e-15)
		// cosine from base to MinLR over all steps.
		want := 0.01 + (base-0.01)*(1+math.Cos(math.Pi*float64(step)/total))/2
		assert.InDelta(t, want, train.Schedule{Kind: "cosine", MinLR: 0.01}.LR(base, step, spe, total), 1e-15)
	}
	// Warm-up: linear to base over WarmupSteps, then cosine over the rest.
	w := train.Schedule{Kind: "cosine", WarmupSteps: 5}
	for step := range 5 {
		assert.InDelta(t, base*float64(step+1)/5, w.LR(base, step, spe, total), 1e-15)
	}
	assert.InDelta(t, base, w.LR(base, 5, spe, total), 1e-15, "the first step after warm-up is the peak")
	assert.InDelta(t, base*(1+math.Cos(math.Pi*20/45))/2, w.LR(base, 25, spe, total), 1e-15)
	assert.InDelta(t, 0, w.LR(base, total, spe, total), 1e-15, "cosine ends at 0")
	assert.Error(t, train.Schedule{Kind: "linear"}.Validate())
	assert.Error(t, train.Schedule{Kind: "step", Gamma: -1}.Validate())
}

func TestConfusionTable(t *testing.T) {
	ev := &train.Evaluation{Confusion: [][]int{{5, 1}, {0, 4}}}
	assert.Equal(t, "true\\pred     0     1\n        0     5     1\n        1     0     4\n", ev.ConfusionTable())
}
