package table_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/table"
)

func read(t *testing.T, text string, opt table.Options) *table.Table {
	t.Helper()
	tb, err := table.Read(strings.NewReader(text), "t.csv", opt)
	require.NoError(t, err)
	return tb
}

func TestReadRFC4180AndDelimiters(t *testing.T) {
	quoted := "name,price,city\n\"Smith, J\",12.5,\"New\nYork\"\nLee,7,\"say \"\"hi\"\"\"\n"
	tb := read(t, quoted, table.Options{Target: "price"})
	require.Equal(t, 2, tb.Rows())
	assert.Equal(t, []string{"name", "price", "city"}, tb.Names())
	assert.Equal(t, []string{"Smith, J", "Lee"}, tb.Columns[0].Levels, "a quoted comma")
	assert.Equal(t, []string{"New\nYork", `say "hi"`}, tb.Columns[2].Levels, "a quoted newline and quotes")
	assert.Equal(t, []float32{12.5, 7}, tb.Columns[1].Values)
	assert.Equal(t, []int{2, 4}, tb.Lines, "the second record starts on line 4")
	assert.Equal(t, 1, tb.Target)

	for name, text := range map[string]string{
		"semicolon": "a;b;y\n1;2;3\n4;5;6\n",
		"tab":       "a\tb\ty\n1\t2\t3\n4\t5\t6\n",
		"spaces":    "a  b y\n 1 2    3\n4 5 6\n",
		"comma":     "a,b,y\n1,2,3\n4,5,6\n",
	} {
		t.Run(name, func(t *testing.T) {
			tb := read(t, text, table.Options{Target: "y"})
			assert.Equal(t, []string{"a", "b", "y"}, tb.Names())
			assert.Equal(t, []float32{3, 6}, tb.Columns[2].Values)
		})
	}
	// A count line to skip, no header, the target by a negative index, an ignored column.
	tb = read(t, "2,3,a,b\n1,9,0.5,x\n2,8,1.5,y\n", table.Options{Skip: 1, NoHeader: true, Target: "-1", Ignore: []string{"1"}})
	assert.Equal(t, []string{"c0", "c2", "c3"}, tb.Names())
	assert.Equal(t, 2, tb.Target)
	assert.Equal(t, []int{2, 3}, tb.Lines)
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		name, text string
		opt        table.Options
		is         error
		says       string
	}{
		{"empty", "", table.Options{}, table.ErrFormat, "t.csv is empty"},
		{"header-only", "a,b\n", table.Options{}, table.ErrFormat, "has a header and no rows"},
		{"ragged", "a,b\n1,2\n3\n", table.Options{}, table.ErrFormat, "t.csv line 3: 1 fields, want 2"},
		{"stray-word", "a,b\n1,2\n3,4\nfive,6\n", table.Options{}, table.ErrFormat, `line 4, column "a": "five" is not a number, and the column's earlier values are; if the column is categorical`},
		{"inf", "a,b\n1,2\nInf,4\n", table.Options{}, table.ErrFormat, `line 3, column "a": "Inf" is not a finite number`},
		{"no-target", "a,b\n1,2\n", table.Options{Target: "price"}, table.ErrColumn, `target column "price" is not a column; the columns are a, b`},
		{"no-ignored", "a,b\n1,2\n", table.Options{Ignore: []string{"7"}}, table.ErrColumn, `ignored column "7"`},
		{"binary", "a,b\n1,\x00\x01\x02\n", table.Options{}, table.ErrRead, "is not text (a NUL byte"},
		{"latin1", "name,b\nJos\xe9,2\n", table.Options{}, table.ErrRead, "is not UTF-8 text"},
		{"bad-quote", "a,b\n\"1,2\n", table.Options{}, table.ErrFormat, "line"},
		{"skip-all", "a,b\n", table.Options{Skip: 3}, table.ErrFormat, "all skipped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := table.Read(strings.NewReader(c.text), "t.csv", c.opt)
			require.ErrorIs(t, err, c.is)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestLenientKeepsGoodRows(t *testing.T) {
	tb := read(t, "a,b\n1,2\n3\nx,4\n5,6\n", table.Options{Lenient: true, Records: true})
	assert.Equal(t, 2, tb.Rows())
	assert.Equal(t, [][]string{{"1", "2"}, {"5", "6"}}, tb.Records)
	require.Len(t, tb.Bad, 2)
	assert.Equal(t, 3, tb.Bad[0].Line)
	assert.Equal(t, 4, tb.Bad[1].Line)
	assert.Equal(t, []float32{1, 5}, tb.Columns[0].Values, "a bad row changes no column")
}

func TestEncoder(t *testing.T) {
	text := "size,color,price\n1,red,10\n2,blue,20\nNA,red,30\n4,green,40\n5,blue,50\n"
	tb := read(t, text, table.Options{Target: "price"})
	_, err := table.Fit(tb, []int{0, 1, 2, 3}, "", false)
	require.ErrorIs(t, err, table.ErrFormat)
	assert.Contains(t, err.Error(), `t.csv line 4, column "size": missing value (impute it with -impute`)

	e, err := table.Fit(tb, []int{0, 1, 2}, "", true)
	require.NoError(t, err)
	assert.Equal(t, table.Classification, e.Target.Task, "integers with at most MaxIntClasses values are classes")
	assert.Equal(t, []string{"10", "20", "30"}, e.Target.Classes)
	_, labels, _, bad, err := e.Encode(tb, table.All(5))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 0, 0}, labels)
	require.Len(t, bad, 2, "classes 40 and 50 were not in the training rows")
	assert.Equal(t, 5, bad[0].Line)
	assert.Contains(t, bad[0].Err.Error(), `the target "price" is "40", not one of the training classes 10, 20, 30`)
}

func TestTaskRule(t *testing.T) {
	ints := "x,y\n1,0\n2,1\n3,2\n4,1\n"
	e, err := table.Fit(read(t, ints, table.Options{Target: "y"}), table.All(4), "", false)
	require.NoError(t, err)
	assert.Equal(t, table.Classification, e.Target.Task)
	assert.Equal(t, []string{"0", "1", "2"}, e.Target.Classes)
	e, err = table.Fit(read(t, "x,y\n1,0.5\n2,1\n3,2\n", table.Options{Target: "y"}), table.All(3), "", false)
	require.NoError(t, err)
	assert.Equal(t, table.Regression, e.Target.Task, "a fractional value")
	e, err = table.Fit(read(t, ints, table.Options{Target: "y"}), table.All(4), table.Regression, false)
	require.NoError(t, err)
	assert.Equal(t, table.Regression, e.Target.Task, "-task overrides")
	labels := "x,y\n1,cat\n2,dog\n3,cat\n"
	e, err = table.Fit(read(t, labels, table.Options{Target: "y"}), table.All(3), "", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"cat", "dog"}, e.Target.Classes, "categorical: order of first appearance")
	_, err = table.Fit(read(t, labels, table.Options{Target: "y"}), table.All(3), table.Regression, false)
	assert.ErrorIs(t, err, table.ErrFormat)
	_, err = table.Fit(read(t, "x,y\n1,a\n2,a\n", table.Options{Target: "y"}), table.All(2), "", false)
	require.ErrorIs(t, err, table.ErrFormat)
	assert.Contains(t, err.Error(), `the target "y" has one class (a)`)
}

func TestEncodeOneHotUnseenAndImpute(t *testing.T) {
	text := "size,color,price\n1,red,10.5\n3,blue,20\n,red,30\n4,green,40\n"
	tb := read(t, text, table.Options{Target: "price"})
	e, err := table.Fit(tb, []int{0, 1, 2}, "", true)
	require.NoError(t, err)
	assert.Equal(t, table.Regression, e.Target.Task)
	require.Len(t, e.Features, 2)
	assert.Equal(t, 2.0, e.Features[0].Fill, "the training mean of 1 and 3")
	assert.True(t, e.Features[0].Indicator)
	assert.Equal(t, []string{"red", "blue"}, e.Features[1].Levels, "levels of the training rows, first appearance")
	assert.Equal(t, []string{"size", "size(missing)", "color=red", "color=blue", "color=(unseen)"}, e.Inputs())
	x, labels, values, bad, err := e.Encode(tb, table.All(4))
	require.NoError(t, err)
	assert.Empty(t, bad)
	assert.Nil(t, labels)
	assert.Equal(t, []float32{10.5, 20, 30, 40}, values)
	assert.Equal(t, []float32{
		1, 0, 1, 0, 0,
		3, 0, 0, 1, 0,
		2, 1, 1, 0, 0, // imputed size, indicator
		4, 0, 0, 0, 1, // green: unseen in training
	}, x)
	d, err := e.Dataset(tb, []int{3})
	require.NoError(t, err)
	assert.Equal(t, tensor.Float32, d.Target().Dtype)
	assert.Equal(t, []int{5}, d.Input().Shape)

	// Another file, columns in another order, a missing column.
	other := read(t, "color,size\nblue,2\n", table.Options{})
	x, _, _, bad, err = e.Encode(other, table.All(1))
	require.NoError(t, err)
	assert.Empty(t, bad)
	assert.Equal(t, []float32{2, 0, 0, 1, 0}, x)
	_, _, _, _, err = e.Encode(read(t, "color\nblue\n", table.Options{}), table.All(1))
	require.ErrorIs(t, err, table.ErrColumn)
	assert.Contains(t, err.Error(), `has no column "size"`)
}

func TestSplitsAndFolds(t *testing.T) {
	tr, te, err := table.Split(10, 0.2, 1)
	require.NoError(t, err)
	assert.Len(t, tr, 8)
	assert.Len(t, te, 2)
	tr2, te2, _ := table.Split(10, 0.2, 1)
	assert.Equal(t, tr, tr2, "seeded")
	assert.Equal(t, te, te2)
	_, _, err = table.Split(10, 1, 1)
	assert.ErrorIs(t, err, table.ErrFormat)
	seen := map[int]int{}
	for k := range 3 {
		tr, te, err := table.Folds(10, k, 3, 7)
		require.NoError(t, err)
		assert.Len(t, tr, 10-len(te))
		for _, r := range te {
			seen[r]++
		}
	}
	assert.Len(t, seen, 10, "every row is in one fold's test rows")
	for _, n := range seen {
		assert.Equal(t, 1, n)
	}
}

func TestReadRefusesMore(t *testing.T) {
	for name, c := range map[string]struct {
		text, says string
	}{
		"duplicate names": {"a,a,y\n1,2,3\n", `columns 0 and 1 are both named "a"`},
		"beyond float32":  {"a,y\n1e39,2\n", `"1e39" is beyond float32's range`},
		"NUL later":       {"a,y\n" + strings.Repeat("1,2\n", 5000) + "1,\x00\n", "line 5002: not UTF-8 text"},
		"latin-1 later":   {"a,y\n" + strings.Repeat("1,2\n", 5000) + "caf\xe9,2\n", "line 5002: not UTF-8 text"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := table.Read(strings.NewReader(c.text), "t.csv", table.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
	tb := read(t, "\ufeffa,y\n1,2\n", table.Options{Target: "a"})
	assert.Equal(t, "a", tb.Columns[0].Name, "a byte-order mark is not part of the first name")
}

// TestReadOptionsKeepTheEncodersKinds: another file is read as the encoder
// takes its columns, not as its own values suggest: codes that happen to be
// numbers stay categories ("007" is not 7), a word in a numeric column is an
// error even in the first row, and unused columns are not read at all.
func TestReadOptionsKeepTheEncodersKinds(t *testing.T) {
	tb := read(t, "code,x,y\nA1,1,0\n007,2,1\n1000000,3,0\nA1,4,1\n", table.Options{Target: "y"})
	e, err := table.Fit(tb, table.All(4), "", false)
	require.NoError(t, err)
	require.Equal(t, []string{"A1", "007", "1000000"}, e.Features[0].Levels)
	other, err := table.Read(strings.NewReader("notes,code,x\nhello,007,5\nworld,1000000,6\n"), "o.csv", e.ReadOptions(table.Options{}, false))
	require.NoError(t, err)
	assert.Equal(t, []string{"code", "x"}, other.Names(), "notes is not the encoder's")
	x, _, _, bad, err := e.Encode(other, table.All(2))
	require.NoError(t, err)
	assert.Empty(t, bad)
	assert.Equal(t, []float32{0, 1, 0, 0, 5, 0, 0, 1, 0, 6}, x, "one-hot on the training levels, not unseen")
	_, err = table.Read(strings.NewReader("code,x\nA1,oops\n"), "o.csv", e.ReadOptions(table.Options{}, false))
	require.ErrorIs(t, err, table.ErrFormat)
	assert.Contains(t, err.Error(), `column "x": "oops" is not a number`)
}

func TestClassesOfTheTrainingRows(t *testing.T) {
	tb := read(t, "x,y\n1,yes\n2,yes\n3,no\n", table.Options{Target: "y"})
	_, err := table.Fit(tb, []int{0, 1}, "", false)
	require.ErrorIs(t, err, table.ErrFormat, "the training rows hold one class; the test row's does not count")
	assert.Contains(t, err.Error(), "has one class (yes)")
}
