package nn

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gorgonia.org/gorgonia"

	"github.com/gradlab/gradlab/graph"
)

// Sequential applies its layers in order, each to the output of the one
// before; every layer reads its input's shape, so only the model's input
// shape is ever given. It names each layer kind+k (k counts the unnamed
// layers of its kind) unless it is Named, and
// prefixes the layer's parameters with that name: dense1/w, batchnorm1/gamma, ….
// A Sequential is itself a Layer (of kind "sequential"), whose layers'
// names are then prefixed with its own ("block1/dense1/w").
type Sequential struct {
	layers []Layer
	infos  []LayerInfo // of the last top-level Apply
}

// LayerInfo describes one layer of a built Sequential, for Summary.
type LayerInfo struct {
	Name, Kind string
	Shape      []int // output shape of one example (without the batch)
	Params     int   // learnable scalars the layer made
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{layers: layers} }

// Add appends layers and returns s.
func (s *Sequential) Add(layers ...Layer) *Sequential {
	s.layers = append(s.layers, layers...)
	return s
}

// Len returns the number of layers.
func (s *Sequential) Len() int { return len(s.layers) }

// Kind returns "sequential".
func (s *Sequential) Kind() string { return "sequential" }

// Apply applies the layers in order.
func (s *Sequential) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	counts := map[string]int{}
	var infos []LayerInfo
	for i, l := range s.layers {
		if l == nil {
			return nil, b.Fail(fmt.Errorf("%w: layer %d of %s is nil", ErrLayer, i+1, orDefault(name, "the sequential")))
		}
		kind := l.Kind()
		lname, _ := layerName(l, name, counts)
		before := countParams(b)
		y, err := l.Apply(b, lname, x)
		if err != nil {
			return nil, b.Fail(err)
		}
		if y == nil {
			return nil, b.Fail(fmt.Errorf("%w: layer %s (%s) returned no node", ErrLayer, lname, kind))
		}
		x = y
		infos = append(infos, LayerInfo{Name: lname, Kind: kind, Shape: x.Shape()[1:].Clone(), Params: countParams(b) - before})
	}
	if name == "" {
		s.infos = infos
	}
	return x, nil
}

// layerName returns the name a Sequential gives layer l inside the scope
// prefix ("" at the top): its Named name, or kind+k for the k-th unnamed
// layer of its kind (counts keeps the tally), prefixed; and the layer
// inside a Named. Apply and Describe both name layers with it, so an
// export finds the parameters the model made.
func layerName(l Layer, prefix string, counts map[string]int) (string, Layer) {
	var name string
	inner := l
	if n, ok := l.(named); ok {
		name, inner = n.name, n.Layer
	} else {
		counts[l.Kind()]++
		name = fmt.Sprintf("%s%d", l.Kind(), counts[l.Kind()])
	}
	if prefix != "" {
		name = prefix + "/" + name
	}
	return name, inner
}

func countParams(b *graph.Builder) int {
	n := 0
	for _, p := range b.Params() {
		n += p.Shape().TotalSize()
	}
	return n
}

// table renders aligned columns.
type table struct{ rows [][]string }

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	var w []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	var sb strings.Builder
	for k, r := range t.rows {
		for i, c := range r {
			if w[i] == 0 {
				continue
			}
			pad := strings.Repeat(" ", w[i]-utf8.RuneCountInString(c))
			if i == len(r)-1 {
				sb.WriteString(pad + c) // numbers right-aligned
			} else {
				sb.WriteString(c + pad + "  ")
			}
		}
		sb.WriteString("\n")
		if k == 0 {
			n := 0
			for _, x := range w {
				if x > 0 {
					n += x + 2
				}
			}
			sb.WriteString(strings.Repeat("─", n-2) + "\n")
		}
	}
	return sb.String()
}

// Thousands renders n with comma separators: 1,234,567.
func Thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
