package train

import "math/rand/v2"

// Order returns the order in which Train visits n training examples in
// epoch (counted from 1) of a run with the given seed: a permutation of
// 0..n−1 drawn by math/rand/v2's Perm from PCG(seed, shuffleStream+epoch).
// The epoch's batches are Order[s·Batch : (s+1)·Batch]. It is exported so
// that a run elsewhere (the PyTorch twin in benchmarks/) can see the same
// batches; Train itself calls it.
func Order(seed uint64, epoch, n int) []int {
	return rand.New(rand.NewPCG(seed, shuffleStream+uint64(epoch))).Perm(n)
}
