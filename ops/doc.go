// Package ops provides the symbolic operations gradlab networks are made of:
// MatMul, BiasAdd, the activations Tanh, ReLU and Sigmoid, a numerically
// stable SoftmaxCrossEntropy over integer class labels, BatchNorm and Dropout.
//
// Every op is a function on *gorgonia.Node returning (*gorgonia.Node, error),
// so ops mix freely with plain Gorgonia code. Shape and dtype errors are
// reported when the node is built, wrapping ErrShape or ErrDtype and naming
// the op and the shapes involved; a Gorgonia panic during construction is
// returned as an error too. Where Gorgonia's own op is sound (matrix
// product, tanh, sigmoid, rectify) the function checks its arguments and
// calls it; BiasAdd and SoftmaxCrossEntropy are project-owned gorgonia.Op
// implementations with generic float32/float64 kernels. Every op's gradient
// is checked against central finite differences in the tests (package
// gradcheck).
//
// BatchNorm and Dropout are mode-aware (gorgonia.TrainModeOp): they follow
// the graph.Program's Train/Eval mode, which can switch any number of times
// without recompiling, and take the graph.Builder because they own model
// state: BatchNorm registers γ and β as parameters and its running
// statistics as graph.State tensors; Dropout draws its seed from the
// builder and keeps its mask counter as a State, so masks are reproducible
// and resume exactly from a checkpoint. They replace Gorgonia's BatchNorm
// and Dropout, whose defects (γ/β shaped like the whole input and
// Glorot-initialised, running statistics wiped by every new machine, a
// wrong eval-mode backward for 4-D inputs; a backward pass scaled by 1/p,
// a hash that ignores p, clock seeding) the tests demonstrate.
package ops
