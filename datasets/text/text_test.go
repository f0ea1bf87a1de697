package text_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/text"
)

func TestCorpusAndWindows(t *testing.T) {
	c, err := text.New([]byte("abcabcabcabcabcabcabcabcabcabcab"), "t", 0.25, false)
	require.NoError(t, err)
	assert.Equal(t, []byte("abc"), c.Vocab.Bytes)
	assert.Len(t, c.Train, 24)
	assert.Len(t, c.Held, 8, "the last quarter, contiguous")
	assert.Equal(t, "abcabcab", string(c.Vocab.Decode(c.Held)))
	w, err := text.NewWindows(c.Train, 5, c.Vocab.Size())
	require.NoError(t, err)
	assert.Equal(t, 4, w.Len(), "(24 − 1)/5 windows: the last one's target must fit")
	x := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2, 5))
	y := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2, 5))
	require.NoError(t, w.Gather([]int{3, 0}, x, y))
	assert.Equal(t, c.Train[15:20], x.Ints()[:5], "window 3")
	assert.Equal(t, c.Train[16:21], y.Ints()[:5], "targets shifted by one")
	assert.Equal(t, c.Train[0:5], x.Ints()[5:], "window 0")
	assert.Error(t, w.Gather([]int{4, 0}, x, y))

	_, err = text.NewWindows(c.Held, 5, 3)
	assert.ErrorIs(t, err, text.ErrText, "8 tokens make one window")
	_, err = c.Vocab.Encode([]byte("abz!"))
	require.ErrorIs(t, err, text.ErrVocab)
	assert.Contains(t, err.Error(), `"z", "!" are not among the 3 bytes`)
}

func TestBadText(t *testing.T) {
	for name, data := range map[string][]byte{"empty": nil, "binary": {'a', 0, 'b'}, "latin-1": []byte("caf\xe9 au lait")} {
		_, err := text.New(data, name, 0.1, false)
		assert.ErrorIs(t, err, text.ErrText, name)
	}
	_, err := text.New([]byte{'a', 0, 'b', 'c'}, "bin", 0.25, true)
	assert.NoError(t, err, "binary on request")
	_, err = text.Load(filepath.Join(t.TempDir(), "missing.txt"), 0.1, false)
	assert.ErrorIs(t, err, text.ErrText)
}

// The text every Go installation ships.
func ExampleLoad() {
	c, err := text.Load(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"), 0.1, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Vocab.Size(), len(c.Train)+len(c.Held), len(c.Held))
	// Output:
	// 93 567198 56719
}
