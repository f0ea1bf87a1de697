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
	"unsafe"
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
	// are numbers (codes, zip codes); Numeric columns read as numbers even
	// when their first value is a word (an error then, naming it).
	Categorical []string `json:"categorical,omitempty"`
	Numeric     []string `json:"numeric,omitempty"`
	// Keep, when not nil, keeps only the named columns (the others are
	// ignored): a file read for a fitted encoder (Encoder.ReadOptions).
	Keep []string `json:"-"`
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
	estimate := rowsEstimate(r, head)
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
	for _, m := range missing {
		p.longest = max(p.longest, len(m))
	}
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
			names[i] = strings.Clone(strings.TrimSpace(names[i]))
		}
		names[0] = strings.TrimPrefix(names[0], "\ufeff") // a UTF-8 byte-order mark (Excel's "CSV UTF-8")
		first = nil
		seen := map[string]int{}
		for i, n := range names {
			if j, dup := seen[n]; dup {
				return nil, fmt.Errorf("%w: %s: columns %d and %d are both named %q; name them apart", ErrFormat, name, j, i, n)
			}
			seen[n] = i
		}
	}
	keep, target, err := pick(name, names, opt)
	if err != nil {
		return nil, err
	}
	if opt.Keep != nil {
		for i, n := range names {
			keep[i] = keep[i] && slices.Contains(opt.Keep, n)
		}
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
		p.undecided[i] = t.Columns[i].Numeric && !slices.Contains(opt.Numeric, t.Columns[i].Name)
	}
	p.levels = make([]map[string]int32, len(t.Columns))
	for j := range t.Columns { // room for the rows the input's size suggests
		if t.Columns[j].Numeric {
			t.Columns[j].Values = make([]float32, 0, estimate)
		}
	}
	t.Lines = make([]int, 0, estimate)
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
				rec := make([]string, len(row))
				for i, f := range row {
					rec[i] = strings.Clone(f)
				}
				t.Records = append(t.Records, rec)
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

// rowsEstimate guesses the number of rows of r from its size, when it
// tells it (a file, a bytes or strings reader), and the lines of head; a
// slight overestimate (5%) spares the columns their growth copies.
func rowsEstimate(r io.Reader, head []byte) int {
	var size int64
	switch v := r.(type) {
	case interface{ Len() int }:
		size = int64(v.Len())
	case *os.File:
		if st, err := v.Stat(); err == nil {
			size = st.Size()
		}
	}
	lines := bytes.Count(head, []byte{'\n'})
	if size <= 0 || lines == 0 || size > 1<<40 {
		return 0
	}
	return int(float64(size) / float64(len(head)) * float64(lines) * 1.05)
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

// records returns the function that reads the next record and its line
// (from 1, after the skipped lines). The fields are valid until the next
// call: they may share the reader's buffer.
func records(r *bufio.Reader, delim rune) (func() ([]string, int, error), error) {
	if delim == '"' || delim == '\r' || delim == '\n' || !utf8.ValidRune(delim) {
		return nil, fmt.Errorf("delimiter %q is not usable", delim)
	}
	if delim >= utf8.RuneSelf {
		return csvRecords(r, delim), nil
	}
	rr := &recordReader{r: r, delim: byte(delim), spaces: delim == ' '}
	return rr.next, nil
}

// csvRecords reads every record through encoding/csv (for a delimiter
// that is not one byte).
func csvRecords(r io.Reader, delim rune) func() ([]string, int, error) {
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
	}
}

// recordReader splits plain lines at the delimiter in place, without
// copying them, and hands a record with quotes (which may span lines) to
// encoding/csv: RFC 4180 at the speed of a split.
type recordReader struct {
	r      *bufio.Reader
	delim  byte
	spaces bool // runs of spaces and tabs, no quoting
	line   int
	fields []string
	long   []byte // a line longer than the reader's buffer, or a quoted record
}

func (rr *recordReader) next() ([]string, int, error) {
	for {
		b, err := rr.readLine()
		if len(b) == 0 && err != nil {
			return nil, rr.line + 1, err
		}
		rr.line++
		start := rr.line
		if !rr.spaces && bytes.IndexByte(b, '"') >= 0 {
			return rr.quoted(b, start)
		}
		b = bytes.TrimRight(b, "\r\n")
		if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
			return nil, start, errors.New("not UTF-8 text (a NUL byte or an invalid sequence)")
		}
		if rr.split(b) {
			return rr.fields, start, nil
		}
		if err != nil {
			return nil, rr.line, err
		}
	}
}

// readLine returns the next line with its newline, in the reader's buffer
// when it fits.
func (rr *recordReader) readLine() ([]byte, error) {
	b, err := rr.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, err
	}
	rr.long = append(rr.long[:0], b...)
	for err == bufio.ErrBufferFull {
		b, err = rr.r.ReadSlice('\n')
		rr.long = append(rr.long, b...)
	}
	return rr.long, err
}

// split cuts the line into rr.fields, reporting false for a blank line.
func (rr *recordReader) split(b []byte) bool {
	rr.fields = rr.fields[:0]
	if rr.spaces {
		for {
			i := 0
			for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
				i++
			}
			b = b[i:]
			if len(b) == 0 {
				return len(rr.fields) > 0
			}
			j := 0
			for j < len(b) && b[j] != ' ' && b[j] != '\t' {
				j++
			}
			rr.fields = append(rr.fields, unsafeString(b[:j]))
			b = b[j:]
		}
	}
	if len(b) == 0 {
		return false // encoding/csv skips empty lines too
	}
	for {
		i := bytes.IndexByte(b, rr.delim)
		if i < 0 {
			rr.fields = append(rr.fields, unsafeString(b))
			return true
		}
		rr.fields = append(rr.fields, unsafeString(b[:i]))
		b = b[i+1:]
	}
}

// quoted reads the lines of a record with quotes until they balance and
// parses it with encoding/csv.
func (rr *recordReader) quoted(first []byte, start int) ([]string, int, error) {
	rec := append([]byte(nil), first...)
	for bytes.Count(rec, []byte{'"'})%2 == 1 {
		b, err := rr.readLine()
		if len(b) == 0 && err != nil {
			break // csv reports the unterminated quote
		}
		rr.line++
		rec = append(rec, b...)
	}
	c := csv.NewReader(bytes.NewReader(rec))
	c.Comma = rune(rr.delim)
	c.FieldsPerRecord = -1
	fields, err := c.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			pe.Line += start - 1
			pe.StartLine += start - 1
		}
		return nil, start, err
	}
	return fields, start, nil
}

// unsafeString views b as a string without copying; the string is valid
// while b is.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parser turns records into columns.
type parser struct {
	name      string
	missing   []string
	line      int                // lines skipped before the first record
	undecided []bool             // numeric columns with no number yet
	levels    []map[string]int32 // categorical columns: level → code
	longest   int                // the longest missing marker
	vals      []cell             // scratch: the row being added
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
	// Parse and check every cell first, so that a bad row changes nothing.
	p.vals = p.vals[:0]
	j := 0
	for i, raw := range row {
		if !keep[i] {
			continue
		}
		c := &t.Columns[j]
		s := strings.TrimSpace(raw)
		v, state := math.NaN(), uint8(cellWord)
		if p.isMissing(s) {
			state = cellMissing
		} else if c.Numeric {
			x, err := strconv.ParseFloat(s, 64)
			switch {
			case err == nil && (math.IsInf(x, 0) || math.IsNaN(x)):
				return fmt.Errorf("%w: %s line %d, column %q: %q is not a finite number", ErrFormat, p.name, line, c.Name, s)
			case err == nil && math.Abs(x) > math.MaxFloat32:
				return fmt.Errorf("%w: %s line %d, column %q: %q is beyond float32's range (±3.4e38), in which tables are kept", ErrFormat, p.name, line, c.Name, s)
			case err == nil:
				v, state = x, cellNumber
			case !p.undecided[j]:
				return fmt.Errorf("%w: %s line %d, column %q: %q is not a number, and the column's earlier values are; if the column is categorical, list it in Categorical (-categorical %s)",
					ErrFormat, p.name, line, c.Name, s, c.Name)
			}
		}
		p.vals = append(p.vals, cell{v, state, s})
		j++
	}
	for j, x := range p.vals {
		c := &t.Columns[j]
		if x.state == cellMissing {
			c.Missing++
		}
		if c.Numeric && x.state == cellWord { // the first value is a word: a categorical column
			c.Numeric = false
			c.Codes = make([]int32, len(c.Values), max(2*len(c.Values), 16))
			for k := range c.Codes {
				c.Codes[k] = -1 // the rows before were all missing
			}
			c.Values = nil
		}
		switch {
		case c.Numeric:
			c.Values = append(c.Values, float32(x.v))
			if x.state == cellNumber {
				p.undecided[j] = false
			}
		case x.state == cellMissing:
			c.Codes = append(c.Codes, -1)
		default:
			p.code(c, j, x.s)
		}
	}
	t.Lines = append(t.Lines, line)
	return nil
}

// isMissing reports whether a trimmed cell means "no value".
func (p *parser) isMissing(s string) bool {
	if len(s) > p.longest {
		return false
	}
	return slices.Contains(p.missing, s)
}

// cell is a parsed cell of the row being added.
type cell struct {
	v     float64
	state uint8
	s     string
}

const (
	cellWord = iota
	cellNumber
	cellMissing
)

// code appends the code of level s to column c (j), adding the level at its first appearance.
func (p *parser) code(c *Column, j int, s string) {
	if p.levels[j] == nil {
		p.levels[j] = map[string]int32{}
	}
	k, ok := p.levels[j][s]
	if !ok {
		s = strings.Clone(s) // s may share the reader's buffer
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
