//go:build race

package sgemm

// raceEnabled: the race detector allocates on its own.
const raceEnabled = true
