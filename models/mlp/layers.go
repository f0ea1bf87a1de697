package mlp

import (
	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

func batchNorm(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return ops.BatchNorm(b, name, x, ops.BatchNormOptions{})
}

func dropout(b *graph.Builder, x *gorgonia.Node, p float64) (*gorgonia.Node, error) {
	return ops.Dropout(b, x, p)
}
