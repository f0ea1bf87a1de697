// Package graph builds neural networks as symbolic Gorgonia graphs and runs
// them on Gorgonia's tape machine.
//
// A Builder owns a *gorgonia.ExprGraph. It declares named inputs (with a fixed
// shape and dtype) and named learnable parameters (created through an
// Initializer and a seed derived from the builder's seed and the parameter's
// name, so one seed fixes every initial value). Ops from package ops, or plain
// Gorgonia functions, combine the nodes; Compile differentiates the loss with
// respect to every parameter and returns a Program.
//
// A Program holds two tape machines on the same nodes: the training machine
// (forward and backward, with gradients bound to the parameters through
// gorgonia.BindDualValues, which accumulate until a solver zeroes them) and a
// forward-only machine used in Eval mode and by Forward, which never touches a
// gradient. Feeds are checked for presence, shape and dtype before they reach
// Gorgonia, and a panic inside Gorgonia is recovered and returned as an error
// wrapping ErrRun.
//
// The Program's Mode (Train or Eval) is pushed to every op in the graph that
// implements gorgonia.TrainModeOp when it changes, so mode-aware ops such as
// batch normalization and dropout follow it without recompiling.
package graph
