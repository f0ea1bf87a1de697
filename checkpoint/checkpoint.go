package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"unsafe"

	"github.com/gradlab/gradlab/internal/atomicfile"

	"gorgonia.org/tensor"
)

// Version is the format version this package writes and reads.
const Version = 1

// maxHeader bounds the JSON header: a larger length field is corruption.
const maxHeader = 100 << 20

// File is the content of a checkpoint: named tensors and string metadata.
type File struct {
	Tensors  map[string]*tensor.Dense
	Metadata map[string]string
}

type entry struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

var dtypes = map[tensor.Dtype]string{tensor.Float32: "F32", tensor.Float64: "F64", tensor.Int64: "I64"}

// Encode returns f in the safetensors layout. Metadata keys "format",
// "version" and "sha256" are set by Encode.
func Encode(f *File) ([]byte, error) {
	names := slices.Sorted(maps.Keys(f.Tensors))
	header := map[string]any{}
	var data bytes.Buffer
	for _, name := range names {
		t := f.Tensors[name]
		if t == nil {
			return nil, fmt.Errorf("%w: tensor %q is nil", ErrCorrupt, name)
		}
		code, ok := dtypes[t.Dtype()]
		if !ok {
			return nil, fmt.Errorf("%w: tensor %q has dtype %v (want float32, float64 or int64)", ErrDtype, name, t.Dtype())
		}
		b := rawBytes(t)
		begin := int64(data.Len())
		data.Write(b)
		shape := []int(t.Shape())
		if t.Shape().IsScalar() {
			shape = []int{}
		}
		header[name] = entry{Dtype: code, Shape: shape, Offsets: [2]int64{begin, int64(data.Len())}}
	}
	sum := sha256.Sum256(data.Bytes())
	meta := map[string]string{}
	maps.Copy(meta, f.Metadata)
	meta["format"] = "gradlab"
	meta["version"] = strconv.Itoa(Version)
	meta["sha256"] = hex.EncodeToString(sum[:])
	header["__metadata__"] = meta
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("%w: encode header: %w", ErrCorrupt, err)
	}
	// Pad the header with spaces to 8 bytes, as the reference writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	out := make([]byte, 8, 8+len(hj)+data.Len())
	binary.LittleEndian.PutUint64(out, uint64(len(hj)))
	out = append(out, hj...)
	return append(out, data.Bytes()...), nil
}

// rawBytes returns the little-endian bytes of t's data (amd64 and arm64 are
// little-endian, the only targets gradlab builds for).
func rawBytes(t *tensor.Dense) []byte {
	switch d := t.Data().(type) {
	case []float32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), 4*len(d))
	case []float64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), 8*len(d))
	case []int64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), 8*len(d))
	case float32:
		return binary.LittleEndian.AppendUint32(nil, math.Float32bits(d))
	case float64:
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(d))
	case int64:
		return binary.LittleEndian.AppendUint64(nil, uint64(d))
	}
	return nil
}

// Decode parses a checkpoint held in memory; name is used in error messages.
func Decode(name string, b []byte) (*File, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, name, fmt.Sprintf(format, args...))
	}
	if len(b) < 8 {
		return nil, bad("%d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, bad("header length %d does not fit in %d bytes", n, len(b)-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, bad("header is not JSON: %v", err)
	}
	data := b[8+n:]
	f := &File{Tensors: map[string]*tensor.Dense{}, Metadata: map[string]string{}}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return nil, bad("__metadata__ is not an object of strings: %v", err)
		}
		delete(raw, "__metadata__")
	}
	if f.Metadata["format"] != "gradlab" {
		return nil, bad("metadata format is %q, want \"gradlab\"", f.Metadata["format"])
	}
	if v := f.Metadata["version"]; v != strconv.Itoa(Version) {
		return nil, fmt.Errorf("%w: %s: version %q, this build reads %d", ErrVersion, name, v, Version)
	}
	sum := sha256.Sum256(data)
	if f.Metadata["sha256"] != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("%w: %s: data SHA-256 is %x, header says %s", ErrChecksum, name, sum, f.Metadata["sha256"])
	}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for _, tn := range slices.Sorted(maps.Keys(raw)) {
		var e entry
		if err := json.Unmarshal(raw[tn], &e); err != nil {
			return nil, bad("tensor %q: %v", tn, err)
		}
		t, err := decodeTensor(e, data)
		if err != nil {
			return nil, bad("tensor %q: %v", tn, err)
		}
		f.Tensors[tn] = t
		spans = append(spans, span{tn, e.Offsets[0], e.Offsets[1]})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.begin - b.begin) })
	var at int64
	for _, s := range spans {
		if s.begin != at {
			return nil, bad("tensor %q starts at byte %d, want %d (gap or overlap)", s.name, s.begin, at)
		}
		at = s.end
	}
	if at != int64(len(data)) {
		return nil, bad("tensors cover %d of %d data bytes", at, len(data))
	}
	return f, nil
}

func decodeTensor(e entry, data []byte) (*tensor.Dense, error) {
	size := map[string]int64{"F32": 4, "F64": 8, "I64": 8}[e.Dtype]
	if size == 0 {
		return nil, fmt.Errorf("dtype %q is not F32, F64 or I64", e.Dtype)
	}
	count := int64(1)
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && count > math.MaxInt32/int64(d)) {
			return nil, fmt.Errorf("shape %v is invalid", e.Shape)
		}
		count *= int64(d)
	}
	begin, end := e.Offsets[0], e.Offsets[1]
	if begin < 0 || end < begin || end > int64(len(data)) {
		return nil, fmt.Errorf("data_offsets %v outside the %d data bytes", e.Offsets, len(data))
	}
	if end-begin != count*size {
		return nil, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets span %d", e.Shape, e.Dtype, count*size, end-begin)
	}
	raw := data[begin:end]
	var backing any
	switch e.Dtype {
	case "F32":
		v := make([]float32, count)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		backing = v
	case "F64":
		v := make([]float64, count)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		backing = v
	case "I64":
		v := make([]int64, count)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		backing = v
	}
	shape := e.Shape
	if len(shape) == 0 {
		shape = []int{1} // a scalar is stored with shape []; gradlab reads it as one element
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
}

// Read reads and validates the checkpoint at path.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return Decode(path, b)
}

// Write encodes f and replaces path atomically (temporary file, fsync,
// rename, directory fsync). On error the previous file at path is intact.
func Write(path string, f *File) error {
	b, err := Encode(f)
	if err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// WriteAtomic replaces path with what write produces, atomically
// (atomicfile.Write): path is either the whole new file or what it was.
func WriteAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}
