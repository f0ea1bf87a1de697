package ops

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
)

// RandomShift is data augmentation by translation: in Train mode each
// example of x, of shape (N, C, H, W), is moved by (dy, dx), each drawn
// uniformly from −max..max, the same for all its channels, and the pixels
// that enter from outside copy the nearest edge pixel (so the background
// stays background under any pixel scaling):
//
//	y[n, c, i, j] = x[n, c, clamp(i − dy), clamp(j − dx)]
//
// In Eval mode y = x. The gradient adds each output gradient to the input
// pixel it was copied from. Like Dropout, the shifts of a node's k-th
// Train-mode run come from rand.NewPCG(seed, k), seed from
// b.Stream("shift"), and k is the state tensor "shift#i/step", so a resumed
// run draws the same shifts. max = 0 returns x.
func RandomShift(b *graph.Builder, x *gorgonia.Node, max int) (*gorgonia.Node, error) {
	return randomNode(b, x, "RandomShift", func() (randomSpec, error) {
		xs := x.Shape().Clone()
		if len(xs) != 4 {
			return randomSpec{}, fmt.Errorf("%w: RandomShift: x %v, want (N, C, H, W)", ErrShape, xs)
		}
		if max < 0 || max >= xs[2] || max >= xs[3] {
			return randomSpec{}, fmt.Errorf("%w: RandomShift: max = %d, want 0 ≤ max < %d (the image's height and width)", ErrConfig, max, min(xs[2], xs[3]))
		}
		s := &shifts{max: max, shape: xs}
		return randomSpec{
			kind: "shift", params: fmt.Sprintf("max=%d", max), identity: max == 0,
			typ: sig(4, 4), gradTyp: sig(4, 4, 4),
			kernel: s, draw: s.draw,
			apply32: func(out, v []float32, backward bool) { shiftApply(out, v, s.d, s.shape, backward) },
			apply64: func(out, v []float64, backward bool) { shiftApply(out, v, s.d, s.shape, backward) },
		}, nil
	})
}

// shifts is RandomShift's kernel state: the shifts of the last Train-mode
// forward pass, read by the gradient op of the same run.
type shifts struct {
	max   int
	shape tensor.Shape // x's (N, C, H, W)
	d     []int        // dy, dx per example
	rng   *rand.Rand   // over the run's generator (rand.Rand keeps no state of its own)
}

// draw sets the shifts from the run's generator src.
func (s *shifts) draw(src *rand.PCG) {
	if s.rng == nil {
		s.rng = rand.New(src)
	}
	n := 2 * s.shape[0]
	if cap(s.d) < n {
		s.d = make([]int, n)
	}
	s.d = s.d[:n]
	for i := range s.d {
		s.d[i] = s.rng.IntN(2*s.max+1) - s.max
	}
}

// shiftApply writes x shifted by d into out (forward), or adds g (in x's
// place) back to the pixels it came from (backward, out zeroed first).
func shiftApply[T float](out, x []T, d []int, s tensor.Shape, backward bool) {
	n, c, h, w := s[0], s[1], s[2], s[3]
	if backward {
		clear(out)
	}
	for e := range n {
		dy, dx := d[2*e], d[2*e+1]
		for ch := range c {
			base := (e*c + ch) * h * w
			for i := range h {
				si := min(max(i-dy, 0), h-1)
				for j := range w {
					sj := min(max(j-dx, 0), w-1)
					if backward {
						out[base+si*w+sj] += x[base+i*w+j]
					} else {
						out[base+i*w+j] = x[base+si*w+sj]
					}
				}
			}
		}
	}
}
