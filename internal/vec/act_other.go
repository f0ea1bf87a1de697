//go:build !amd64

package vec

func relu512(y, x *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func reluGrad512(dx, y, gr *float32, n int) { panic("vec: no AVX-512 on this architecture") }

func addConst512(y, x *float32, n int, c float32) { panic("vec: no AVX-512 on this architecture") }

func maxPool2x2512(y *float32, arg *uint8, x *float32, w, ow, oh int) int {
	panic("vec: no AVX-512 on this architecture")
}

func maxPool2x2Grad512(dx, dy *float32, arg *uint8, w, ow, oh int) {
	panic("vec: no AVX-512 on this architecture")
}
