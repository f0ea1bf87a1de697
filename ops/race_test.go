//go:build race

package ops

// raceEnabled: the race detector allocates on its own (sync.Pool drops
// items at random under it), so allocation counts are not asserted.
const raceEnabled = true
