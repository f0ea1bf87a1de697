package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/ops"
)

// The sequence layers. Default initializations are PyTorch's for the
// matching torch.nn module (each constructor says which), and parameter
// names follow its names where it has them (weight, bias, weight_ih_l0), so
// weights port between the two as they are (a Dense's w is the transpose of
// a torch.nn.Linear's weight).

// Causal makes an attention layer (MultiHeadAttention, TransformerBlock)
// mask later positions: position t attends to positions ≤ t only.
func Causal() Option { return func(o *options) { o.causal = true } }

// LastStep makes a recurrent layer (LSTM, GRU) return the last step's
// hidden state (batch, H) instead of every step's (batch, T, H).
func LastStep() Option { return func(o *options) { o.last = true } }

// uniform is U(−bound, bound).
func uniform(bound float64) graph.Initializer {
	return initializers.Must(initializers.Uniform(-bound, bound))
}

// normal01 is N(0, 1), torch.nn.Embedding's initialization.
var normal01 = initializers.Must(initializers.Normal(0, 1))

// zerosLike returns a constant zero node of shape s and dtype dt.
func zerosLike(dt tensor.Dtype, s ...int) *gorgonia.Node {
	return gorgonia.NewConstant(tensor.New(tensor.Of(dt), tensor.WithShape(s...)))
}

// EmbeddingLayer maps token ids, a tensor.Int input (batch, …), to rows of
// the table name+"/weight" (Vocab, Dim): (batch, …) → (batch, …, Dim)
// (ops.Embedding). The table has dtype Dtype (zero: float32) and is
// initialized N(0, 1), as torch.nn.Embedding.
type EmbeddingLayer struct {
	Vocab, Dim int
	Dtype      tensor.Dtype
	opt        options
}

// Embedding returns an embedding layer of vocab ids and dim features.
func Embedding(vocab, dim int, opts ...Option) *EmbeddingLayer {
	return &EmbeddingLayer{Vocab: vocab, Dim: dim, opt: makeOptions(normal01, opts)}
}

// Kind returns "embedding".
func (l *EmbeddingLayer) Kind() string { return "embedding" }

// Apply looks the ids x up in the table.
func (l *EmbeddingLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "embedding"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	if l.Vocab <= 0 || l.Dim <= 0 {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): vocabulary %d and dimension %d, want > 0 each", ErrLayer, name, kind, l.Vocab, l.Dim))
	}
	if x.Dtype() != tensor.Int {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): input %v has dtype %v, want int token ids", ErrLayer, name, kind, x.Shape(), x.Dtype()))
	}
	dt := l.Dtype
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	w, err := b.Param(name+"/weight", dt, l.opt.init, l.Vocab, l.Dim)
	if err != nil {
		return nil, layerErr(name, kind, err)
	}
	y, err := ops.Embedding(x, w)
	return y, b.Fail(wrapIf(name, kind, err))
}

// PositionalEmbeddingLayer adds a learned embedding of each position to a
// sequence (batch, T, D): y[n, t] = x[n, t] + weight[t], with the parameter
// name+"/weight" (MaxLen, D) initialized N(0, 1) (torch.nn.Embedding's
// initialization; GPT-2 and nanoGPT use N(0, 0.02²), pass Init for that).
// T may be anything up to MaxLen.
type PositionalEmbeddingLayer struct {
	MaxLen int
	opt    options
}

// PositionalEmbedding returns a learned positional embedding for sequences
// of up to maxLen positions.
func PositionalEmbedding(maxLen int, opts ...Option) *PositionalEmbeddingLayer {
	return &PositionalEmbeddingLayer{MaxLen: maxLen, opt: makeOptions(normal01, opts)}
}

// Kind returns "posembed".
func (l *PositionalEmbeddingLayer) Kind() string { return "posembed" }

// Apply adds the embeddings of positions 0…T−1.
func (l *PositionalEmbeddingLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "posembed"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	if x.Shape().Dims() != 3 {
		return nil, b.Fail(wantShape(name, kind, "(batch, T, D)", x))
	}
	t, d := x.Shape()[1], x.Shape()[2]
	if l.MaxLen <= 0 || t > l.MaxLen {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): sequence length T = %d, want ≤ MaxLen = %d (> 0)", ErrLayer, name, kind, t, l.MaxLen))
	}
	w, err := b.Param(name+"/weight", x.Dtype(), l.opt.init, l.MaxLen, d)
	if err != nil {
		return nil, layerErr(name, kind, err)
	}
	pos := make([]int, t)
	for i := range pos {
		pos[i] = i
	}
	ids := gorgonia.NewConstant(tensor.New(tensor.WithShape(t), tensor.WithBacking(pos)), gorgonia.WithName(name+"/positions"))
	p, err := ops.Embedding(ids, w)
	if err != nil {
		return nil, b.Fail(layerErr(name, kind, err))
	}
	y, err := ops.AddBroadcast(x, p)
	return y, b.Fail(wrapIf(name, kind, err))
}

// LayerNormLayer normalizes over the last dimension with the learnable
// name+"/weight" (γ, ones) and name+"/bias" (β, zeros) of shape (D), as
// torch.nn.LayerNorm(D) (ops.LayerNorm).
type LayerNormLayer struct{ Opt ops.LayerNormOptions }

// LayerNorm returns a layer normalization at PyTorch's default ε (1e-5).
func LayerNorm() *LayerNormLayer { return &LayerNormLayer{} }

// LayerNormWith is LayerNorm with the given ε.
func LayerNormWith(opt ops.LayerNormOptions) *LayerNormLayer { return &LayerNormLayer{Opt: opt} }

// Kind returns "layernorm".
func (l *LayerNormLayer) Kind() string { return "layernorm" }

// Apply normalizes x over its last dimension.
func (l *LayerNormLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "layernorm"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	y, err := layerNorm(b, name, x, l.Opt)
	return y, b.Fail(wrapIf(name, kind, err))
}

func layerNorm(b *graph.Builder, name string, x *gorgonia.Node, opt ops.LayerNormOptions) (*gorgonia.Node, error) {
	if x.Shape().Dims() < 2 {
		return nil, wantShape(name, "layernorm", "(batch, …, features)", x)
	}
	d := x.Shape()[x.Shape().Dims()-1]
	g, err := b.Param(name+"/weight", x.Dtype(), initializers.Must(initializers.Constant(1)), d)
	if err != nil {
		return nil, err
	}
	be, err := b.Param(name+"/bias", x.Dtype(), initializers.Zeros(), d)
	if err != nil {
		return nil, err
	}
	return ops.LayerNorm(x, g, be, opt)
}

// GELU is x·Φ(x) elementwise, the exact form (ops.GELU; torch.nn.GELU()).
func GELU() Layer { return activation("gelu", ops.GELU) }

// Softmax is the softmax over the last dimension (ops.Softmax).
func Softmax() Layer { return activation("softmax", ops.Softmax) }

// RNNLayer is a one-layer, batch-first LSTM or GRU over x (batch, T, I)
// (ops.LSTM, ops.GRU): it returns the hidden state of every step
// (batch, T, Hidden), or with LastStep the last one (batch, Hidden). Its
// parameters are torch.nn.LSTM's and torch.nn.GRU's, with their names and
// layouts: name+"/weight_ih_l0" (G·H, I), "/weight_hh_l0" (G·H, H),
// "/bias_ih_l0" and "/bias_hh_l0" (G·H), G = 4 gates i, f, g, o (LSTM) or
// 3 gates r, z, n (GRU); all initialized U(−1/√H, 1/√H) as PyTorch does
// (Init and BiasInit override the weights' and the biases'). The initial
// state is zero; ApplyState takes a given one.
type RNNLayer struct {
	Cell   string // "lstm" or "gru"
	Hidden int
	opt    options
	custom [2]bool // whether Init, BiasInit were given
}

// LSTM returns an LSTM layer of hidden units.
func LSTM(hidden int, opts ...Option) *RNNLayer { return newRNN("lstm", hidden, opts) }

// GRU returns a GRU layer of hidden units.
func GRU(hidden int, opts ...Option) *RNNLayer { return newRNN("gru", hidden, opts) }

func newRNN(cell string, hidden int, opts []Option) *RNNLayer {
	var probe options
	for _, f := range opts {
		f(&probe)
	}
	return &RNNLayer{Cell: cell, Hidden: hidden, opt: makeOptions(nil, opts), custom: [2]bool{probe.init != nil, probe.biasInit != nil}}
}

// Kind returns "lstm" or "gru".
func (l *RNNLayer) Kind() string { return l.Cell }

// Last reports whether the layer returns only the last step's state.
func (l *RNNLayer) Last() bool { return l.opt.last }

// Apply runs the recurrence from a zero initial state.
func (l *RNNLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	y, hT, _, err := l.ApplyState(b, name, x, nil, nil)
	if err != nil || !l.opt.last {
		return y, err
	}
	return hT, nil
}

// ApplyState runs the recurrence from the initial states h0 and c0
// (batch, Hidden) (nil: zero; c0 only for an LSTM) and returns every step's
// hidden state y (batch, T, Hidden) and the last step's hT and, for an
// LSTM, cT (nil for a GRU).
func (l *RNNLayer) ApplyState(b *graph.Builder, name string, x, h0, c0 *gorgonia.Node) (y, hT, cT *gorgonia.Node, err error) {
	kind := l.Kind()
	name = orDefault(name, kind)
	fail := func(err error) (*gorgonia.Node, *gorgonia.Node, *gorgonia.Node, error) {
		return nil, nil, nil, b.Fail(err)
	}
	if x == nil {
		return fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	gates := map[string]int{"lstm": 4, "gru": 3}[l.Cell]
	if gates == 0 || l.Hidden <= 0 {
		return fail(fmt.Errorf("%w: layer %s (%s): cell %q with %d hidden units, want lstm or gru and > 0", ErrLayer, name, kind, l.Cell, l.Hidden))
	}
	if x.Shape().Dims() != 3 {
		return fail(wantShape(name, kind, "(batch, T, features), batch first", x))
	}
	n, in, h, dt := x.Shape()[0], x.Shape()[2], l.Hidden, x.Dtype()
	bound := 1 / math.Sqrt(float64(h))
	winit, binit := uniform(bound), uniform(bound)
	if l.custom[0] {
		winit = l.opt.init
	}
	if l.custom[1] {
		binit = l.opt.biasInit
	}
	var ps [4]*gorgonia.Node
	for i, p := range []struct {
		suffix string
		init   graph.Initializer
		shape  []int
	}{
		{"weight_ih_l0", winit, []int{gates * h, in}},
		{"weight_hh_l0", winit, []int{gates * h, h}},
		{"bias_ih_l0", binit, []int{gates * h}},
		{"bias_hh_l0", binit, []int{gates * h}},
	} {
		if ps[i], err = b.Param(name+"/"+p.suffix, dt, p.init, p.shape...); err != nil {
			return nil, nil, nil, layerErr(name, kind, err)
		}
	}
	if h0 == nil {
		h0 = zerosLike(dt, n, h)
	}
	if l.Cell == "lstm" {
		if c0 == nil {
			c0 = zerosLike(dt, n, h)
		}
		y, hT, cT, err = ops.LSTM(x, h0, c0, ps[0], ps[1], ps[2], ps[3])
	} else {
		y, hT, err = ops.GRU(x, h0, ps[0], ps[1], ps[2], ps[3])
	}
	if err != nil {
		return fail(layerErr(name, kind, err))
	}
	return y, hT, cT, nil
}

// MultiHeadAttentionLayer is multi-head self-attention over x (batch, T, E)
// with Heads heads of E/Heads dimensions (ops.Attention), as
// torch.nn.MultiheadAttention(E, Heads, batch_first=True) on (x, x, x): the
// projections name+"/q", "/k", "/v" and "/out", each a weight "…/w" (E, E)
// (x·W layout: the transpose of PyTorch's) and a bias "…/b" (E). PyTorch's
// initialization: q, k, v weights are the rows of one Xavier-uniform
// (3E, E) matrix, U(±√(6/(4E))); the output weight is a Linear's,
// U(±1/√E); the biases are zero. With Causal, position t attends to
// positions ≤ t.
type MultiHeadAttentionLayer struct {
	Heads int
	opt   options
}

// MultiHeadAttention returns a self-attention layer of heads heads.
func MultiHeadAttention(heads int, opts ...Option) *MultiHeadAttentionLayer {
	return &MultiHeadAttentionLayer{Heads: heads, opt: makeOptions(nil, opts)}
}

// Kind returns "attention".
func (l *MultiHeadAttentionLayer) Kind() string { return "attention" }

// IsCausal reports whether the layer masks later positions.
func (l *MultiHeadAttentionLayer) IsCausal() bool { return l.opt.causal }

// Apply adds out(attention(q(x), k(x), v(x))).
func (l *MultiHeadAttentionLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "attention"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	y, err := selfAttention(b, name, x, l.Heads, l.opt.causal)
	return y, b.Fail(wrapIf(name, kind, err))
}

func selfAttention(b *graph.Builder, name string, x *gorgonia.Node, heads int, causal bool) (*gorgonia.Node, error) {
	if x.Shape().Dims() != 3 {
		return nil, wantShape(name, "attention", "(batch, T, E)", x)
	}
	e := x.Shape()[2]
	if heads <= 0 || e%heads != 0 {
		return nil, fmt.Errorf("%w: layer %s (attention): %d heads do not divide the model dimension E = %d of input %v", ErrLayer, name, heads, e, x.Shape())
	}
	in := options{init: uniform(math.Sqrt(6 / float64(4*e))), biasInit: initializers.Zeros()}
	var qkv [3]*gorgonia.Node
	for i, p := range []string{"q", "k", "v"} {
		h, err := dense(b, name+"/"+p, x, e, in)
		if err != nil {
			return nil, err
		}
		if qkv[i], err = ops.SplitHeads(h, heads); err != nil {
			return nil, err
		}
	}
	a, err := ops.Attention(qkv[0], qkv[1], qkv[2], ops.AttentionOptions{Causal: causal})
	if err != nil {
		return nil, err
	}
	m, err := ops.MergeHeads(a)
	if err != nil {
		return nil, err
	}
	return dense(b, name+"/out", m, e, options{init: uniform(1 / math.Sqrt(float64(e))), biasInit: initializers.Zeros()})
}

// ResidualLayer is x + f(x) for f its layers applied in order (a
// Sequential named like the residual, so its parameters are
// name+"/dense1/w", …); f must keep x's shape.
type ResidualLayer struct{ Body *Sequential }

// Residual returns the residual block x + layers(x).
func Residual(layers ...Layer) *ResidualLayer { return &ResidualLayer{Body: NewSequential(layers...)} }

// Kind returns "residual".
func (l *ResidualLayer) Kind() string { return "residual" }

// Apply adds x + body(x).
func (l *ResidualLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "residual"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	f, err := l.Body.Apply(b, name, x)
	if err != nil {
		return nil, err
	}
	if !f.Shape().Eq(x.Shape()) {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): its layers turn %v into %v, want the same shape", ErrLayer, name, kind, x.Shape(), f.Shape()))
	}
	y, err := ops.AddBroadcast(x, f)
	return y, b.Fail(wrapIf(name, kind, err))
}

// TransformerBlockLayer is a pre-norm transformer block (GPT-2's) over
// x (batch, T, E):
//
//	x = x + dropout(attention(ln1(x)))
//	x = x + dropout(fc2(gelu(fc1(ln2(x)))))
//
// with parameters name+"/ln1/…", "/attn/…" (MultiHeadAttention's),
// "/ln2/…", "/fc1/…" (E → Hidden) and "/fc2/…" (Hidden → E). fc1 and fc2
// are initialized as torch.nn.Linear, weights and biases U(±1/√fan_in).
// Dropout is active in Train mode only.
type TransformerBlockLayer struct {
	Heads, Hidden int
	Dropout       float64
	opt           options
}

// TransformerBlock returns a pre-norm block of heads attention heads, an
// MLP of hidden units (0: 4·E) and dropout probability dropout.
func TransformerBlock(heads, hidden int, dropout float64, opts ...Option) *TransformerBlockLayer {
	return &TransformerBlockLayer{Heads: heads, Hidden: hidden, Dropout: dropout, opt: makeOptions(nil, opts)}
}

// Kind returns "transformer".
func (l *TransformerBlockLayer) Kind() string { return "transformer" }

// IsCausal reports whether the block's attention masks later positions.
func (l *TransformerBlockLayer) IsCausal() bool { return l.opt.causal }

// Apply adds the block.
func (l *TransformerBlockLayer) Apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	const kind = "transformer"
	name = orDefault(name, kind)
	if x == nil {
		return nil, b.Fail(fmt.Errorf("%w: layer %s (%s): nil input", ErrLayer, name, kind))
	}
	y, err := l.apply(b, name, x)
	return y, b.Fail(wrapIf(name, kind, err))
}

func (l *TransformerBlockLayer) apply(b *graph.Builder, name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Shape().Dims() != 3 {
		return nil, wantShape(name, "transformer", "(batch, T, E)", x)
	}
	e := x.Shape()[2]
	hidden := l.Hidden
	if hidden == 0 {
		hidden = 4 * e
	}
	if hidden < 0 {
		return nil, fmt.Errorf("%w: layer %s (transformer): Hidden = %d, want ≥ 0", ErrLayer, name, l.Hidden)
	}
	drop := func(h *gorgonia.Node) (*gorgonia.Node, error) {
		if l.Dropout == 0 {
			return h, nil
		}
		return ops.Dropout(b, h, l.Dropout)
	}
	h, err := layerNorm(b, name+"/ln1", x, ops.LayerNormOptions{})
	if err != nil {
		return nil, err
	}
	if h, err = selfAttention(b, name+"/attn", h, l.Heads, l.opt.causal); err != nil {
		return nil, err
	}
	if h, err = drop(h); err != nil {
		return nil, err
	}
	if x, err = ops.AddBroadcast(x, h); err != nil {
		return nil, err
	}
	if h, err = layerNorm(b, name+"/ln2", x, ops.LayerNormOptions{}); err != nil {
		return nil, err
	}
	fc := func(fanIn int) options {
		u := uniform(1 / math.Sqrt(float64(fanIn)))
		return options{init: u, biasInit: u}
	}
	if h, err = dense(b, name+"/fc1", h, hidden, fc(e)); err != nil {
		return nil, err
	}
	if h, err = ops.GELU(h); err != nil {
		return nil, err
	}
	if h, err = dense(b, name+"/fc2", h, e, fc(hidden)); err != nil {
		return nil, err
	}
	if h, err = drop(h); err != nil {
		return nil, err
	}
	return ops.AddBroadcast(x, h)
}
