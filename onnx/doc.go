// Package onnx exports a model of package nn, in Eval mode, as an ONNX model
// (https://onnx.ai) that any ONNX runtime runs: ONNX Runtime on servers, in
// browsers (onnxruntime-web) and on phones.
//
// The exported graph follows one contract, whatever the layers:
//
//   - one input, InputName ("pixels"): float32 (N, 1, 28, 28) by default
//     (Options.Input), pixel values in [0, 1], with a dynamic batch
//     dimension N;
//   - the model's own input scaling first, (x − Options.Mean)/Options.Std as
//     Sub and Div nodes (left out where they are the identity), then a
//     Flatten or Reshape where the model takes its examples in another shape
//     (an MLP takes 784 values);
//   - the layers: Dense as Gemm (W is (in, out), so transB = 0), Conv2D as
//     Conv, MaxPool2D as MaxPool, AvgPool2D as AveragePool
//     (count_include_pad = 1, as the layer), ReLU, Tanh, Sigmoid, Flatten,
//     Reshape; Dropout and RandomShift are left out (the identity in Eval
//     mode); BatchNorm as BatchNormalization with its running statistics (see
//     below);
//   - the sequence layers (see seq.go): Embedding as Gather, LSTM and GRU as
//     ONNX's LSTM and GRU (gates reordered to i, o, f, c and z, r, h;
//     linear_before_reset = 1), LayerNorm and GELU decomposed (opset 13 has
//     no LayerNormalization), attention as MatMul, Softmax and a causal Where
//     mask, positional embeddings, residual and transformer blocks; a model
//     of token ids takes IDsName ("ids"), int64 (N, T), and a sequence
//     model's T is dynamic like N;
//   - two outputs: LogitsName ("logits"), float32 (N, classes) (or
//     (N, T, classes) per position), and ProbabilitiesName
//     ("probabilities"), their softmax over the last axis;
//   - Options.Metadata in the model's metadata_props (gradlab export puts the
//     checkpoint's training configuration and last metrics there).
//
// Batch normalization stays a BatchNormalization node (opset 9's inference
// form: scale, bias, running mean and variance, epsilon) rather than being
// folded into the preceding Gemm or Conv: it is exact for every placement
// (folding needs a linear layer right before it, and changes the rounding),
// the file keeps the checkpoint's tensors under their own names
// (bn1/gamma, bn1/running_mean, …) for anyone inspecting or fine-tuning it,
// and runtimes fold it themselves when they optimize the graph.
//
// A layer without an ONNX mapping (an nn.LayerFunc, a layer kind this
// package does not know) makes Export fail with ErrUnsupported naming the
// layer. Parameters are written as float32 (a float64 model is rounded).
// The file is the ONNX IR version 8 with opset 13, what onnx 1.12's checker
// accepts; its bytes are deterministic (metadata sorted by key).
package onnx
