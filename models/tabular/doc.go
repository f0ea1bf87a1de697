// Package tabular is the model of `gradlab train -data FILE.csv`: an MLP
// over the encoded columns of a table (package datasets/table), with the
// training split's standardization as its first layer and, for a
// regressor, the target's scale as its last, so that the model reads raw
// encoded features and predicts in the target's units (and its ONNX export
// does the same). Fit takes those statistics from the training data.
package tabular
