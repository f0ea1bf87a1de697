package mnist

import (
	"fmt"
	"testing"
	"unsafe"
)

func benchGather[T float32 | float64](b *testing.B, batch int) {
	d := &Dataset{N: 1000, Rows: 28, Cols: 28, Pixels: make([]uint8, 1000*784), Labels: make([]uint8, 1000)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(i)
	}
	idx := make([]int, batch)
	for k := range idx {
		idx[k] = (k * 37) % d.N
	}
	x := make([]T, batch*784)
	y := make([]int, batch)
	var zero T
	b.SetBytes(int64(batch * 784 * (1 + int(unsafe.Sizeof(zero))))) // read bytes, write floats
	b.ReportAllocs()
	for b.Loop() {
		if err := Gather(d, idx, Standardize, x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGather(b *testing.B) {
	for _, batch := range []int{64, 256} {
		b.Run(fmt.Sprintf("float32/batch=%d", batch), func(b *testing.B) { benchGather[float32](b, batch) })
		b.Run(fmt.Sprintf("float64/batch=%d", batch), func(b *testing.B) { benchGather[float64](b, batch) })
	}
}
