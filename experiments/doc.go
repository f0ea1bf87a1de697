// Package experiments reproduces the figures of the lecture gradlab grows
// from ("Neural Network 2 — techniques for training neural networks") as
// library calls that return data, plus writers that turn the data into PNG
// figures, CSV files and a Markdown report.
//
//	init-stats   InitStats / WriteInitStats          activations per layer for six initializations
//	optimizers   OptimizerPaths / WritePaths         paths on f(x, y) = x²/20 + y²
//	             OptimizersMNIST / WriteCurves       MNIST loss per optimizer
//	init-mnist   InitMNIST / WriteCurves             MNIST loss per initialization
//	batchnorm    BatchNormMNIST / WriteCurves        with and without batch norm across weight scales
//	overfit      Overfit / WriteCurves               300 images: no regularization, weight decay, dropout
//	all          All                                 everything, and report.md
//
// Every experiment is deterministic: Options.Seed fixes the data, the initial
// weights, the shuffling and the dropout masks. Options.Quick shrinks the
// MNIST experiments (fewer images and steps) for tests; the qualitative
// findings hold in both modes and the tests assert them on the numbers.
//
// Run runs one experiment by name and writes its files; All runs them all
// and writes report.md. Library code never prints; the gradlab experiment
// subcommand does.
//
// The MNIST experiments train small fully connected networks (Net) through
// package train's one loop (Setup, fit), with a step callback that records
// the loss of every step, not only per epoch; each
// epoch takes ⌊N/batch⌋ full batches of a seeded permutation and is then
// evaluated in Eval mode. Subsets keep them to a few minutes each on two
// cores with the pure-Go BLAS; each function documents its sizes.
package experiments
