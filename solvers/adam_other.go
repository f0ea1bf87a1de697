//go:build !amd64 || purego

package solvers

func adamFast[T Float](w, g, m, v []T, h *hyper[T]) int { return 0 }

func adagradFast[T Float](w, g, s []T, h *hyper[T]) int { return 0 }

func rmspropFast[T Float](w, g, sq []T, h *hyper[T]) int { return 0 }

func momentumFast[T Float](w, g, b []T, h *hyper[T]) int { return 0 }

func sgdFast[T Float](w, g []T, h *hyper[T]) int { return 0 }
