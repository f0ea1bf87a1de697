// Package metrics measures a model on batches: a Metric accumulates over
// the batches of a data set (Reset, Update, Value) and reports one number.
// The trainer (package train) runs the mean loss and the metrics that fit
// the model's loss after every epoch on the training, validation and test
// sets; any type that implements Metric joins them.
//
// Built in: Loss (the mean loss), Accuracy and TopK (class labels, one per
// example or per position), BinaryAccuracy (multi-label), RMSE, MAE and R2
// (regression), BitsPerToken and Perplexity (cross-entropy in bits and its
// exponential, for language models). For returns the default metrics of a
// target kind. A metric whose name ends in "acc" is a fraction that logs
// print as a percentage (Format).
package metrics
