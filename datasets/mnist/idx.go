package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Magic numbers of the IDX files: 0x0000 (zero), 0x08 (unsigned byte), then
// the number of dimensions.
const (
	ImageMagic = 0x00000803 // images: count, rows, columns
	LabelMagic = 0x00000801 // labels: count
)

// NumClasses is the number of MNIST classes; labels are 0..NumClasses-1.
const NumClasses = 10

// MaxBytes is the largest payload (count·rows·columns bytes for images, count
// for labels) a header may declare. It is far above MNIST (47 040 000 bytes)
// and EMNIST, and keeps sizes within an int on 32-bit platforms.
const MaxBytes = 1<<31 - 1

// MaxSide is the largest number of rows or columns an image header may declare.
const MaxSide = 1 << 16

// initialChunk is the first allocation when the payload size cannot be
// checked against the file size (gzip, or a plain io.Reader): the buffer then
// grows by doubling as data actually arrives, never beyond the declared size.
const initialChunk = 1 << 20

// Images is the content of an IDX image file: N images of Rows×Cols bytes,
// row-major, image i at Pixels[i*Rows*Cols : (i+1)*Rows*Cols].
type Images struct {
	N, Rows, Cols int
	Pixels        []uint8
}

// ReadImages reads an IDX image file (gzip-compressed or raw) from r. name
// identifies the source in error messages. When r has a Len() int method
// (bytes.Reader, strings.Reader, bytes.Buffer) a raw header is checked against
// that length before allocating.
func ReadImages(r io.Reader, name string) (Images, error) {
	return readImages(r, name, lenHint(r))
}

// ReadLabels reads an IDX label file (gzip-compressed or raw) from r and checks
// that every label is in 0..9. name identifies the source in error messages.
func ReadLabels(r io.Reader, name string) ([]uint8, error) {
	return readLabels(r, name, lenHint(r))
}

// ReadImagesFile reads the IDX image file at path (gzip-compressed or raw).
func ReadImagesFile(path string) (Images, error) {
	f, size, err := open(path)
	if err != nil {
		return Images{}, err
	}
	defer f.Close()
	return readImages(f, path, size)
}

// ReadLabelsFile reads the IDX label file at path (gzip-compressed or raw).
func ReadLabelsFile(path string) ([]uint8, error) {
	f, size, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLabels(f, path, size)
}

func open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s: no such file", ErrNotFound, path)
		}
		return nil, 0, fmt.Errorf("mnist: %w", err)
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

func lenHint(r io.Reader) int64 {
	if l, ok := r.(interface{ Len() int }); ok {
		return int64(l.Len())
	}
	return -1
}

func readImages(r io.Reader, name string, size int64) (Images, error) {
	src, err := newSource(r, name, size)
	if err != nil {
		return Images{}, err
	}
	dims, err := src.header(ImageMagic, "image")
	if err != nil {
		return Images{}, err
	}
	n, rows, cols := dims[0], dims[1], dims[2]
	if rows == 0 || cols == 0 || rows > MaxSide || cols > MaxSide {
		return Images{}, src.errorf("image size %d×%d outside 1..%d", rows, cols, MaxSide)
	}
	want := n * rows * cols // at most 2^32 · 2^16 · 2^16: fits in uint64
	if n > MaxBytes || want > MaxBytes {
		return Images{}, src.errorf("header declares %d images of %d×%d = %d bytes, more than the limit of %d",
			n, rows, cols, want, MaxBytes)
	}
	pixels, err := src.payload(int(want), fmt.Sprintf("%d images of %d×%d", n, rows, cols))
	if err != nil {
		return Images{}, err
	}
	return Images{N: int(n), Rows: int(rows), Cols: int(cols), Pixels: pixels}, nil
}

func readLabels(r io.Reader, name string, size int64) ([]uint8, error) {
	src, err := newSource(r, name, size)
	if err != nil {
		return nil, err
	}
	dims, err := src.header(LabelMagic, "label")
	if err != nil {
		return nil, err
	}
	n := dims[0]
	if n > MaxBytes {
		return nil, src.errorf("header declares %d labels, more than the limit of %d", n, MaxBytes)
	}
	labels, err := src.payload(int(n), fmt.Sprintf("%d labels", n))
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l >= NumClasses {
			return nil, src.errorf("label %d at index %d outside 0..%d", l, i, NumClasses-1)
		}
	}
	return labels, nil
}

// source is an IDX stream being read: decompressed if needed, with the number
// of bytes consumed and, for raw input of known size, the total size.
type source struct {
	name string
	r    io.Reader
	gz   bool
	size int64 // total bytes of a raw stream, -1 if unknown or compressed
	off  int64 // bytes consumed from the (decompressed) stream
}

func newSource(r io.Reader, name string, size int64) (*source, error) {
	br := bufio.NewReader(r)
	s := &source{name: name, r: br, size: size}
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, s.wrap(err, "corrupt gzip header")
		}
		s.r, s.gz, s.size = zr, true, -1
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, s.wrap(err, "reading")
	}
	return s, nil
}

func (s *source) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrFormat, s.label(), fmt.Sprintf(format, args...))
}

// label names the source in messages, noting gzip (sizes and offsets then
// count decompressed bytes).
func (s *source) label() string {
	if s.gz {
		return s.name + " (gzip)"
	}
	return s.name
}

// wrap reports err, a failure of the underlying reader or of gzip, as ErrFormat.
func (s *source) wrap(err error, what string) error {
	return fmt.Errorf("%w: %s: %s: %w", ErrFormat, s.label(), what, err)
}

// header reads and checks the magic number and returns the dimensions.
func (s *source) header(want uint32, kind string) ([]uint64, error) {
	var buf [16]byte
	ndim := int(want & 0xff)
	hlen := 4 + 4*ndim
	if err := s.readFull(buf[:4], hlen, "header"); err != nil {
		return nil, err
	}
	magic := binary.BigEndian.Uint32(buf[:4])
	switch {
	case magic == want:
	case magic == ImageMagic || magic == LabelMagic:
		other := map[uint32]string{ImageMagic: "an image", LabelMagic: "a label"}[magic]
		return nil, s.errorf("magic number 0x%08x is that of %s file, want 0x%08x for a %s file", magic, other, want, kind)
	case magic>>8 == 0x000008:
		return nil, s.errorf("magic number 0x%08x declares %d dimensions, want %d for a %s file (0x%08x)",
			magic, magic&0xff, ndim, kind, want)
	default:
		return nil, s.errorf("bad magic number 0x%08x, want 0x%08x for an IDX %s file of unsigned bytes", magic, want, kind)
	}
	if err := s.readFull(buf[4:hlen], hlen, "header"); err != nil {
		return nil, err
	}
	dims := make([]uint64, ndim)
	for i := range dims {
		dims[i] = uint64(binary.BigEndian.Uint32(buf[4+4*i:]))
	}
	return dims, nil
}

// readFull reads len(p) bytes; a short read is a truncation of a part that
// should have total bytes.
func (s *source) readFull(p []byte, total int, part string) error {
	n, err := io.ReadFull(s.r, p)
	s.off += int64(n)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return s.errorf("truncated %s: expected %d bytes, found %d", part, total, s.off)
	}
	return s.wrap(err, "reading "+part)
}

// payload reads exactly want data bytes and checks that nothing follows them.
// what describes the data for messages.
func (s *source) payload(want int, what string) ([]byte, error) {
	hdr := s.off
	if s.size >= 0 && s.size-hdr < int64(want) {
		return nil, s.errorf("truncated data: header declares %s = %d bytes, file has %d bytes after the %d-byte header",
			what, want, s.size-hdr, hdr)
	}
	n := want // raw input of known size: the check above bounds want
	if s.size < 0 {
		n = min(want, initialChunk)
	}
	buf := make([]byte, n)
	got := 0
	for got < want {
		if got == len(buf) { // grow as data actually arrives
			nb := make([]byte, min(want, 2*len(buf)))
			copy(nb, buf)
			buf = nb
		}
		n, err := io.ReadFull(s.r, buf[got:])
		got += n
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, s.errorf("truncated data: header declares %s = %d bytes, found %d", what, want, got)
		}
		if err != nil {
			return nil, s.wrap(err, fmt.Sprintf("reading data after %d of %d bytes", got, want))
		}
	}
	s.off += int64(got)
	if err := s.end(); err != nil {
		return nil, err
	}
	return buf, nil
}

// end checks that the stream ends right after the data (for gzip this also
// verifies the trailer's checksum and length).
func (s *source) end() error {
	const limit = 1 << 20
	n, err := io.Copy(io.Discard, io.LimitReader(s.r, limit+1))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return s.errorf("truncated gzip stream after the data (%d bytes): trailer or further data missing", s.off)
	}
	if err != nil {
		return s.wrap(err, fmt.Sprintf("after the data (%d bytes)", s.off))
	}
	switch {
	case n > limit:
		return s.errorf("more than %d trailing bytes after the data (%d bytes)", limit, s.off)
	case n > 0:
		return s.errorf("%d trailing bytes after the data (%d bytes)", n, s.off)
	}
	return nil
}
