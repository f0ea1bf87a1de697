package charlm_test

import (
	"fmt"

	"github.com/gradlab/gradlab/models/charlm"
)

// A small GPT-style model's layers (for a vocabulary of 93 bytes, Newton's
// Opticks'), then greedy generation (top-1) from the untrained model
// through the incremental path.
func Example() {
	c := charlm.Config{Arch: "transformer", Context: 32, Width: 64, Depth: 2, Heads: 4, Vocab: 93, Seed: 1}
	m, err := charlm.New(c)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	s, err := m.Summary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name())
	fmt.Print(s)
	if _, err := m.Program(1); err != nil { // makes the parameters
		fmt.Println(err)
		return
	}
	g, err := charlm.NewGenerator(m, c, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	var ids []int
	err = g.Generate([]int{1, 2, 3}, 5, charlm.Sampling{Temperature: 1, TopK: 1, Seed: 1}, func(id int) error {
		ids = append(ids, id)
		return nil
	})
	fmt.Println(ids, err)
	// Output:
	// charlm-transformer-2x64-h4-c32
	// layer   kind         output shape  params
	// ─────────────────────────────────────────
	// tok     embedding    (N, 32, 64)    5,952
	// pos     posembed     (N, 32, 64)    2,048
	// block1  transformer  (N, 32, 64)   49,984
	// block2  transformer  (N, 32, 64)   49,984
	// ln_f    layernorm    (N, 32, 64)      128
	// head    dense        (N, 32, 93)    6,045
	// total: 114,141 learnable parameters in 38 tensors; 0 state values
	// [45 45 45 45 45] <nil>
}
