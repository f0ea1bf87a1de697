package solvers

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

type golden struct {
	Torch  string `json:"torch"`
	Steps  int    `json:"steps"`
	Params []struct {
		Name  string    `json:"name"`
		Shape []int     `json:"shape"`
		Init  []float64 `json:"init"`
	} `json:"params"`
	Grads [][][]float64 `json:"grads"`
	Cases []struct {
		ID         string        `json:"id"`
		Solver     string        `json:"solver"`
		Config     Config        `json:"config"`
		Trajectory [][][]float64 `json:"trajectory"`
	} `json:"cases"`
}

// TestPyTorchGolden replays testdata/golden.json (made by testdata/gen_golden.py
// with PyTorch 1.13 in float64): same initial weights and gradients, every
// step compared with relative error ≤ 1e-6.
func TestPyTorchGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden.json")
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(raw, &g))
	require.GreaterOrEqual(t, g.Steps, 50)
	seen := map[string]bool{}
	for _, c := range g.Cases {
		t.Run(fmt.Sprintf("%s/float64/steps=%d", c.ID, g.Steps), func(t *testing.T) {
			s, err := New(c.Solver, c.Config)
			require.NoError(t, err)
			var names []string
			var shapes [][]int
			var init [][]float64
			for _, p := range g.Params {
				names, shapes, init = append(names, p.Name), append(shapes, p.Shape), append(init, p.Init)
			}
			ps := newParams(tensor.Float64, names, shapes, init)
			worst := 0.0
			for step := 0; step < g.Steps; step++ {
				ps.setGrads(g.Grads[step])
				require.NoError(t, s.Step(ps.model))
				worst = max(worst, relErr(concat(ps.values()), concat(c.Trajectory[step])))
			}
			if c.ID == "nadam-torch113" {
				// torch 1.13 counts μ_t twice in NAdam's momentum term; we follow PyTorch ≥ 2.0.
				require.Greater(t, worst, 1e-6, "expected to differ from torch 1.13's NAdam")
				return
			}
			t.Logf("max relative error %.3g", worst)
			seen[c.Solver] = true
			require.LessOrEqual(t, worst, 1e-6)
		})
	}
	for _, n := range Names() {
		require.True(t, seen[n], "no PyTorch golden case for %s", n)
	}
}
