// Package charlm builds the character-level language model of `gradlab
// train -model charlm` from a Config, on the layer API (package nn), and
// generates text from it.
//
// The model reads int token ids (N, T) — bytes of a text through a
// byte-level vocabulary (package datasets/text) — and gives next-byte
// logits (N, T, V) at every position, trained with the per-position
// cross-entropy (nn.NewClassifier). Three architectures:
//
//   - transformer, GPT-style: token and learned position embeddings
//     (tok/weight, pos/weight, both N(0, 0.02²) as GPT-2 and nanoGPT),
//     Depth pre-norm blocks of causal multi-head attention and a GELU MLP
//     of 4·Width (block1/…, nn.TransformerBlock), a final layer norm (ln_f)
//     and a linear head (head/w, head/b);
//   - lstm and gru: a token embedding, Depth stacked recurrent layers of
//     Width units (rnn1/…, PyTorch's parameter layout), dropout after each
//     when Dropout > 0, the head.
//
// The default (Default, the run of gradlab train -model charlm) is the
// configuration benchmarks/CHARLM.md chose on a validation span: see there
// for the table, the PyTorch twin and the speed.
//
// Generation (Generator) does not run the graph: it reads the trained
// parameters and computes one position at a time in float32 — a key/value
// cache per transformer block, the recurrent state for lstm and gru — so
// generating N characters costs N single-position steps, not N full-window
// passes. Its logits match the graph's (Predict) to float32 rounding. When
// a transformer's cache is full (its window, at most the context), the last
// half of the window is re-encoded from position 0 and generation goes on:
// every character is predicted from between window/2 and window preceding
// characters, at an amortized cost of two steps per character. The
// recurrent models carry their state past the context.
//
// Sampling is deterministic for a seed: a PCG stream seeded by it draws
// each character from the softmax of logits/temperature, optionally
// restricted to the top-k logits.
package charlm
