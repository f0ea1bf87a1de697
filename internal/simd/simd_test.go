package simd

import (
	"runtime"
	"slices"
	"testing"

	"github.com/gradlab/gradlab/internal/cpuinfo"
)

// TestPaths checks the paths against the operating system's CPU flags less
// GODEBUG's (package cpuinfo, which does not use x/sys/cpu).
func TestPaths(t *testing.T) {
	want := []Path{}
	if runtime.GOARCH == "amd64" {
		f, err := cpuinfo.Features()
		if err != nil {
			t.Skipf("cannot check the paths against the OS's CPU flags: %v", err)
		}
		if f["avx512f"] {
			want = append(want, AVX512)
		}
		if f["avx2"] && f["fma"] {
			want = append(want, AVX2)
		}
	}
	want = append(want, Go)
	if got := Paths(); !slices.Equal(got, want) {
		t.Fatalf("Paths() = %v, want %v", got, want)
	}
	for p, name := range map[Path]string{Go: "go", AVX2: "avx2", AVX512: "avx512"} {
		if p.String() != name {
			t.Errorf("%d.String() = %q, want %q", p, p.String(), name)
		}
	}
}
