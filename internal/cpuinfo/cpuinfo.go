package cpuinfo

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrUnknown is returned when the operating system does not report the
// CPU's features (no /proc/cpuinfo, or no flags line in it).
var ErrUnknown = errors.New("cpuinfo: the CPU's features are not known")

// Features returns the feature flags of the first CPU in /proc/cpuinfo
// ("avx2", "fma", "avx512f", …) with those GODEBUG turns off removed.
func Features() (map[string]bool, error) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	return parse(string(b), os.Getenv("GODEBUG"))
}

// parse reads the first "flags" line of a cpuinfo text and applies the
// cpu.* options of godebug.
func parse(cpuinfo, godebug string) (map[string]bool, error) {
	var flags map[string]bool
	for line := range strings.SplitSeq(cpuinfo, "\n") {
		name, val, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(val) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		return nil, fmt.Errorf("%w: no flags line in /proc/cpuinfo", ErrUnknown)
	}
	for opt := range strings.SplitSeq(godebug, ",") {
		f, ok := strings.CutPrefix(strings.TrimSpace(opt), "cpu.")
		if !ok {
			continue
		}
		name, v, _ := strings.Cut(f, "=")
		if v != "off" {
			continue
		}
		if name == "all" {
			clear(flags)
		}
		delete(flags, name)
	}
	return flags, nil
}
