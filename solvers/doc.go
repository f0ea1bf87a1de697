// Package solvers implements gradient-descent optimizers as gorgonia.Solver
// values: SGD, Momentum, Nesterov, AdaGrad, RMSProp (optionally with momentum
// and centered), Adadelta, Adam, AMSGrad, AdamW, Adamax, NAdam and Lion.
//
// Every solver runs one fused, generic kernel per algorithm over the float32
// or float64 backing slices of the parameters: a single pass over memory that
// reads the weight, gradient and state, writes the new weight and state, and
// zeroes the gradient it consumed (a Gorgonia tape accumulates gradients).
// Steps allocate nothing in steady state, and large tensors are split across
// runtime.GOMAXPROCS cores with results bit-identical to a single-threaded run
// (elementwise kernels do not depend on the split; the global norm of
// Options.ClipNorm is summed over fixed chunks in a fixed order).
//
// On amd64 the hottest loops (Adam, SGD, Momentum/Nesterov, AdaGrad and plain
// RMSProp, in both dtypes) also have SSE versions, four float32 or two float64
// lanes at a time, with the same operations in the same order as the Go
// loops, so their results are bit-identical (tested); build with -tags purego
// to use only Go.
//
// # Adding a solver
//
// A solver is its file plus its fused kernel in kernels.go: the file holds
// its exported type and constructor, a meta (name, state slots and scalars,
// and the kernel in both dtypes as a kernels value), the algorithm methods
// the shared Step calls (validate,
// options, slotUsed, hyper), configure (its Config fields, for New), the
// Solver methods, and an init that registers its name. Nothing else in the
// package changes, as long as its per-step constants fit the fields of the
// shared hyper struct and its hyperparameters the fields of Config (a new
// kind of constant or field is a line there).
//
// # Order of operations
//
// Every solver prepares each gradient element g of a parameter w in this order
// (see Options), then applies its update rule:
//
//  1. regularize: g += L1·sign(w); g += WeightDecay·w (coupled L2, as PyTorch's weight_decay)
//  2. scale:      g *= 1/BatchSize when BatchSize > 1 (Gorgonia's WithBatchSize)
//  3. clip:       g = clamp(g, −ClipValue, ClipValue) when ClipValue > 0, then
//     g *= ClipNorm/‖g‖ when ClipNorm > 0 and the global norm ‖g‖ over all
//     parameters of the step exceeds ClipNorm
//  4. update:     the solver's rule, documented on its type. Decoupled weight
//     decay (Adam.DecoupledDecay for AdamW, Lion.DecoupledDecay) multiplies w by
//     1 − LR·λ as part of the update, as PyTorch's AdamW does.
//
// # State
//
// State is keyed by parameter name (every gorgonia.ValueGrad must implement
// gorgonia.Namer; *gorgonia.Node does) and created, zeroed, on first use. A
// parameter whose shape or dtype changes later is an error. Solver.State
// exports all of it as a flat map of tensors, "<param>/<slot>" for each state
// slot and "<param>/step" for the per-parameter step count (a one-element
// float64 tensor), ready for a checkpoint file; Solver.SetState restores it.
//
// # References
//
// Each solver is checked against Gorgonia's built-in where that one is sound
// (Vanilla, Momentum without regularization, RMSProp, AdaGrad at defaults,
// Adam) and against PyTorch 1.13 for every solver, with golden trajectories in
// testdata/ made by testdata/gen_golden.py.
package solvers
