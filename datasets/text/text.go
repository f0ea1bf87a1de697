package text

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets"
)

// Vocab is a byte-level vocabulary: Bytes[id] is the byte of token id.
type Vocab struct {
	Bytes []byte `json:"bytes"`
}

// NewVocab returns the vocabulary of the distinct bytes of data, in byte order.
func NewVocab(data []byte) Vocab {
	var seen [256]bool
	for _, b := range data {
		seen[b] = true
	}
	var v Vocab
	for b, ok := range seen {
		if ok {
			v.Bytes = append(v.Bytes, byte(b))
		}
	}
	return v
}

// Size returns the number of tokens.
func (v Vocab) Size() int { return len(v.Bytes) }

// Encode returns the token ids of data; bytes outside the vocabulary are
// an error that lists them (quoted).
func (v Vocab) Encode(data []byte) ([]int, error) {
	var id [256]int
	for i := range id {
		id[i] = -1
	}
	for i, b := range v.Bytes {
		id[b] = i
	}
	out := make([]int, len(data))
	var missing []byte
	for i, b := range data {
		if out[i] = id[b]; out[i] < 0 && !slices.Contains(missing, b) {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		q := make([]string, len(missing))
		for i, b := range missing {
			q[i] = strconv.QuoteToASCII(string([]byte{b}))
		}
		return nil, fmt.Errorf("%w: %s are not among the %d bytes the model knows", ErrVocab, strings.Join(q, ", "), v.Size())
	}
	return out, nil
}

// Decode returns the bytes of token ids (an id out of range is '?').
func (v Vocab) Decode(ids []int) []byte {
	out := make([]byte, len(ids))
	for i, id := range ids {
		out[i] = '?'
		if id >= 0 && id < len(v.Bytes) {
			out[i] = v.Bytes[id]
		}
	}
	return out
}

// Corpus is a text as token ids, cut into a training part and a held-out
// span (the file's end).
type Corpus struct {
	Vocab       Vocab
	Train, Held []int
}

// Load reads the text at path and holds out its last heldFrac (0 < f < 1)
// as a contiguous span. It refuses an empty or missing file and, unless
// binary is set, one that is not UTF-8 text (a NUL byte, invalid UTF-8).
func Load(path string, heldFrac float64, binary bool) (*Corpus, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrText, err)
	}
	return New(data, path, heldFrac, binary)
}

// New is Load for text in memory; name names it in errors.
func New(data []byte, name string, heldFrac float64, binary bool) (*Corpus, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrText, name)
	}
	if !binary {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return nil, fmt.Errorf("%w: %s is binary (a NUL byte at offset %d); byte-level modelling still works if asked for explicitly (-binary)", ErrText, name, i)
		}
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: %s is not UTF-8 text; byte-level modelling still works if asked for explicitly (-binary)", ErrText, name)
		}
	}
	if !(heldFrac > 0 && heldFrac < 1) {
		return nil, fmt.Errorf("%w: held-out fraction %v, want 0 < f < 1", ErrText, heldFrac)
	}
	v := NewVocab(data)
	ids, _ := v.Encode(data)
	cut := len(ids) - int(float64(len(ids))*heldFrac)
	return &Corpus{Vocab: v, Train: ids[:cut], Held: ids[cut:]}, nil
}

// Windows is a Dataset of the non-overlapping windows of a span: example i
// is ids[i·T : i·T+T] (input token ids, (T)) with the targets
// ids[i·T+1 : i·T+T+1] (the next byte at every position). No window
// straddles the span's end; the trainer's seeded shuffle orders them.
type Windows struct {
	ids     []int
	context int
	vocab   int
}

// NewWindows returns the windows of context T over ids (tokens of a
// vocabulary of the given size); ids must hold at least two windows' worth.
func NewWindows(ids []int, context, vocab int) (*Windows, error) {
	if context < 1 {
		return nil, fmt.Errorf("%w: context %d, want ≥ 1", ErrText, context)
	}
	if len(ids) < 2*context+1 {
		return nil, fmt.Errorf("%w: %d tokens make fewer than two windows of %d (with their targets)", ErrText, len(ids), context)
	}
	return &Windows{ids: ids, context: context, vocab: vocab}, nil
}

// Len returns the number of windows.
func (w *Windows) Len() int { return (len(w.ids) - 1) / w.context }

// Input is int (T) token ids.
func (w *Windows) Input() datasets.Field {
	return datasets.Field{Dtype: tensor.Int, Shape: []int{w.context}, Classes: w.vocab}
}

// Target is int (T) next-token ids.
func (w *Windows) Target() datasets.Field {
	return datasets.Field{Dtype: tensor.Int, Shape: []int{w.context}, Classes: w.vocab}
}

// Gather copies windows idx and their shifted targets into x and y.
func (w *Windows) Gather(idx []int, x, y *tensor.Dense) error {
	if err := datasets.CheckBatch(x, y, len(idx), w.Input(), w.Target()); err != nil {
		return err
	}
	xs, ys, t := x.Ints(), y.Ints(), w.context
	for k, i := range idx {
		if i < 0 || i >= w.Len() {
			return fmt.Errorf("%w: Gather: window %d at position %d outside 0..%d", datasets.ErrArgument, i, k, w.Len()-1)
		}
		copy(xs[k*t:(k+1)*t], w.ids[i*t:i*t+t])
		copy(ys[k*t:(k+1)*t], w.ids[i*t+1:i*t+t+1])
	}
	return nil
}
