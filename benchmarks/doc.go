// Package benchmarks holds cross-implementation benchmarks: gradlab's solvers
// against Gorgonia's built-ins (and, by the script torch_solvers.py, against
// PyTorch), plus a stream-triad memory-bandwidth benchmark so each solver's
// MB/s reads as a fraction of what the machine streams, and the convolution
// and pooling layers of a CNN against Gorgonia's (and, by torch_conv.py,
// PyTorch's; see CONV.md). It has no API; run
//
//	go test -run '^$' -bench . ./benchmarks
//
// See README.md for the table measured on the development machine.
package benchmarks
