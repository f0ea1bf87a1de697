package models_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/models/mlp"
)

func TestBuild(t *testing.T) {
	c := mlp.Config{Inputs: 4, Hidden: []int{3}, Classes: 2, Activation: "tanh", Init: "xavier", Dtype: "float64", Seed: 99}
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	m, err := models.Build("mlp", raw, 7)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, uint64(7), m.Seed(), "the run's seed replaces the config's")
	_, err = m.Program(2)
	require.NoError(t, err)
	assert.Equal(t, c.ParamCount(), m.ParamCount())

	_, err = models.Build("resnet", raw, 1)
	assert.ErrorIs(t, err, models.ErrUnknown)
	assert.ErrorContains(t, err, "mlp")
	_, err = models.Build("mlp", json.RawMessage(`{"inputs": 4, "hiden": [3]}`), 1)
	assert.ErrorIs(t, err, models.ErrConfig, "an unknown field")
	assert.ErrorContains(t, err, "hiden")
	_, err = models.Build("mlp", json.RawMessage(`{"inputs": 0}`), 1)
	assert.ErrorIs(t, err, mlp.ErrConfig)
}

func ExampleBuild() {
	cfg, _ := json.Marshal(mlp.Config{Inputs: 784, Hidden: []int{64}, Classes: 10, Activation: "relu", Init: "he"})
	m, err := models.Build("mlp", cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	s, _ := m.Summary()
	fmt.Print(s)
	fmt.Println(models.Names())
	// Output:
	// layer  kind   output shape  params
	// ──────────────────────────────────
	// fc1    dense  (N, 64)       50,240
	// relu1  relu   (N, 64)            0
	// out    dense  (N, 10)          650
	// total: 50,890 learnable parameters in 4 tensors; 0 state values
	// [mlp cnn]
}
