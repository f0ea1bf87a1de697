package experiments

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/solvers"
)

func TestOptimizerPathsFindings(t *testing.T) {
	r, err := OptimizerPaths(PathOptions{})
	require.NoError(t, err)
	require.Len(t, r.Paths, 7)
	by := map[string]Path{}
	for _, p := range r.Paths {
		require.Len(t, p.X, 31, p.Spec.Name)
		assert.Equal(t, BowlStart[0], p.X[0])
		assert.Equal(t, BowlStart[1], p.Y[0])
		by[p.Spec.Name] = p
	}
	start := math.Hypot(BowlStart[0], BowlStart[1])
	for _, p := range r.Paths {
		// Every optimizer ends far closer to the minimum than it started.
		assert.Less(t, p.Dist(30), 0.15*start, p.Spec.Name)
		assert.Less(t, p.F[30], 0.02*p.F[0], p.Spec.Name)
	}
	// AdaGrad, with its per-coordinate rates, gets there first and straight:
	// within 0.5 of the minimum for good by step 20, never crossing y = 0.
	ada := by["AdaGrad"]
	assert.LessOrEqual(t, ada.FirstWithin(0.5), 20)
	assert.Zero(t, ada.ZigZags())
	for _, name := range []string{"SGD", "Momentum", "Nesterov", "Adam"} {
		w := by[name].FirstWithin(0.5)
		assert.True(t, w < 0 || w > ada.FirstWithin(0.5), "%s within 0.5 at step %d", name, w)
	}
	// SGD at lr 0.95 overshoots the steep y direction on every step
	// (y ← −0.9·y): the zigzag of the lecture's figure.
	assert.Equal(t, 30, by["SGD"].ZigZags())
	// Momentum damps the zigzag: few sign changes of y.
	assert.LessOrEqual(t, by["Momentum"].ZigZags(), 6)
	// Nesterov's look-ahead ends closer than plain momentum.
	assert.Less(t, by["Nesterov"].Dist(30), by["Momentum"].Dist(30))
	// Adaptive methods stay within 0.5 by step 30.
	for _, name := range []string{"AdaGrad", "RMSProp", "Adadelta", "Adam"} {
		w := by[name].FirstWithin(0.5)
		assert.True(t, w >= 0 && w <= 30, "%s: %d", name, w)
	}

	dir := t.TempDir()
	files, err := WritePaths(dir, r)
	require.NoError(t, err)
	require.Len(t, files, 8)
	requireFiles(t, dir, files)
}

func TestOptimizerPathsErrors(t *testing.T) {
	_, err := OptimizerPaths(PathOptions{Steps: -1})
	assert.ErrorIs(t, err, ErrConfig)
	_, err = OptimizerPaths(PathOptions{Specs: []PathSpec{{Name: "bad", Solver: "adam", Config: solvers.Config{LR: -1}}}})
	assert.ErrorIs(t, err, solvers.ErrConfig)
	assert.ErrorContains(t, err, "bad")
}
