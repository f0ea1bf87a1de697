// Package datasets defines what the trainer reads: a Dataset is a number of
// examples, each an input and a target described by a Field (dtype, shape of
// one example, and for integers the number of classes), that it gathers, by
// index, into a batch. Inputs are float features or integer token ids;
// targets are class labels (one per example or one per position) or float
// values of any shape.
//
// Implementations: package datasets/mnist (the IDX files, with pixel
// scaling) and Memory here, made from slices, so that a user can bring data
// of any shape and kind:
//
//	d, err := datasets.FromSlices(features, []int{4}, labels, 3) // 4 features, 3 classes
//	r, err := datasets.FromValues(features, []int{4}, y, nil)    // a float target per example
//	s, err := datasets.FromTokens(ids, []int{64}, 96, next, []int{64}, 96) // a label per position
//
// Subset views a dataset through a list of indices (training limits and
// validation splits) without copying it.
package datasets
