package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// The seed corpora are in testdata/fuzz/FuzzReadImages and
// testdata/fuzz/FuzzReadLabels: small valid files (raw and gzip) and invalid
// ones (bad magic, wrong dimension count, truncated header and body, trailing
// bytes, labels out of range, corrupt gzip).

// decoded returns the IDX bytes data stands for: data itself, or its
// decompression when it starts with the gzip magic (ok false if that fails).
func decoded(data []byte) (raw []byte, ok bool) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, true
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	raw, err = io.ReadAll(io.LimitReader(zr, 1<<26))
	return raw, err == nil
}

// checkError verifies the error contract: a sentinel and the source's name.
func checkError(t *testing.T, err error, name string) {
	t.Helper()
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("error does not wrap ErrFormat: %v", err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Fatalf("error does not name %q: %v", name, err)
	}
}

func FuzzReadImages(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz-images.idx"
		im, err := ReadImages(bytes.NewReader(data), name)
		// The incremental path (no Len method) must agree.
		im2, err2 := ReadImages(struct{ io.Reader }{bytes.NewReader(data)}, name)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("sized and unsized readers disagree: %v vs %v", err, err2)
		}
		if err != nil {
			checkError(t, err, name)
			checkError(t, err2, name)
			return
		}
		raw, ok := decoded(data)
		if !ok {
			t.Fatalf("accepted data that gzip rejects")
		}
		if len(raw) < 16 || binary.BigEndian.Uint32(raw) != ImageMagic {
			t.Fatalf("accepted a file without the image magic")
		}
		n, rows, cols := binary.BigEndian.Uint32(raw[4:]), binary.BigEndian.Uint32(raw[8:]), binary.BigEndian.Uint32(raw[12:])
		if uint32(im.N) != n || uint32(im.Rows) != rows || uint32(im.Cols) != cols {
			t.Fatalf("dims %d×%d×%d, header says %d×%d×%d", im.N, im.Rows, im.Cols, n, rows, cols)
		}
		if len(im.Pixels) != im.N*im.Rows*im.Cols || !bytes.Equal(im.Pixels, raw[16:]) {
			t.Fatalf("pixels (%d bytes) are not the %d bytes after the header", len(im.Pixels), len(raw)-16)
		}
		if !bytes.Equal(im.Pixels, im2.Pixels) || im.N != im2.N {
			t.Fatalf("sized and unsized readers return different images")
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz-labels.idx"
		labels, err := ReadLabels(bytes.NewReader(data), name)
		labels2, err2 := ReadLabels(struct{ io.Reader }{bytes.NewReader(data)}, name)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("sized and unsized readers disagree: %v vs %v", err, err2)
		}
		if err != nil {
			checkError(t, err, name)
			checkError(t, err2, name)
			return
		}
		raw, ok := decoded(data)
		if !ok {
			t.Fatalf("accepted data that gzip rejects")
		}
		if len(raw) < 8 || binary.BigEndian.Uint32(raw) != LabelMagic {
			t.Fatalf("accepted a file without the label magic")
		}
		if n := binary.BigEndian.Uint32(raw[4:]); uint32(len(labels)) != n || !bytes.Equal(labels, raw[8:]) {
			t.Fatalf("%d labels, header says %d; file has %d bytes after the header", len(labels), n, len(raw)-8)
		}
		for i, l := range labels {
			if l >= NumClasses {
				t.Fatalf("label %d at %d accepted", l, i)
			}
		}
		if !bytes.Equal(labels, labels2) {
			t.Fatalf("sized and unsized readers return different labels")
		}
	})
}
