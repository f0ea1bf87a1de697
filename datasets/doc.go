// Package datasets defines what the trainer reads: a Dataset is a number of
// labelled examples of one shape that it gathers, by index, into a batch.
//
// Implementations: package datasets/mnist (the IDX files, with pixel
// scaling) and Memory here, made from slices, so that a user can bring data
// of any shape:
//
//	d, err := datasets.FromSlices(features, []int{4}, labels, 3) // 4 features, 3 classes
//
// Subset views a dataset through a list of indices (training limits and
// validation splits) without copying it.
package datasets
