package cnn_test

import (
	"fmt"

	"github.com/gradlab/gradlab/models/cnn"
)

// The default CNN's layers.
func Example() {
	c := cnn.Default()
	m, err := cnn.New(c)
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
	// Output:
	// cnn-16-32-128
	// layer       kind       output shape      params
	// ───────────────────────────────────────────────
	// conv1       conv2d     (N, 16, 28, 28)      400
	// bn1         batchnorm  (N, 16, 28, 28)       32
	// relu1       relu       (N, 16, 28, 28)        0
	// maxpool2d1  maxpool2d  (N, 16, 14, 14)        0
	// conv2       conv2d     (N, 32, 14, 14)   12,800
	// bn2         batchnorm  (N, 32, 14, 14)       64
	// relu2       relu       (N, 32, 14, 14)        0
	// maxpool2d2  maxpool2d  (N, 32, 7, 7)          0
	// flatten1    flatten    (N, 1568)              0
	// fc1         dense      (N, 128)         200,832
	// relu3       relu       (N, 128)               0
	// dropout1    dropout    (N, 128)               0
	// out         dense      (N, 10)            1,290
	// total: 215,418 learnable parameters in 10 tensors; 97 state values
}
