package mlp_test

import (
	"fmt"

	"github.com/gradlab/gradlab/models/mlp"
)

// The default `gradlab train` model: its layers' parameters, by name.
func Example() {
	cfg := mlp.Default()
	m, err := mlp.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := m.Program(128); err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range m.Params() {
		fmt.Println(p.Name(), p.Shape())
	}
	fmt.Println(cfg.ParamCount(), "parameters")
	// Output:
	// fc1/w (784, 512)
	// bn1/gamma (512)
	// bn1/beta (512)
	// fc2/w (512, 256)
	// bn2/gamma (256)
	// bn2/beta (256)
	// out/w (256, 10)
	// out/b (10)
	// 536586 parameters
}
