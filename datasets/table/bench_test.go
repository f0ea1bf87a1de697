package table_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/gradlab/gradlab/datasets/table"
)

// numericCSV returns a CSV of rows × cols numbers (a header, then values
// with 6 significant digits).
func numericCSV(rows, cols int) []byte {
	rng := rand.New(rand.NewPCG(1, 1))
	var b bytes.Buffer
	for j := range cols {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "f%d", j)
	}
	b.WriteByte('\n')
	buf := make([]byte, 0, 32)
	for range rows {
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			buf = strconv.AppendFloat(buf[:0], rng.NormFloat64()*100, 'g', 6, 64)
			b.Write(buf)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkReadCSV reads a numeric CSV of 1,000,000 rows × 50 columns
// (SetBytes: the file's size). heap-MB is the heap's growth over a read,
// against the 200 MB of the table's float32 matrix; B/op, everything a
// read allocates, bounds its peak memory from above.
func BenchmarkReadCSV(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d/cols=50", rows), func(b *testing.B) {
			data := numericCSV(rows, 50)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				t, err := table.Read(bytes.NewReader(data), "bench.csv", table.Options{Target: "f49"})
				if err != nil {
					b.Fatal(err)
				}
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				if d := after.HeapAlloc - before.HeapAlloc; d > peak {
					peak = d
				}
				runtime.KeepAlive(t)
			}
			b.ReportMetric(float64(peak)/1e6, "heap-MB")
			b.ReportMetric(float64(rows*50*4)/1e6, "float32-matrix-MB")
		})
	}
}
