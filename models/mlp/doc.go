// Package mlp builds multilayer perceptrons for classification from a
// Config, as a short nn.Sequential on the layer API (package nn).
//
// Each hidden layer is x·W + b (or x·W then batch normalization, whose β
// replaces the bias), then the activation, then dropout when the rate is
// positive; the output layer gives logits, and the loss is the mean softmax
// cross-entropy against integer labels. Parameter names are stable —
// "fc1/w", "fc1/b", "bn1/gamma", …, "out/w", "out/b" — so checkpoints and
// solver state match by name.
//
// The network is an nn.Sequential (Layers) inside an nn.NewClassifier model,
// which compiles one program per batch size on demand, all sharing the same
// parameter and state tensors.
package mlp
