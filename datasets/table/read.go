package table

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Options say how to read a table.
type Options struct {
	// NoHeader: the first line read is data, and the columns are named c0,
	// c1, …; by default it names the columns.
	NoHeader bool `json:"no_header,omitempty"`
	// Delimiter separates fields: ',', ';', '\t', or ' ' for runs of spaces
	// and tabs (no quoting then); 0 detects it from the first lines.
	Delimiter rune `json:"delimiter,omitempty"`
	// Skip leading lines before the header (a count line, a title).
	Skip int `json:"skip,omitempty"`
	// Target is the target column: its name, or its index from 0 (negative
	// from the end: -1 is the last column).
	Target string `json:"target"`
	// Ignore lists columns (names or indices) left out of the features.
	Ignore []string `json:"ignore,omitempty"`
	// Categorical lists columns read as categories although their values
	// are numbers (codes, zip codes).
	Categorical []string `json:"categorical,omitempty"`
	// Missing lists the cells that mean "no value"; nil means "", "NA",
	// "NaN" and "?".
	Missing []string `json:"missing,omitempty"`
	// Lenient (for predicting) records a row that cannot be read — a
	// ragged row, a word in a numeric column — in Table.Bad and goes on,
	// instead of failing; Records keeps every row's fields (Table.Records).
	Lenient bool `json:"-"`
	Records bool `json:"-"`
}

// DefaultMissing are the cells that mean "no value" when Options.Missing is nil.
var DefaultMissing = []string{"", "NA", "NaN", "?"}

// Column is one column of a table: numbers, or categories coded by their
// level. A missing cell is NaN (numbers) or -1 (categories).
type Column struct {
	Name    string
	Numeric bool
	Values  []float32 // numeric: one per row (parsed as float64, kept as float32: 7 significant digits)
	Codes   []int32   // categorical: an index into Levels per row
	Levels  []string  // categorical: the values in order of first appearance
	Missing int       // cells that were missing
}

// Table is a delimited text file read into columns.
type Table struct {
	File    string   // for messages
	Columns []Column // in the file's order, ignored columns left out
	Lines   []int    // the file line (from 1) of each row
	Target  int      // index of the target column in Columns; -1 when the file has none (predict)
	Header  []string // every column's name in the file (ignored ones too)
	// Records are the rows' fields as read (with Options.Records), Bad the
	// rows left out (with Options.Lenient).
	Records [][]string
	Bad     []RowError
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return len(t.Lines) }

// Names returns the column names.
func (t *Table) Names() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// ReadFile reads the table at path (gzip-compressed when it ends in .gz).
func ReadFile(path string, opt Options) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRead, path, err)
		}
		defer z.Close()
		r = z
	}
	return Read(r, path, opt)
}

// Read reads a table from r (RFC 4180 through encoding/csv: quoted fields
// with delimiters, quotes and newlines inside; or fields separated by runs
// of spaces). name names it in errors, which wrap ErrRead (a file that is
// not text), ErrFormat (ragged rows, a stray word in a numeric column, an
// empty file) or ErrColumn (an unknown target or ignored column) and give
// the line, the column and the value.
func Read(r io.Reader, name string, opt Options) (*Table, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	for i := range opt.Skip {
		if _, err := br.ReadString('\n'); err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("%w: %s: %d lines, all skipped (skip %d)", ErrFormat, name, i, opt.Skip)
			}
			return nil, fmt.Errorf("%w: %s: %w", ErrRead, name, err)
		}
	}
	head, _ := br.Peek(1 << 14)
	if err := checkText(name, head); err != nil {
		return nil, err
	}
	delim := opt.Delimiter
	if delim == 0 {
		delim = detect(head)
	}
	next, err := records(br, delim)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
	}
	missing := opt.Missing
	if missing == nil {
		missing = DefaultMissing
	}
	p := &parser{name: name, missing: missing, line: opt.Skip}
	first, line, err := next()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: %s is empty", ErrFormat, name)
	}
	if err != nil {
		return nil, p.fail(line, err)
	}
	var names []string
	if opt.NoHeader {
		for i := range first {
			names = append(names, "c"+strconv.Itoa(i))
		}
	} else {
		names = slices.Clone(first)
		for i := range names {
			names[i] = strings.TrimSpace(names[i])
		}
		first = nil
	}
	keep, target, err := pick(name, names, opt)
	if err != nil {
		return nil, err
	}
	t := &Table{File: name, Target: -1, Header: names}
	for i, n := range names {
		if keep[i] {
			if i == target {
				t.Target = len(t.Columns)
			}
			t.Columns = append(t.Columns, Column{Name: n, Numeric: !slices.Contains(opt.Categorical, n) && !slices.Contains(opt.Categorical, strconv.Itoa(i))})
		}
	}
	p.undecided = make([]bool, len(t.Columns))
	for i := range p.undecided {
		p.undecided[i] = t.Columns[i].Numeric
	}
	p.levels = make([]map[string]int32, len(t.Columns))
	row := first
	for {
		if row != nil {
			err := error(nil)
			if len(row) != len(names) {
				err = fmt.Errorf("%w: %s line %d: %d fields, want %d (the header's)", ErrFormat, name, line+opt.Skip, len(row), len(names))
			} else {
				err = p.add(t, keep, row, line)
			}
			switch {
			case err != nil && opt.Lenient:
				t.Bad = append(t.Bad, RowError{line + opt.Skip, err})
			case err != nil:
				return nil, err
			case opt.Records:
				t.Records = append(t.Records, slices.Clone(row))
			}
		}
		row, line, err = next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, p.fail(line, err)
		}
	}
	if t.Rows() == 0 {
		return nil, fmt.Errorf("%w: %s has a header and no rows", ErrFormat, name)
	}
	return t, nil
}

// checkText refuses bytes that are not text: a NUL, or invalid UTF-8.
func checkText(name string, head []byte) error {
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Errorf("%w: %s is not text (a NUL byte at offset %d)", ErrRead, name, i)
	}
	valid := head
	if len(head) == cap(head) || len(head) == 1<<14 { // a rune may be cut at the end
		for k := 0; k < utf8.UTFMax && len(valid) > 0 && !utf8.Valid(valid); k++ {
			valid = valid[:len(valid)-1]
		}
	}
	if !utf8.Valid(valid) {
		return fmt.Errorf("%w: %s is not UTF-8 text (convert it, e.g. with iconv)", ErrRead, name)
	}
	return nil
}

// detect picks the delimiter that splits the first lines into the same
// number (> 1) of fields: comma, semicolon, tab, else runs of spaces.
func detect(head []byte) rune {
	lines := strings.Split(strings.TrimRight(string(head), "\n"), "\n")
	if len(lines) > 1 && len(head) == 1<<14 {
		lines = lines[:len(lines)-1] // the last may be cut
	}
	lines = lines[:min(len(lines), 20)]
	for _, d := range []string{",", ";", "\t"} {
		n := strings.Count(lines[0], d)
		ok := n > 0
		for _, l := range lines[1:] {
			if strings.TrimSpace(l) != "" && strings.Count(l, d) != n {
				ok = false
			}
		}
		if ok {
			return rune(d[0])
		}
	}
	if len(strings.Fields(lines[0])) > 1 {
		return ' '
	}
	return ','
}

// records returns the function that reads the next record and its line.
func records(r *bufio.Reader, delim rune) (func() ([]string, int, error), error) {
	if delim == ' ' {
		line := 0
		return func() ([]string, int, error) {
			for {
				s, err := r.ReadString('\n')
				if s == "" && err != nil {
					return nil, line + 1, err
				}
				line++
				if f := strings.Fields(s); len(f) > 0 {
					return f, line, nil
				}
				if err != nil {
					return nil, line, err
				}
			}
		}, nil
	}
	if delim == '"' || delim == '\r' || delim == '\n' || !utf8.ValidRune(delim) {
		return nil, fmt.Errorf("delimiter %q is not usable", delim)
	}
	c := csv.NewReader(r)
	c.Comma = delim
	c.FieldsPerRecord = -1 // ragged rows are reported with the header's count
	c.ReuseRecord = true
	return func() ([]string, int, error) {
		rec, err := c.Read()
		if err != nil {
			return nil, 0, err // a csv.ParseError has its line
		}
		line, _ := c.FieldPos(0)
		return rec, line, nil
	}, nil
}

// parser turns records into columns.
type parser struct {
	name      string
	missing   []string
	line      int                // lines skipped before the first record
	undecided []bool             // numeric columns with no number yet
	levels    []map[string]int32 // categorical columns: level → code
}

func (p *parser) fail(line int, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %s line %d: %v", ErrFormat, p.name, p.line+pe.Line, pe.Err)
	}
	return fmt.Errorf("%w: %s line %d: %w", ErrRead, p.name, p.line+line, err)
}

func (p *parser) add(t *Table, keep []bool, row []string, line int) error {
	line += p.line
	// Check every cell first, so that a bad row changes nothing.
	j := 0
	for i, cell := range row {
		if !keep[i] {
			continue
		}
		c := &t.Columns[j]
		s := strings.TrimSpace(cell)
		if c.Numeric && !slices.Contains(p.missing, s) {
			x, err := strconv.ParseFloat(s, 64)
			switch {
			case err == nil && (math.IsInf(x, 0) || math.IsNaN(x)):
				return fmt.Errorf("%w: %s line %d, column %q: %q is not a finite number", ErrFormat, p.name, line, c.Name, s)
			case err != nil && !p.undecided[j]:
				return fmt.Errorf("%w: %s line %d, column %q: %q is not a number, and the column's earlier values are; if the column is categorical, list it in Categorical (-categorical %s)",
					ErrFormat, p.name, line, c.Name, s, c.Name)
			}
		}
		j++
	}
	j = 0
	for i, cell := range row {
		if !keep[i] {
			continue
		}
		c := &t.Columns[j]
		s := strings.TrimSpace(cell)
		miss := slices.Contains(p.missing, s)
		if miss {
			c.Missing++
		}
		if c.Numeric {
			v := float32(math.NaN())
			if !miss {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil { // the first value is a word: a categorical column
					c.Numeric = false
					c.Codes = make([]int32, len(c.Values), max(len(c.Values), 16))
					for k := range c.Codes {
						c.Codes[k] = -1 // the rows before were all missing
					}
					c.Values = nil
					p.levels[j] = map[string]int32{}
					p.code(c, j, s)
					j++
					continue
				}
				v = float32(x)
				p.undecided[j] = false
			}
			c.Values = append(c.Values, v)
		} else {
			if p.levels[j] == nil {
				p.levels[j] = map[string]int32{}
			}
			if miss {
				c.Codes = append(c.Codes, -1)
			} else {
				p.code(c, j, s)
			}
		}
		j++
	}
	t.Lines = append(t.Lines, line)
	return nil
}

// code appends the code of level s to column c (j), adding the level at its first appearance.
func (p *parser) code(c *Column, j int, s string) {
	k, ok := p.levels[j][s]
	if !ok {
		k = int32(len(c.Levels))
		c.Levels = append(c.Levels, s)
		p.levels[j][s] = k
	}
	c.Codes = append(c.Codes, k)
}

// pick resolves the target and the ignored columns against the names.
func pick(file string, names []string, opt Options) (keep []bool, target int, err error) {
	index := func(what, ref string) (int, error) {
		if i := slices.Index(names, ref); i >= 0 {
			return i, nil
		}
		if n, err := strconv.Atoi(ref); err == nil {
			if n < 0 {
				n += len(names)
			}
			if n >= 0 && n < len(names) {
				return n, nil
			}
		}
		return 0, fmt.Errorf("%w: %s: %s column %q is not a column; the columns are %s (or an index from 0 to %d)",
			ErrColumn, file, what, ref, strings.Join(names, ", "), len(names)-1)
	}
	keep = make([]bool, len(names))
	for i := range keep {
		keep[i] = true
	}
	for _, ref := range opt.Ignore {
		i, err := index("ignored", ref)
		if err != nil {
			return nil, 0, err
		}
		keep[i] = false
	}
	target = -1
	if opt.Target != "" {
		if target, err = index("target", opt.Target); err != nil {
			return nil, 0, err
		}
		if !keep[target] {
			return nil, 0, fmt.Errorf("%w: %s: the target column %q is also ignored", ErrColumn, file, opt.Target)
		}
	}
	return keep, target, nil
}
