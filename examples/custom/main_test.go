package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCustomModelLearns runs the program (about 20 s on 2 cores) and checks
// its last line: test accuracy ≥ 97%.
func TestCustomModelLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 20 s")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = f
	main()
	os.Stdout = stdout
	f.Close()
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	pct, ok := strings.CutPrefix(last, "test accuracy ")
	acc, err := strconv.ParseFloat(strings.TrimSuffix(pct, "%"), 64)
	if !ok || err != nil {
		t.Fatalf("last line %q is not \"test accuracy NN.NN%%\"", last)
	}
	if acc < 97 {
		t.Errorf("test accuracy %.2f%%, want ≥ 97%%\n%s", acc, out)
	}
	if !strings.Contains(string(out), "res         func") || !strings.Contains(string(out), "epoch 4/4") {
		t.Errorf("want the summary and a line per epoch:\n%s", out)
	}
}
