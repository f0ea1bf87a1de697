package onnx

import "errors"

// Sentinel errors of package onnx; every error the package returns wraps one
// of them and names the layer, tensor or file involved.
var (
	// ErrUnsupported reports a layer without an ONNX mapping (an
	// nn.LayerFunc, an unknown kind) or an option ONNX cannot express.
	ErrUnsupported = errors.New("onnx: no ONNX mapping")
	// ErrModel reports a model that cannot be exported as the contract says:
	// not made from a Sequential, outputs that are not (batch, classes)
	// logits, an input of another size, a tensor without a value.
	ErrModel = errors.New("onnx: cannot export model")
	// ErrWrite reports an output file that could not be written; the
	// previous file at that path, if any, is left as it was.
	ErrWrite = errors.New("onnx: cannot write file")
)
