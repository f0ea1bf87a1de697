package mlp

import (
	"fmt"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/graph"
)

// batchNorm and dropout are wired to package ops once its BatchNorm and
// Dropout land.
func batchNorm(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return nil, fmt.Errorf("%w: batch norm is not available yet", ErrConfig)
}

func dropout(b *graph.Builder, x *gorgonia.Node, p float64) (*gorgonia.Node, error) {
	return nil, fmt.Errorf("%w: dropout is not available yet", ErrConfig)
}
