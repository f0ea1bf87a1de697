package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSplit checks the exported split on a small table: the training and
// test rows partition the file's rows (⌈0.2·n⌉ test rows), each exported
// row is the file's row (a numeric column as read, a categorical one
// one-hot), and the validation positions are distinct training positions.
func TestSplit(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,colour,y\n")
	colours := []string{"red", "green", "blue"}
	const n = 20
	for i := range n {
		b.WriteString(strconv.Itoa(10*i) + "," + colours[i%3] + "," + []string{"no", "yes"}[i%2] + "\n")
	}
	path := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run([]string{"-data", path, "-target", "y", "-seed", "3", "-val", "4"}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	var s Split
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Task != "classification" || !slices.Equal(s.Classes, []string{"no", "yes"}) {
		t.Errorf("task %q classes %q, want classification [no yes]", s.Task, s.Classes)
	}
	if len(s.TestRows) != 4 || len(s.TrainRows) != n-4 {
		t.Fatalf("%d train, %d test rows, want %d and 4", len(s.TrainRows), len(s.TestRows), n-4)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(s.TrainRows), s.TestRows...)))
	for i, r := range all {
		if r != i {
			t.Fatalf("train ∪ test rows %v, want 0..%d once each", all, n-1)
		}
	}
	if len(s.Features) != 5 || len(s.XTrain[0]) != 5 { // a, 3 colours and the unseen bucket
		t.Fatalf("features %q (%d values a row), want a, 3 colours and (unseen)", s.Features, len(s.XTrain[0]))
	}
	check := func(rows []int, x [][]float32, y []float64) {
		for k, r := range rows {
			if x[k][0] != float32(10*r) || y[k] != float64(r%2) {
				t.Errorf("row %d: a %v, y %v; want %d, %d", r, x[k][0], y[k], 10*r, r%2)
			}
			var hot float32
			for _, v := range x[k][1:] {
				hot += v
			}
			if hot != 1 {
				t.Errorf("row %d: colour one-hot %v", r, x[k][1:])
			}
		}
	}
	check(s.TrainRows, s.XTrain, s.YTrain)
	check(s.TestRows, s.XTest, s.YTest)
	if len(s.Val) != 4 || !slices.IsSorted(s.Val) || len(slices.Compact(slices.Clone(s.Val))) != 4 || s.Val[0] < 0 || s.Val[3] >= len(s.TrainRows) {
		t.Errorf("validation positions %v, want 4 distinct sorted positions in 0..%d", s.Val, len(s.TrainRows)-1)
	}
	// another seed, another split
	out.Reset()
	if err := run([]string{"-data", path, "-target", "y", "-seed", "4"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var s2 Split
	if err := json.Unmarshal(out.Bytes(), &s2); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(s.TestRows, s2.TestRows) {
		t.Errorf("seeds 3 and 4 give the same test rows %v", s.TestRows)
	}
}

// TestRegression checks a regressor's exported values.
func TestRegression(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.txt")
	if err := os.WriteFile(path, []byte("1 2.5\n2 3.25\n3 -1\n4 8\n5 0.125\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run([]string{"-data", path, "-no-header", "-target", "-1"}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	var s Split
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	want := map[float32]float64{1: 2.5, 2: 3.25, 3: -1, 4: 8, 5: 0.125}
	if s.Task != "regression" || len(s.TestRows) != 1 {
		t.Fatalf("task %q, %d test rows", s.Task, len(s.TestRows))
	}
	for k := range s.TrainRows {
		if v := want[s.XTrain[k][0]]; math.Abs(v-s.YTrain[k]) > 0 {
			t.Errorf("row %v: y %v, want %v", s.XTrain[k], s.YTrain[k], v)
		}
	}
}

func TestErrors(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"-data", "x.csv"}, {"-data", "/nonexistent.csv", "-target", "y"}, {"-target", "y", "extra"}} {
		if err := run(args, &out, &errb); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
