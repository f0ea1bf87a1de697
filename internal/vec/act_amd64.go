package vec

// The AVX-512F kernels of act.go handle n elements (outputs, for the pool),
// a multiple of 16.

//go:noescape
func relu512(y, x *float32, n int)

//go:noescape
func reluGrad512(dx, y, gr *float32, n int)

//go:noescape
func addConst512(y, x *float32, n int, c float32)

// maxPool2x2512 pools rows [0, oh) of a plane (MaxPool2x2) and returns
// how many it did: oh, or fewer when it stopped before a row whose windows
// hold a NaN. arg may be nil. Rows of any length: the last block of 16
// outputs is masked.
//
//go:noescape
func maxPool2x2512(y *float32, arg *uint8, x *float32, w, ow, oh int) (rows int)

//go:noescape
func maxPool2x2Grad512(dx, dy *float32, arg *uint8, w, ow, oh int)
