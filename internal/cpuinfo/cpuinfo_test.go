package cpuinfo

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	const info = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f\n\nprocessor\t: 1\nflags\t\t: fpu\n"
	for _, c := range []struct {
		godebug string
		want    []string
		gone    []string
	}{
		{"", []string{"fpu", "avx2", "fma", "avx512f"}, nil},
		{"cpu.avx512f=off", []string{"avx2", "fma"}, []string{"avx512f"}},
		{"madvdontneed=1,cpu.avx512f=off,cpu.avx2=off,cpu.fma=off", []string{"fpu", "sse2"}, []string{"avx2", "fma", "avx512f"}},
		{"cpu.avx2=on", []string{"avx2"}, nil},
		{"cpu.all=off", nil, []string{"fpu", "avx2"}},
	} {
		f, err := parse(info, c.godebug)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !f[w] {
				t.Errorf("GODEBUG=%q: %s missing from %v", c.godebug, w, f)
			}
		}
		for _, g := range c.gone {
			if f[g] {
				t.Errorf("GODEBUG=%q: %s should be off", c.godebug, g)
			}
		}
	}
	if _, err := parse("processor\t: 0\n", ""); !errors.Is(err, ErrUnknown) {
		t.Errorf("no flags line: got %v, want ErrUnknown", err)
	}
}
