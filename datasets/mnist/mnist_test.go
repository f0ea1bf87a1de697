package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idx builds an IDX file: magic, dims, then data.
func idx(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, magic)
	_ = binary.Write(&b, binary.BigEndian, dims)
	b.Write(data)
	return b.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

var (
	realOnce        sync.Once
	realTrain       *Dataset
	realTest        *Dataset
	realDir         string
	realErr, dirErr error
)

// real loads the default MNIST once for all tests.
func real(t testing.TB) (train, test *Dataset, dir string) {
	t.Helper()
	realOnce.Do(func() {
		realDir, dirErr = DefaultDir()
		if dirErr == nil {
			realTrain, realTest, realErr = Load(realDir)
		}
	})
	require.NoError(t, dirErr)
	require.NoError(t, realErr)
	return realTrain, realTest, realDir
}

func TestLoadDefault(t *testing.T) {
	train, test, _ := real(t)
	for _, c := range []struct {
		name  string
		d     *Dataset
		n     int
		first uint8
	}{
		{"train", train, 60000, 5},
		{"test", test, 10000, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			assert.Equal(t, c.n, d.N)
			assert.Equal(t, 28, d.Rows)
			assert.Equal(t, 28, d.Cols)
			assert.Len(t, d.Pixels, c.n*28*28)
			assert.Len(t, d.Labels, c.n)
			assert.Equal(t, c.first, d.Labels[0])
			var hist [NumClasses]int
			for _, l := range d.Labels {
				hist[l]++
			}
			for k, h := range hist {
				frac := float64(h) / float64(d.N)
				assert.True(t, frac > 0.05 && frac < 0.15, "class %d has fraction %.3f", k, frac)
			}
			var sum float64
			for _, p := range d.Pixels {
				sum += float64(p) / 255
			}
			if c.name == "train" {
				assert.InDelta(t, Mean, sum/float64(len(d.Pixels)), 1e-4, "mean of the training pixels")
			}
		})
	}
}

func TestLoadRawEqualsGzip(t *testing.T) {
	train, test, dir := real(t)
	raw := t.TempDir()
	for _, base := range []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile} {
		f, err := os.Open(filepath.Join(dir, base+".gz"))
		require.NoError(t, err)
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(zr)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		writeFile(t, raw, base, b.Bytes())
	}
	rtrain, rtest, err := Load(raw)
	require.NoError(t, err)
	assert.Equal(t, train, rtrain)
	assert.Equal(t, test, rtest)
}

func TestReadValid(t *testing.T) {
	imgs := idx(ImageMagic, []uint32{3, 2, 4}, seq(24))
	labels := idx(LabelMagic, []uint32{3}, []byte{0, 9, 4})
	want := &Dataset{N: 3, Rows: 2, Cols: 4, Pixels: seq(24), Labels: []byte{0, 9, 4}}
	for _, c := range []struct {
		name        string
		imgs, label []byte
	}{
		{"raw", imgs, labels},
		{"gzip", gz(t, imgs), gz(t, labels)},
		{"mixed", gz(t, imgs), labels},
	} {
		t.Run(c.name+"/reader", func(t *testing.T) {
			// A plain io.Reader (no Len method) takes the incremental path.
			im, err := ReadImages(struct{ *bytes.Reader }{bytes.NewReader(c.imgs)}, "imgs")
			require.NoError(t, err)
			lb, err := ReadLabels(bytes.NewReader(c.label), "labels")
			require.NoError(t, err)
			d, err := NewDataset(im, lb)
			require.NoError(t, err)
			assert.Equal(t, want, d)
		})
		t.Run(c.name+"/file", func(t *testing.T) {
			dir := t.TempDir()
			d, err := ReadDataset(writeFile(t, dir, "a.idx", c.imgs), writeFile(t, dir, "b.gz", c.label))
			require.NoError(t, err)
			assert.Equal(t, want, d)
		})
	}
	t.Run("empty", func(t *testing.T) {
		im, err := ReadImages(bytes.NewReader(idx(ImageMagic, []uint32{0, 28, 28}, nil)), "e")
		require.NoError(t, err)
		assert.Equal(t, 0, im.N)
		assert.Empty(t, im.Pixels)
	})
	t.Run("large/incremental", func(t *testing.T) {
		// More than initialChunk bytes through gzip: the buffer grows.
		n := 3*initialChunk/100 + 1
		data := seq(n * 100)
		im, err := ReadImages(bytes.NewReader(gz(t, idx(ImageMagic, []uint32{uint32(n), 10, 10}, data))), "big")
		require.NoError(t, err)
		assert.Equal(t, data, im.Pixels)
		assert.Equal(t, len(data), cap(im.Pixels))
	})
}

func TestReadErrors(t *testing.T) {
	good := idx(ImageMagic, []uint32{2, 3, 3}, seq(18))
	corrupt := gz(t, good)
	corrupt[len(corrupt)/2] ^= 0xff
	badCRC := gz(t, good)
	badCRC[len(badCRC)-6] ^= 0xff
	cases := []struct {
		name   string
		labels bool // read as a label file
		data   []byte
		want   error
		msg    string
	}{
		{"images/bad-magic", false, idx(0x12345678, []uint32{2, 3, 3}, seq(18)), ErrFormat, "bad magic number 0x12345678"},
		{"images/label-magic", false, idx(LabelMagic, []uint32{2}, []byte{1, 2}), ErrFormat, "that of a label file"},
		{"labels/image-magic", true, good, ErrFormat, "that of an image file"},
		{"images/wrong-dims", false, idx(0x00000802, []uint32{2, 9}, seq(18)), ErrFormat, "declares 2 dimensions, want 3"},
		{"labels/wrong-dims", true, idx(0x00000803+1, []uint32{1, 1, 1, 1}, nil), ErrFormat, "declares 4 dimensions, want 1"},
		{"images/empty", false, nil, ErrFormat, "truncated header: expected 16 bytes, found 0"},
		{"images/truncated-magic", false, good[:3], ErrFormat, "truncated header: expected 16 bytes, found 3"},
		{"images/truncated-header", false, good[:10], ErrFormat, "truncated header: expected 16 bytes, found 10"},
		{"labels/truncated-header", true, idx(LabelMagic, nil, nil), ErrFormat, "truncated header: expected 8 bytes, found 4"},
		{"images/truncated-body", false, good[:len(good)-5], ErrFormat, "2 images of 3×3 = 18 bytes, file has 13 bytes"},
		{"images/truncated-body/gzip", false, gz(t, good[:len(good)-5]), ErrFormat, "2 images of 3×3 = 18 bytes, found 13"},
		{"labels/truncated-body", true, idx(LabelMagic, []uint32{5}, []byte{1, 2}), ErrFormat, "5 labels = 5 bytes, file has 2 bytes"},
		{"images/truncated-gzip-stream", false, gz(t, good)[:20], ErrFormat, "truncated"},
		{"images/trailing", false, append(bytes.Clone(good), 0, 0, 0), ErrFormat, "3 trailing bytes after the data (34 bytes)"},
		{"labels/trailing/gzip", true, gz(t, idx(LabelMagic, []uint32{1}, []byte{1, 2})), ErrFormat, "1 trailing bytes"},
		{"images/zero-rows", false, idx(ImageMagic, []uint32{2, 0, 3}, nil), ErrFormat, "image size 0×3"},
		{"images/absurd-header", false, idx(ImageMagic, []uint32{0xffffffff, 0xffff, 0xffff}, seq(10)), ErrFormat, "more than the limit"},
		{"images/absurd-header/gzip", false, gz(t, idx(ImageMagic, []uint32{1 << 20, 28, 28}, seq(100))), ErrFormat, "found 100"},
		{"images/huge-side", false, idx(ImageMagic, []uint32{1, 1 << 20, 1}, nil), ErrFormat, "outside 1..65536"},
		{"labels/out-of-range", true, idx(LabelMagic, []uint32{4}, []byte{0, 9, 10, 3}), ErrFormat, "label 10 at index 2 outside 0..9"},
		{"images/corrupt-gzip", false, corrupt, ErrFormat, "gzip"},
		{"images/gzip-checksum", false, badCRC, ErrFormat, "checksum"},
		{"images/gzip-bad-header", false, []byte{0x1f, 0x8b, 0, 0}, ErrFormat, "corrupt gzip header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			read := func(path string) error {
				if c.labels {
					_, err := ReadLabelsFile(path)
					return err
				}
				_, err := ReadImagesFile(path)
				return err
			}
			path := writeFile(t, t.TempDir(), "case-"+strings.ReplaceAll(c.name, "/", "-"), c.data)
			err := read(path)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), c.msg)

			// The same through an io.Reader with a name.
			if c.labels {
				_, err = ReadLabels(bytes.NewReader(c.data), "stream.idx")
			} else {
				_, err = ReadImages(bytes.NewReader(c.data), "stream.idx")
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), "stream.idx")
		})
	}
}

func TestReadDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	imgs := writeFile(t, dir, "imgs.idx", idx(ImageMagic, []uint32{3, 2, 2}, seq(12)))
	labels2 := writeFile(t, dir, "labels2.idx", idx(LabelMagic, []uint32{2}, []byte{1, 2}))
	labels3 := writeFile(t, dir, "labels3.idx", idx(LabelMagic, []uint32{3}, []byte{1, 2, 3}))
	missing := filepath.Join(dir, "missing.idx")
	for _, c := range []struct {
		name, imgs, labels string
		want               error
		names              []string
	}{
		{"count-mismatch", imgs, labels2, ErrMismatch, []string{imgs, labels2, "3 images", "2 labels"}},
		{"missing-images", missing, labels3, ErrNotFound, []string{missing}},
		{"missing-labels", imgs, missing, ErrNotFound, []string{missing}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadDataset(c.imgs, c.labels)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			for _, n := range c.names {
				assert.Contains(t, err.Error(), n)
			}
		})
	}
	_, err := NewDataset(Images{N: 3, Rows: 2, Cols: 2, Pixels: seq(12)}, []byte{1})
	assert.ErrorIs(t, err, ErrMismatch)
	_, err = NewDataset(Images{N: 1, Rows: 2, Cols: 2, Pixels: seq(4)}, []byte{11})
	assert.ErrorIs(t, err, ErrArgument)
}

func TestLoadErrors(t *testing.T) {
	files := func(testCols uint32) map[string][]byte {
		return map[string][]byte{
			TrainImagesFile + ".gz": gz(t, idx(ImageMagic, []uint32{2, 2, 2}, seq(8))),
			TrainLabelsFile:         idx(LabelMagic, []uint32{2}, []byte{1, 2}),
			TestImagesFile:          idx(ImageMagic, []uint32{1, 2, testCols}, seq(int(2*testCols))),
			TestLabelsFile + ".gz":  gz(t, idx(LabelMagic, []uint32{1}, []byte{3})),
		}
	}
	write := func(fs map[string][]byte) string {
		dir := t.TempDir()
		for name, data := range fs {
			writeFile(t, dir, name, data)
		}
		return dir
	}
	t.Run("ok", func(t *testing.T) {
		train, test, err := Load(write(files(2)))
		require.NoError(t, err)
		assert.Equal(t, 2, train.N)
		assert.Equal(t, []byte{3}, test.Labels)
	})
	t.Run("size-mismatch", func(t *testing.T) {
		_, _, err := Load(write(files(3)))
		assert.ErrorIs(t, err, ErrMismatch)
		assert.Contains(t, err.Error(), TestImagesFile)
	})
	t.Run("missing-file", func(t *testing.T) {
		fs := files(2)
		delete(fs, TestLabelsFile+".gz")
		_, _, err := Load(write(fs))
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), TestLabelsFile)
	})
	t.Run("missing-dir", func(t *testing.T) {
		_, _, err := Load(filepath.Join(t.TempDir(), "nope"))
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), "nope")
	})
}
