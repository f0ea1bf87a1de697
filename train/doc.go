// Package train runs the training loop for any model and any task:
// per-epoch shuffling from the seed, mini-batches (the last partial batch
// included), a solver by name or as a value with a learning-rate schedule
// (a config or a function of the step) and gradient clipping, the mean
// loss and metrics (package metrics; by default those that fit the model's
// loss) on the training, validation and test sets after every epoch, a
// NaN/Inf detector, and callbacks at every step and epoch: the progress
// bar, the log line, the run's files (metrics.csv, curves.png, config.json
// and atomic checkpoints that resume bit-identically) and early stopping on
// any column are callbacks too, which a user can remove, replace or add to.
// Before the first step it checks that the data, its targets and the
// metrics fit the model and its loss.
//
// Determinism: the permutation of epoch e is drawn from
// PCG(seed, shuffleStream+e), so it depends only on the seed and the epoch;
// initial weights and dropout masks come from the same seed through the
// model; the dropout counters, batch-norm statistics, parameters and solver
// state are all in the checkpoint. Two runs with the same seed write the same
// metrics.csv (the seconds column aside), and an interrupted run resumed
// from its checkpoint writes the same numbers as an uninterrupted one.
package train
