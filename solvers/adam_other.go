//go:build !amd64 || purego

package solvers

func adamFast[T Float](w, g, m, v []T, h *hyper[T]) int { return 0 }
