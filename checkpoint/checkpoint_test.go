package checkpoint_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
)

func sample() *checkpoint.File {
	return &checkpoint.File{
		Tensors: map[string]*tensor.Dense{
			"param/w":  tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, -6.5})),
			"param/b":  tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.1, -0.2, 1e300})),
			"rng/step": tensor.New(tensor.WithShape(1), tensor.WithBacking([]int64{-7})),
		},
		Metadata: map[string]string{"epoch": "3", "config": `{"lr":0.1}`},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	in := sample()
	require.NoError(t, checkpoint.Write(path, in))
	out, err := checkpoint.Read(path)
	require.NoError(t, err)
	require.Len(t, out.Tensors, 3)
	for name, want := range in.Tensors {
		got := out.Tensors[name]
		require.NotNil(t, got, name)
		assert.Equal(t, want.Shape(), got.Shape(), name)
		assert.Equal(t, want.Data(), got.Data(), name)
	}
	assert.Equal(t, "3", out.Metadata["epoch"])
	assert.Equal(t, `{"lr":0.1}`, out.Metadata["config"])
	assert.Equal(t, "gradlab", out.Metadata["format"])
	assert.Len(t, out.Metadata["sha256"], 64)

	// The same content encodes to the same bytes.
	a, err := checkpoint.Encode(in)
	require.NoError(t, err)
	b, err := checkpoint.Encode(sample())
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Zero(t, binary.LittleEndian.Uint64(a)%8, "header padded to 8 bytes")
}

func TestCorrupt(t *testing.T) {
	good, err := checkpoint.Encode(sample())
	require.NoError(t, err)
	hlen := int(binary.LittleEndian.Uint64(good))
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		data []byte
		want error
		says string
	}{
		{"empty", nil, checkpoint.ErrCorrupt, "shorter than the 8-byte header length"},
		{"truncated-data", good[:len(good)-3], checkpoint.ErrChecksum, "SHA-256"},
		{"truncated-header", good[:8+hlen/2], checkpoint.ErrCorrupt, "does not fit"},
		{"flipped-data-byte", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), checkpoint.ErrChecksum, "SHA-256"},
		{"huge-header-length", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint64(b, 1<<62); return b }), checkpoint.ErrCorrupt, "header length"},
		{"not-json", mutate(func(b []byte) []byte { b[8] = '!'; return b }), checkpoint.ErrCorrupt, "not JSON"},
		{"trailing-data", append(append([]byte(nil), good...), 0), checkpoint.ErrChecksum, "SHA-256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := checkpoint.Decode("x.safetensors", c.data)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.want), "%v", err)
			assert.Contains(t, err.Error(), "x.safetensors")
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestHeaderValidation(t *testing.T) {
	// Hand-made headers with a correct checksum of an empty or short data section.
	mk := func(header string, data []byte) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, uint64(len(header)))
		return append(append(b, header...), data...)
	}
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	meta := `"__metadata__":{"format":"gradlab","version":"1","sha256":"` + emptySHA + `"}`
	cases := []struct{ name, header, says string }{
		{"no-format", `{"__metadata__":{"version":"1"}}`, `format is ""`},
		{"bad-dtype", `{` + meta + `,"t":{"dtype":"BF16","shape":[0],"data_offsets":[0,0]}}`, `dtype "BF16"`},
		{"negative-dim", `{` + meta + `,"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, "shape [-1] is invalid"},
		{"size-mismatch", `{` + meta + `,"t":{"dtype":"F32","shape":[2],"data_offsets":[0,0]}}`, "needs 8 bytes"},
		{"outside", `{` + meta + `,"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, "outside the 0 data bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := checkpoint.Decode("h.safetensors", mk(c.header, nil))
			require.ErrorIs(t, err, checkpoint.ErrCorrupt)
			assert.Contains(t, err.Error(), c.says)
		})
	}
	_, err := checkpoint.Decode("v.safetensors", mk(`{"__metadata__":{"format":"gradlab","version":"99"}}`, nil))
	require.ErrorIs(t, err, checkpoint.ErrVersion)
	assert.Contains(t, err.Error(), `"99"`)
}

func TestUnsupportedDtype(t *testing.T) {
	_, err := checkpoint.Encode(&checkpoint.File{Tensors: map[string]*tensor.Dense{
		"b": tensor.New(tensor.WithShape(1), tensor.WithBacking([]bool{true})),
	}})
	require.ErrorIs(t, err, checkpoint.ErrDtype)
	assert.Contains(t, err.Error(), `"b"`)
}

func TestWriteAtomicKeepsOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	require.NoError(t, checkpoint.Write(path, sample()))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	err = checkpoint.WriteAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half a checkpoint"))
		return errors.New("disk on fire")
	})
	require.ErrorContains(t, err, "disk on fire")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the previous checkpoint is intact")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	_, err = checkpoint.Read(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func FuzzDecode(f *testing.F) {
	good, err := checkpoint.Encode(sample())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := checkpoint.Decode("fuzz", b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a file that decodes to the same tensors.
		again, err := checkpoint.Encode(file)
		if err != nil {
			t.Fatal(err)
		}
		back, err := checkpoint.Decode("again", again)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Tensors) != len(file.Tensors) {
			t.Fatalf("%d tensors, then %d", len(file.Tensors), len(back.Tensors))
		}
	})
}

// TestPythonReadsCheckpoint: testdata/read.py, a reader written from the
// safetensors specification with numpy alone, reads a file Write made and
// prints the same values (skipped without a python3 that has numpy; CI
// has Debian's).
func TestPythonReadsCheckpoint(t *testing.T) {
	python := "/usr/bin/python3"
	if exec.Command(python, "-c", "import numpy").Run() != nil {
		if os.Getenv("GRADLAB_REQUIRE_ORT") == "1" {
			t.Fatal("GRADLAB_REQUIRE_ORT=1 but /usr/bin/python3 cannot import numpy")
		}
		t.Skip("no /usr/bin/python3 with numpy")
	}
	path := filepath.Join(t.TempDir(), "c.safetensors")
	f := &checkpoint.File{
		Tensors: map[string]*tensor.Dense{
			"param/w": tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1.5, -2, 3.25, 4})),
			"state/n": tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{7.125})),
		},
		Metadata: map[string]string{"epoch": "3"},
	}
	require.NoError(t, checkpoint.Write(path, f))
	out, err := exec.Command(python, "testdata/read.py", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "param/w: float32 (2, 2) [ 1.5  -2.    3.25]")
	assert.Contains(t, string(out), "state/n: float64 (1,) [7.125]")
	assert.Contains(t, string(out), "'epoch'")
}
