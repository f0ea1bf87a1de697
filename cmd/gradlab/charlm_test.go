package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/datasets/text"
	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/train"
)

// smallText writes a short English text (a few kilobytes) and returns its path.
func smallText(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := 0; b.Len() < 6000; i++ {
		b.WriteString([]string{"Light is refracted by the prism. ", "The rays of light are bent. ", "Colours of the light differ.\n"}[i%3])
	}
	path := filepath.Join(t.TempDir(), "small.txt")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// tinyArgs trains a small GRU on file for a couple of epochs.
func tinyArgs(file string) []string {
	return []string{"train", "-text", file, "-arch", "gru", "-width", "24", "-depth", "1", "-context", "16",
		"-epochs", "3", "-batch", "16", "-lr", "0.01", "-warmup", "5"}
}

// TestCharlmTrainResumeEvaluateGenerate: a small language model learns the
// text (bits per character well below the 4+ of uniform guessing), logs a
// sample every epoch, resumes bit for bit, and evaluate, summary and
// generate read its checkpoint; generation is deterministic for a seed.
func TestCharlmTrainResumeEvaluateGenerate(t *testing.T) {
	file := smallText(t)
	whole, parts := t.TempDir(), t.TempDir()
	out, errb, err := runCmd(append(tinyArgs(file), "-out", whole)...)
	require.NoError(t, err, errb)
	assert.Contains(t, out, "charlm-gru-1x24-c16")
	assert.Contains(t, out, "test loss")
	assert.Equal(t, 3, strings.Count(out, "  sample: \"Light is"), "a sample per epoch:\n%s", out)

	ctx, cancel := context.WithCancel(context.Background())
	log := &cancelOn{epoch: "1", cancel: cancel}
	var eb strings.Builder
	err = run(ctx, append(tinyArgs(file), "-out", parts), log, &eb)
	require.ErrorIs(t, err, context.Canceled)
	_, errb, err = runCmd(append(tinyArgs(file), "-out", parts, "-resume")...)
	require.NoError(t, err, errb)
	fa, _, err := train.ReadCheckpoint(filepath.Join(whole, train.CheckpointFile))
	require.NoError(t, err)
	fb, _, err := train.ReadCheckpoint(filepath.Join(parts, train.CheckpointFile))
	require.NoError(t, err)
	require.NotEmpty(t, fa.Tensors)
	for name, a := range fa.Tensors {
		require.Contains(t, fb.Tensors, name)
		assert.Equal(t, a.Data(), fb.Tensors[name].Data(), "tensor %s after an interrupted and resumed run", name)
	}

	ckpt := filepath.Join(whole, train.CheckpointFile)
	out, errb, err = runCmd("evaluate", "-model", ckpt)
	require.NoError(t, err, errb)
	assert.Contains(t, out, "bits_per_token")
	assert.Contains(t, out, "perplexity")
	assert.Contains(t, out, "held-out bits per character ")
	e, _, ok, err := lastEpoch(fa)
	require.NoError(t, err)
	require.True(t, ok)
	bpc := e.Test.Get("bits_per_token")
	assert.Less(t, bpc, 3.0, "the text's repetition is learnt")
	assert.Contains(t, out, strings.TrimSpace(strings.Split(strings.Split(out, "bits_per_token ")[1], ",")[0]))

	out, errb, err = runCmd("summary", "-model", ckpt)
	require.NoError(t, err, errb)
	assert.Contains(t, out, "rnn1")
	assert.Contains(t, out, "head")

	onnxFile := filepath.Join(t.TempDir(), "charlm.onnx")
	out, errb, err = runCmd("export", "-model", ckpt, "-o", onnxFile)
	require.NoError(t, err, errb)
	assert.Contains(t, out, "ids: int64 (N, T), token ids in [0, ")
	assert.Contains(t, out, "T ≤ 16")
	st, err := os.Stat(onnxFile)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(4*charlmParams(t, fa)), "the weights are in the file")

	gen := func(args ...string) (string, string, error) {
		return runCmd(append([]string{"generate", "-model", ckpt}, args...)...)
	}
	a, errb, err := gen("-prompt", "The rays", "-n", "120", "-seed", "3")
	require.NoError(t, err, errb)
	assert.Contains(t, errb, "characters/s")
	assert.True(t, strings.HasPrefix(a, "The rays"))
	assert.Len(t, a, len("The rays")+120+1, "the prompt, 120 bytes and a newline")
	b, _, _ := gen("-prompt", "The rays", "-n", "120", "-seed", "3")
	c, _, _ := gen("-prompt", "The rays", "-n", "120", "-seed", "4")
	assert.Equal(t, a, b, "one seed, one text")
	assert.NotEqual(t, a, c)

	for name, c := range map[string]struct {
		args []string
		err  error
	}{
		"temperature 0":   {[]string{"-temperature", "0"}, charlm.ErrSampling},
		"temperature NaN": {[]string{"-temperature", "NaN"}, charlm.ErrSampling},
		"negative n":      {[]string{"-n", "-1"}, charlm.ErrSampling},
		"negative top-k":  {[]string{"-top-k", "-2"}, charlm.ErrSampling},
		"long window":     {[]string{"-window", "17"}, charlm.ErrContext},
		"empty prompt":    {[]string{"-prompt", ""}, ErrPrompt},
		"foreign prompt":  {[]string{"-prompt", "Light ≠ dark!"}, text.ErrVocab},
	} {
		_, _, err := gen(c.args...)
		assert.ErrorIs(t, err, c.err, name)
	}
	_, _, err = gen("-prompt", "Lux, 2!")
	require.ErrorIs(t, err, ErrPrompt)
	assert.Contains(t, err.Error(), `"x", ",", "2", "!" are not among`)
}

// charlmParams counts a checkpoint's parameter values.
func charlmParams(t *testing.T, f *checkpoint.File) int {
	t.Helper()
	n := 0
	for name, v := range f.Tensors {
		if strings.HasPrefix(name, "param/") {
			n += v.Shape().TotalSize()
		}
	}
	require.Positive(t, n)
	return n
}

// TestCharlmBadText: an empty, short, binary or missing text is a named
// error before any training; a binary file trains when asked for.
func TestCharlmBadText(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	binary := make([]byte, 3000)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	for name, file := range map[string]string{
		"empty":   write("empty.txt", nil),
		"short":   write("short.txt", []byte(strings.Repeat("abc ", 40))),
		"binary":  write("bin.dat", binary),
		"missing": filepath.Join(dir, "none.txt"),
	} {
		_, _, err := runCmd(append(tinyArgs(file), "-out", filepath.Join(dir, "run-"+name))...)
		assert.ErrorIs(t, err, text.ErrText, name)
		assert.Contains(t, err.Error(), map[string]string{"empty": "is empty", "short": "fewer than two windows", "binary": "is binary", "missing": "no such file"}[name], name)
		assert.NoDirExists(t, filepath.Join(dir, "run-"+name, train.CheckpointFile), name)
	}
	args := append(tinyArgs(filepath.Join(dir, "bin.dat")), "-binary", "-epochs", "1", "-out", filepath.Join(dir, "run-bin"))
	_, errb, err := runCmd(args...)
	assert.NoError(t, err, errb)

	for name, c := range map[string]struct {
		args []string
		err  error // nil: any error
	}{
		"text for mlp":   {[]string{"-model", "mlp", "-text", "x.txt"}, nil},
		"scaling":        {[]string{"-model", "charlm", "-scaling", "unit"}, nil},
		"hidden":         {[]string{"-model", "charlm", "-hidden", "8"}, nil},
		"arch":           {[]string{"-model", "charlm", "-arch", "rnn"}, charlm.ErrConfig},
		"heads":          {[]string{"-model", "charlm", "-arch", "transformer", "-width", "8", "-heads", "3"}, charlm.ErrConfig},
		"context 0":      {[]string{"-model", "charlm", "-context", "0"}, charlm.ErrConfig},
		"dropout 1":      {[]string{"-model", "charlm", "-dropout", "1"}, charlm.ErrConfig},
		"arch for a cnn": {[]string{"-model", "cnn", "-arch", "lstm"}, nil},
	} {
		out := filepath.Join(dir, "x-"+strings.ReplaceAll(name, " ", "-"))
		_, _, err := runCmd(append([]string{"train", "-out", out, "-epochs", "1", "-train-limit", "40"}, c.args...)...)
		require.Error(t, err, name)
		if c.err != nil {
			assert.ErrorIs(t, err, c.err, name)
		}
		assert.NoDirExists(t, out, name)
	}
}
