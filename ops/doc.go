// Package ops provides the symbolic operations gradlab networks are made of:
// MatMul, BiasAdd, the activations Tanh, ReLU and Sigmoid, the losses
// (see "Losses"), BatchNorm and Dropout, RandomShift, the fixed per-feature
// Affine, for convolutional networks Conv2D, MaxPool2D, AvgPool2D and
// Flatten (BiasAdd adds a per-channel bias to an (N, C, H, W) tensor), and
// for sequences Embedding, LSTM, GRU, LayerNorm, GELU and Attention, with
// the shape helpers Reshape, SplitHeads, MergeHeads, AddBroadcast and
// Softmax (see "Sequence ops").
//
// Every op is a function on *gorgonia.Node returning (*gorgonia.Node, error),
// so ops mix freely with plain Gorgonia code. Shape, dtype and option
// errors are reported when the node is built, wrapping ErrShape, ErrDtype or
// ErrConfig and naming the op, the field or input, what was wanted and what
// was given; a Gorgonia panic during construction is returned as an error
// too. The convolution and pooling ops export their shape rules
// (ConvOutputShape, PoolOutputShape, FlattenOutputShape), so a layer API can
// infer output shapes before building anything.
//
// # Losses
//
// Every loss is a mean, a float scalar node of its input's dtype (sums
// accumulate in float64), and matches PyTorch's function of the same name
// with reduction "mean" (golden data from testdata/gen_loss.py):
//
//   - SoftmaxCrossEntropy: −log softmax(z)[y] for logits (d1, …, dk, V) and
//     integer labels (d1, …, dk), so (batch, classes) as well as (N, T, V)
//     sequences; computed stably (logsumexp with the maximum subtracted).
//     SoftmaxCrossEntropyWith adds label smoothing and ignored (padding)
//     positions (XentOptions), averaging over the positions kept; when every
//     position is ignored it gives 0 where torch gives NaN.
//   - BinaryCrossEntropyWithLogits: max(z, 0) − z·t + log(1 + e^{−|z|}) for
//     float targets t in [0, 1] of the logits' shape (multi-label).
//   - MSE (x − t)², L1 |x − t| and Huber (0.5·d² inside delta, linear
//     outside) for float targets of x's shape.
//
// Logits and x get gradients, and float targets too (∂/∂t); integer labels
// get none. The four pointwise losses share one forward and one gradient op,
// parameterized by the element loss f(x, t) and its two derivatives: a new
// pointwise loss is a value of a small struct. A label out of range is an
// error at run time naming the position and the value; the op's error wraps
// ErrLabel, but Gorgonia's tape machine passes on only its message, so the
// error of graph.Program.Run wraps ErrRun alone (check labels before a run
// to get a typed error).
//
// # Convolution and pooling
//
// Layouts are PyTorch's: x is (N, C, H, W), Conv2D's filters w are
// (O, C, KH, KW) (initialize them with initializers' conv layout, e.g.
// initializers.HeNormal(math.Sqrt2) followed by .Conv()). Options are
// (height, width) pairs whose zero values are PyTorch's defaults. Conv2D
// computes the forward pass and both gradients by im2col and matrix
// products (internal/sgemm for float32, gonum for float64), split across
// cores by sample with results that do not depend on the split; its dw
// reuses the forward pass's column matrices. MaxPool2D routes gradients to
// the first maximum of a window and propagates NaN, AvgPool2D divides by
// the full kernel area (count_include_pad), both as PyTorch does. Forward
// and backward passes match PyTorch golden data (testdata/gen_conv.py) and
// central finite differences; Gorgonia's Conv2d and MaxPool2D match them on
// well-formed input, and the tests show where they do not (a NaN dropped by
// MaxPool2D, a filter/input channel mismatch accepted by Conv2d).
//
// # Sequence ops
//
// Layouts are PyTorch's, batch first: Embedding maps tensor.Int ids of any
// shape through a (V, D) table (an id outside [0, V) is an ErrID error of
// the run naming its position and value); LSTM and GRU take x (N, T, I),
// initial states (N, H) and torch.nn.LSTM's / torch.nn.GRU's weights
// (weight_ih_l0 (G·H, I), weight_hh_l0 (G·H, H), two biases (G·H); gates
// i, f, g, o and r, z, n) and equal those modules given the same weights;
// LayerNorm normalizes the last dimension (ε default 1e−5; over a
// dimension of size 1 it returns β, as PyTorch does); GELU is the exact
// x·Φ(x); Attention is softmax(q·kᵀ/√Dh)·v per batch item and head on
// (N, heads, T, Dh), optionally causal.
//
// The recurrences are fused ops: all T steps in one op, the input
// projections of all steps as one matrix product, backpropagation through
// time inside the backward op, every buffer kept in the op (nothing is
// allocated per step). A Gorgonia node has one value, so an op with several
// results packs them into one value read by cheap selector nodes, whose
// gradients scatter back into the packed shape: LSTM's (y, hT, cT) are rows
// of one (N, T+1, H) value, and each backward op packs the gradients of all
// its inputs (see LSTM). Attention runs its (N·heads) items on all cores
// with one (T, T) score block per worker, never the whole (N, heads, T, T)
// tensor. The float32 exponentials (gates, softmax) and layer-norm rows use
// internal/vec's AVX-512F kernels where the CPU has them, bit-identical to
// their Go loops. Every op is checked by central finite differences in
// float64 at odd sizes (T = 1, H ≠ I, batch 1, one head, Dh = 3 or 5) and
// against PyTorch golden data in float64 and float32
// (testdata/gen_seq.py, seq.json).
//
// # Project-owned ops
//
// Where Gorgonia's own op is sound (tanh, sigmoid, rectify) its semantics
// are kept; the ops here are project-owned gorgonia.Op implementations. Each
// is a def: its name (the hash: every parameter of the op is in it), type,
// output shape, one generic float32/float64 kernel and its gradient rule;
// one helper (op) implements gorgonia.Op for all of them, with the panic
// guard (Gorgonia runs the tape on its own goroutine), the output buffer
// kept between runs and the dtype dispatch. A def may also have int inputs
// (Embedding's ids, a loss's labels), a scalar output (the losses), a mode
// hook (the node's op is then a gorgonia.TrainModeOp), a sync hook (a
// graph.SyncOp: BatchNorm's all-reduce under data parallelism) and a state
// its kernels share with its gradient ops (Dropout's mask, BatchNorm's
// statistics). Kernels keep their
// scratch buffers between runs, so a training step allocates nothing in
// this package's code (nor does internal/sgemm on its SIMD paths; its
// pure-Go path, gonum's Sgemm, allocates per call). Every op's gradient is
// checked against central finite differences in the tests (package
// gradcheck). BatchNorm is the one op that still implements gorgonia.Op by
// hand.
//
// BatchNorm, Dropout and RandomShift are mode-aware (gorgonia.TrainModeOp):
// they follow the graph.Program's Train/Eval mode, which can switch any
// number of times without recompiling, and take the graph.Builder because
// they own model state: BatchNorm registers γ and β as parameters and its
// running statistics as graph.State tensors; Dropout and RandomShift (one
// implementation of a random op with two kernels: a mask, shifts) draw
// their seeds from the builder and keep their run counters as States, so
// masks and shifts are reproducible and resume exactly from a checkpoint. They replace Gorgonia's BatchNorm
// and Dropout, whose defects (γ/β shaped like the whole input and
// Glorot-initialised, running statistics wiped by every new machine, a
// wrong eval-mode backward for 4-D inputs; a backward pass scaled by 1/p,
// a hash that ignores p, clock seeding) the tests demonstrate.
package ops
