package experiments

import (
	"sync"
	"testing"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/train"
)

var (
	mnistOnce sync.Once
	mnistData train.Data
	mnistErr  error
)

// loadMNIST loads the embedded MNIST once per test binary.
func loadMNIST(t *testing.T) train.Data {
	t.Helper()
	mnistOnce.Do(func() {
		mnistData.Train, mnistData.Test, mnistErr = mnist.LoadDefault()
	})
	if mnistErr != nil {
		t.Fatalf("MNIST: %v", mnistErr)
	}
	return mnistData
}
