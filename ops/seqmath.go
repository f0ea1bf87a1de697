package ops

// The sequence kernels' transcendental functions are internal/vec's: for
// float32 vec.Expf, a float32 exponential accurate to 1e−7 relative, and the
// AVX-512F kernels built on it (vec.ExpShift, vec.Sigmoid, vec.Tanh) where
// the CPU has them; for float64 the math package. The recurrences and
// attention apply an exponential to every gate and score, so these set
// their speed.

// addTo adds b into a elementwise.
func addTo[T float](a, b []T) {
	b = b[:len(a)]
	for j := range a {
		a[j] += b[j]
	}
}
