// Package ops provides the symbolic operations gradlab networks are made of:
// MatMul, BiasAdd, the activations Tanh, ReLU and Sigmoid, and a numerically
// stable SoftmaxCrossEntropy over integer class labels.
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
package ops
