package simd

// Path is one implementation of a kernel.
type Path uint8

const (
	Go     Path = iota // the pure-Go loops (everywhere)
	AVX2               // AVX2 + FMA
	AVX512             // AVX-512F
)

// String is the path's name: "go", "avx2" or "avx512".
func (p Path) String() string {
	switch p {
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return "go"
}
