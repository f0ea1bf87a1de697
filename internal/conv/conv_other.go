//go:build !amd64

package conv

func fwd512(x, w, y *float32, tab *int32, steps, rows, xrs, yrs, ycs int, mask uint16) {
	panic("conv: no AVX-512 kernel on this architecture")
}

func fwd256(x, w, y *float32, tab *int32, steps, rows, xrs, yrs, ycs int, mask *[8]int32) {
	panic("conv: no AVX2 kernel on this architecture")
}

func fwdT(np, vo int, x, w, yT *float32, tab *int32, steps, rows, xrs, yrs, ldw, ldy int) {
	panic("conv: no AVX-512 kernel on this architecture")
}

func fwd512r8(v int, x, w, y *float32, tab *int32, steps, xrs, yrs, ycs int, mask uint16) {
	panic("conv: no AVX-512 kernel on this architecture")
}

func fwd512c1(v int, x, w, y *float32, tab *int32, steps, xrs, yrs int, mask uint16) {
	panic("conv: no AVX-512 kernel on this architecture")
}

func fwd256c1(v int, x, w, y *float32, tab *int32, steps, xrs, yrs int, mask *[8]int32) {
	panic("conv: no AVX2 kernel on this architecture")
}

func dw512(kw, na, vo int, x, dy, dw *float32, n, oh, ow, xrs, xns, ldo int) {
	panic("conv: no AVX-512 kernel on this architecture")
}

func dw256(kw, na int, x, dy, dw *float32, n, oh, ow, xrs, xns, ldo int) {
	panic("conv: no AVX2 kernel on this architecture")
}

var (
	dw512Rows map[int]map[int][]int
	dw256Rows map[int][]int
)

func transpose512(dst, src *float32, dstride, sstride int) {
	panic("conv: no AVX-512 kernel on this architecture")
}
