package experiments

// Options are the settings every experiment shares.
type Options struct {
	// Seed fixes every random choice: inputs, initial weights, shuffling,
	// dropout masks. Two runs with the same seed give the same numbers.
	Seed uint64
	// Quick shrinks the MNIST experiments (fewer images, fewer steps) so that
	// tests run in seconds. The 2-D and initialization experiments are cheap
	// and ignore it.
	Quick bool
}
