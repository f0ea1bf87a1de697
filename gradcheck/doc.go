// Package gradcheck compares the gradients a graph.Program computes with
// central finite differences, in float64.
//
// For every element w of every parameter, the numeric derivative is
// (L(w+h) − L(w−h)) / 2h, from two forward-only runs, and the relative error
// against the analytic gradient g is |g − n| / max(|g|, |n|, Floor). Floor
// keeps entries whose true derivative is (nearly) zero from dividing
// round-off by round-off: below it the error is absolute. Tests of any
// package can use it on programs built with graph and ops.
package gradcheck
