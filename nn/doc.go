// Package nn is gradlab's layer vocabulary and its model type.
//
// A Layer adds nodes to a graph.Builder: Dense (x·W + b), the activations
// ReLU, Tanh and Sigmoid (Activation for any other), BatchNorm, Dropout,
// Flatten and Reshape, the fixed per-feature Affine and Standardize, for
// images (batch, channels, h, w) Conv2D, MaxPool2D, AvgPool2D and the
// augmentation RandomShift, and for
// sequences (batch, T, …) Embedding (token ids to vectors),
// PositionalEmbedding (learned), LayerNorm, GELU, Softmax, LSTM and GRU (all
// steps, or the last step's state with LastStep; a zero initial state, or a
// given one through RNNLayer.ApplyState), MultiHeadAttention (its q, k, v
// and output projections; Causal), a pre-norm TransformerBlock and the
// Residual combinator (x + layers(x)); Dense applies to the last dimension
// of any N-D input. The sequence layers default to PyTorch's
// initializations and parameter names (weight_ih_l0, …), and equal their
// torch.nn counterparts given the same weights (testdata/gen_seq_layers.py); any
// function of a builder, a scope name and a node is a layer through
// LayerFunc, so plain Gorgonia code mixes in. A Sequential applies layers in order, reads every
// shape from its input (only the model's input shape is given), names each
// layer by kind (dense1, relu1, … or Named) and prefixes its parameters with
// that name (dense1/w, batchnorm1/gamma), which is how checkpoints and solver state
// find them.
//
// A Model owns its compiled programs: Gorgonia fixes the batch size of a
// program, so a Model compiles one per batch size on demand from a BuildFunc,
// all sharing parameters and states by name; it sets their mode (Train or
// Eval) together, lists the parameters and states, and Predict runs any
// number of examples, one included, on a bounded set of programs (Infer
// returns the natural output of its loss: probabilities, values).
//
// A Loss is a value with a TargetKind (Classes, Binary, Values) that fixes
// the target's dtype and shape: CrossEntropy (and CrossEntropyWith label
// smoothing or ignored labels), BCEWithLogits, MSE, L1, Huber.
// NewSupervised makes the Model of a Sequential and a loss, the kind package
// train trains; NewClassifier (cross-entropy) and NewRegressor (MSE) are its
// shorthands; NewModel takes any BuildFunc (SetLoss tells the trainer its
// task). Summary prints the layer table, as Keras' model.summary() does.
package nn
