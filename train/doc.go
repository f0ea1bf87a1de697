// Package train runs the training loop: per-epoch shuffling from the seed,
// mini-batches (the last partial batch included), any solver by name with a
// learning-rate schedule and gradient clipping, evaluation after every
// epoch, early stopping on a held-out validation set, a NaN/Inf detector,
// progress output, metrics.csv, curves.png, config.json and atomic
// checkpoints that resume bit-identically.
//
// Determinism: the permutation of epoch e is drawn from
// PCG(seed, shuffleStream+e), so it depends only on the seed and the epoch;
// initial weights and dropout masks come from the same seed through the
// model; the dropout counters, batch-norm statistics, parameters and solver
// state are all in the checkpoint. Two runs with the same seed write the same
// metrics.csv (the seconds column aside), and an interrupted run resumed
// from its checkpoint writes the same numbers as an uninterrupted one.
package train
