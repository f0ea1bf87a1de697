package charlm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/gradlab/gradlab/nn"
)

var impl gonum.Implementation

// vecMat sets y = x·W + b for W (len(x), len(y)) row-major (x·W layout);
// b may be nil.
func vecMat(y, x, w, b []float32) {
	if b != nil {
		copy(y, b)
	} else {
		clear(y)
	}
	impl.Sgemv(blas.Trans, len(x), len(y), 1, w, len(y), x, 1, 1, y, 1)
}

// matVec sets y = W·x + b for W (len(y), len(x)) row-major (PyTorch's
// layout of a recurrent layer's weights).
func matVec(y, w, x, b []float32) {
	copy(y, b)
	impl.Sgemv(blas.NoTrans, len(y), len(x), 1, w, len(x), x, 1, 1, y, 1)
}

// layerNorm sets y to x normalized over its elements (ε 1e-5), times g plus b.
func layerNorm(y, x, g, b []float32) {
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var vr float64
	for _, v := range x {
		d := float64(v) - mean
		vr += d * d
	}
	inv := 1 / math.Sqrt(vr/float64(len(x))+1e-5)
	for i, v := range x {
		y[i] = float32((float64(v)-mean)*inv)*g[i] + b[i]
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func tanh(x float32) float32    { return float32(math.Tanh(float64(x))) }

// block is one transformer block's parameters and key/value cache.
type block struct {
	ln1g, ln1b, wq, bq, wk, bk, wv, bv, wo, bo, ln2g, ln2b, w1, b1, w2, b2 []float32
	keys, vals                                                             []float32 // (positions, Width)
}

// rnnLayer is one recurrent layer's parameters and state.
type rnnLayer struct {
	wih, whh, bih, bhh []float32
	h, c               []float32
	gi, gh             []float32 // scratch: the input and hidden gate pre-activations
}

// Generator computes a charlm's next-token logits one position at a time
// from its trained parameters (a copy: training the model further does not
// change a Generator). It is not safe for concurrent use.
type Generator struct {
	cfg    Config
	window int
	tok    []float32 // (Vocab, Width)
	pos    []float32 // (Context, Width), transformer
	blocks []block
	rnns   []rnnLayer
	lnfg   []float32
	lnfb   []float32
	headW  []float32
	headB  []float32
	// state
	ids     []int // tokens fed since the last re-encoding (transformer)
	x, h, q []float32
	a, o    []float32
	f       []float32
	scores  []float32
	logits  []float32
}

// NewGenerator returns the generator of m, a model New(c) made (trained
// or not, its program compiled), whose transformer attends to at most
// window tokens (0: c.Context; more than c.Context is ErrContext).
func NewGenerator(m *nn.Model, c Config, window int) (*Generator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if window == 0 {
		window = c.Context
	}
	if window < 1 || window > c.Context {
		return nil, fmt.Errorf("%w: window %d, the model's context is %d (want 1 ≤ window ≤ %d)", ErrContext, window, c.Context, c.Context)
	}
	params := map[string][]float32{}
	for _, p := range m.Params() {
		v, ok := p.Value().Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("%w: parameter %s holds %T, want float32", ErrModel, p.Name(), p.Value().Data())
		}
		params[p.Name()] = append([]float32(nil), v...)
	}
	var missing error
	get := func(name string, n int) []float32 {
		v, ok := params[name]
		if (!ok || len(v) != n) && missing == nil {
			missing = fmt.Errorf("%w: parameter %s: %d values, want %d (is the model's program compiled?)", ErrModel, name, len(v), n)
		}
		return v
	}
	e, vsz := c.Width, c.Vocab
	g := &Generator{cfg: c, window: window, tok: get("tok/weight", vsz*e), headW: get("head/w", e*vsz), headB: get("head/b", vsz)}
	if c.Arch == "transformer" {
		g.pos = get("pos/weight", c.Context*e)
		for i := range c.Depth {
			p := fmt.Sprintf("block%d/", i+1)
			g.blocks = append(g.blocks, block{
				ln1g: get(p+"ln1/weight", e), ln1b: get(p+"ln1/bias", e),
				wq: get(p+"attn/q/w", e*e), bq: get(p+"attn/q/b", e),
				wk: get(p+"attn/k/w", e*e), bk: get(p+"attn/k/b", e),
				wv: get(p+"attn/v/w", e*e), bv: get(p+"attn/v/b", e),
				wo: get(p+"attn/out/w", e*e), bo: get(p+"attn/out/b", e),
				ln2g: get(p+"ln2/weight", e), ln2b: get(p+"ln2/bias", e),
				w1: get(p+"fc1/w", e*4*e), b1: get(p+"fc1/b", 4*e),
				w2: get(p+"fc2/w", 4*e*e), b2: get(p+"fc2/b", e),
				keys: make([]float32, 0, window*e), vals: make([]float32, 0, window*e),
			})
		}
		g.lnfg, g.lnfb = get("ln_f/weight", e), get("ln_f/bias", e)
		g.q, g.a, g.o, g.f = make([]float32, e), make([]float32, e), make([]float32, e), make([]float32, 4*e)
		g.scores = make([]float32, window)
	} else {
		gates := 4
		if c.Arch == "gru" {
			gates = 3
		}
		for i := range c.Depth {
			p := fmt.Sprintf("rnn%d/", i+1)
			g.rnns = append(g.rnns, rnnLayer{
				wih: get(p+"weight_ih_l0", gates*e*e), whh: get(p+"weight_hh_l0", gates*e*e),
				bih: get(p+"bias_ih_l0", gates*e), bhh: get(p+"bias_hh_l0", gates*e),
				h: make([]float32, e), c: make([]float32, e), gi: make([]float32, gates*e), gh: make([]float32, gates*e),
			})
		}
	}
	if missing != nil {
		return nil, missing
	}
	g.x, g.h, g.logits = make([]float32, e), make([]float32, e), make([]float32, vsz)
	return g, nil
}

// Config returns the model's configuration.
func (g *Generator) Config() Config { return g.cfg }

// Reset forgets every token fed: the next Step is position 0 (a zero
// recurrent state).
func (g *Generator) Reset() {
	g.ids = g.ids[:0]
	for i := range g.blocks {
		g.blocks[i].keys, g.blocks[i].vals = g.blocks[i].keys[:0], g.blocks[i].vals[:0]
	}
	for i := range g.rnns {
		clear(g.rnns[i].h)
		clear(g.rnns[i].c)
	}
}

// Step feeds the token id at the next position and returns the logits of
// the token after it (Vocab values, valid until the next Step or Reset).
// A transformer whose window is full first re-encodes the last half of it
// from position 0.
func (g *Generator) Step(id int) ([]float32, error) {
	if id < 0 || id >= g.cfg.Vocab {
		return nil, fmt.Errorf("%w: token id %d outside 0..%d", ErrSampling, id, g.cfg.Vocab-1)
	}
	if g.cfg.Arch != "transformer" {
		g.stepRNN(id)
		return g.logits, nil
	}
	if len(g.ids) == g.window {
		keep := append([]int(nil), g.ids[len(g.ids)-g.window/2:]...)
		g.Reset()
		for _, t := range keep {
			g.stepTransformer(t)
		}
	}
	g.stepTransformer(id)
	return g.logits, nil
}

func (g *Generator) stepTransformer(id int) {
	e, p := g.cfg.Width, len(g.ids)
	g.ids = append(g.ids, id)
	x := g.x
	for i := range x {
		x[i] = g.tok[id*e+i] + g.pos[p*e+i]
	}
	heads := g.cfg.Heads
	dh := e / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	for bi := range g.blocks {
		b := &g.blocks[bi]
		layerNorm(g.h, x, b.ln1g, b.ln1b)
		vecMat(g.q, g.h, b.wq, b.bq)
		b.keys = b.keys[:(p+1)*e]
		b.vals = b.vals[:(p+1)*e]
		vecMat(b.keys[p*e:], g.h, b.wk, b.bk)
		vecMat(b.vals[p*e:], g.h, b.wv, b.bv)
		for hd := range heads {
			q := g.q[hd*dh : (hd+1)*dh]
			s := g.scores[:p+1]
			mx := float32(math.Inf(-1))
			for t := range s {
				k := b.keys[t*e+hd*dh : t*e+(hd+1)*dh]
				var dot float32
				for j, v := range q {
					dot += v * k[j]
				}
				s[t] = dot * scale
				mx = max(mx, s[t])
			}
			var sum float32
			for t := range s {
				s[t] = float32(math.Exp(float64(s[t] - mx)))
				sum += s[t]
			}
			a := g.a[hd*dh : (hd+1)*dh]
			clear(a)
			for t, w := range s {
				v := b.vals[t*e+hd*dh : t*e+(hd+1)*dh]
				w /= sum
				for j := range a {
					a[j] += w * v[j]
				}
			}
		}
		vecMat(g.o, g.a, b.wo, b.bo)
		for i := range x {
			x[i] += g.o[i]
		}
		layerNorm(g.h, x, b.ln2g, b.ln2b)
		vecMat(g.f, g.h, b.w1, b.b1)
		for i, v := range g.f {
			g.f[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
		}
		vecMat(g.o, g.f, b.w2, b.b2)
		for i := range x {
			x[i] += g.o[i]
		}
	}
	layerNorm(g.h, x, g.lnfg, g.lnfb)
	vecMat(g.logits, g.h, g.headW, g.headB)
}

func (g *Generator) stepRNN(id int) {
	e := g.cfg.Width
	in := g.tok[id*e : (id+1)*e]
	for li := range g.rnns {
		l := &g.rnns[li]
		matVec(l.gi, l.wih, in, l.bih)
		matVec(l.gh, l.whh, l.h, l.bhh)
		if g.cfg.Arch == "lstm" { // gates i, f, g, o
			for j := range e {
				ig := sigmoid(l.gi[j] + l.gh[j])
				fg := sigmoid(l.gi[e+j] + l.gh[e+j])
				gg := tanh(l.gi[2*e+j] + l.gh[2*e+j])
				og := sigmoid(l.gi[3*e+j] + l.gh[3*e+j])
				l.c[j] = fg*l.c[j] + ig*gg
				l.h[j] = og * tanh(l.c[j])
			}
		} else { // gates r, z, n
			for j := range e {
				r := sigmoid(l.gi[j] + l.gh[j])
				z := sigmoid(l.gi[e+j] + l.gh[e+j])
				n := tanh(l.gi[2*e+j] + r*l.gh[2*e+j])
				l.h[j] = (1-z)*n + z*l.h[j]
			}
		}
		in = l.h
	}
	vecMat(g.logits, in, g.headW, g.headB)
}

// Sampling says how Generate draws each token.
type Sampling struct {
	Temperature float64 // > 0; the logits are divided by it (1: the model's distribution)
	TopK        int     // ≥ 0; draw among the TopK most likely tokens only (0: all)
	Seed        uint64  // seeds the draws: the same seed, prompt and model give the same text
}

// Check reports invalid sampling options (ErrSampling).
func (s Sampling) Check() error {
	if !(s.Temperature > 0) || math.IsInf(s.Temperature, 1) {
		return fmt.Errorf("%w: temperature %v, want a finite number > 0", ErrSampling, s.Temperature)
	}
	if s.TopK < 0 {
		return fmt.Errorf("%w: top-k %d, want ≥ 0 (0: all tokens)", ErrSampling, s.TopK)
	}
	return nil
}

// Generate resets g, feeds the prompt's token ids (at least one) and then
// draws n tokens, calling emit with each as it is drawn (an error from
// emit stops Generate and is returned). Each drawn token is fed back, so
// the cost is len(prompt)+n−1 single-position steps (plus a transformer's
// re-encodings once its window is full).
func (g *Generator) Generate(prompt []int, n int, s Sampling, emit func(id int) error) error {
	if err := s.Check(); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("%w: %d tokens to generate, want ≥ 0", ErrSampling, n)
	}
	if len(prompt) == 0 {
		return fmt.Errorf("%w: an empty prompt (give at least one token)", ErrSampling)
	}
	g.Reset()
	var logits []float32
	var err error
	for _, id := range prompt {
		if logits, err = g.Step(id); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x636861726c6d)) // "charlm"
	probs := make([]float64, g.cfg.Vocab)
	order := make([]int, g.cfg.Vocab)
	for i := range n {
		id := draw(logits, s, rng, probs, order)
		if err := emit(id); err != nil {
			return err
		}
		if i < n-1 {
			if logits, err = g.Step(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// draw samples a token from softmax(logits/T), restricted to the top k.
func draw(logits []float32, s Sampling, rng *rand.Rand, probs []float64, order []int) int {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, float64(v))
	}
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp((float64(v) - mx) / s.Temperature)
	}
	if s.TopK > 0 && s.TopK < len(logits) {
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return logits[order[a]] > logits[order[b]] })
		for _, i := range order[s.TopK:] {
			probs[i] = 0
		}
	}
	for _, p := range probs {
		sum += p
	}
	u := rng.Float64() * sum
	last := 0
	for i, p := range probs {
		if p == 0 {
			continue
		}
		last = i
		if u -= p; u < 0 {
			return i
		}
	}
	return last
}
