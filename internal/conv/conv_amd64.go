package conv

//go:generate go run gen.go

// fwd512 computes, for rows output rows from x and y on (xrs, yrs bytes
// apart), 16 output channels (ycs bytes apart) × the 16 pixels of a row at
// x, y: each the chain over the steps of fma(x[tab[s] bytes], w[s·16+k], acc),
// stored in the lanes set in mask.
//
//go:noescape
func fwd512(x, w, y *float32, tab *int32, steps, rows, xrs, yrs, ycs int, mask uint16)

// fwd256 is fwd512 with AVX2 for 8 channels (w[s·16+k], k < 8) × 8 pixels,
// stored in the lanes whose mask element is −1.
//
//go:noescape
func fwd256(x, w, y *float32, tab *int32, steps, rows, xrs, yrs, ycs int, mask *[8]int32)

// transpose512 writes the transpose of the 16×16 tile at src (rows sstride
// bytes apart) at dst (rows dstride bytes apart).
//
//go:noescape
func transpose512(dst, src *float32, dstride, sstride int)
