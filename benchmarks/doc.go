// Package benchmarks holds cross-implementation benchmarks: gradlab's solvers
// against Gorgonia's built-ins (and, by the script torch_solvers.py, against
// PyTorch), plus a stream-triad memory-bandwidth benchmark so each solver's
// MB/s reads as a fraction of what the machine streams, and the convolution
// and pooling layers of a CNN against Gorgonia's (and, by torch_conv.py,
// PyTorch's; see CONV.md). Its one API is WriteTwin (command
// benchmarks/cmd/twin): the initial weights, per-epoch data order and
// configuration of a gradlab train run, for torch_train.py to repeat the
// run in PyTorch (TRAINING.md, "End to end"). Run the benchmarks with
//
//	go test -run '^$' -bench . ./benchmarks
//
// See README.md for the table measured on the development machine.
package benchmarks
