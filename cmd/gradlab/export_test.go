package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/internal/onnxpb"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/onnx"
)

// trained runs gradlab train with args into a temporary directory and
// returns the checkpoint's path.
func trained(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), append([]string{"train", "-out", dir}, args...), &out, &errb), errb.String())
	return filepath.Join(dir, "checkpoint.safetensors")
}

func runCmd(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestExportSummaryPredict(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		ops   string
		layer string
	}{
		{"mlp", []string{"-hidden", "32", "-epochs", "1", "-train-limit", "2000", "-test-limit", "500"},
			"Sub Div Flatten Gemm BatchNormalization Relu Gemm Softmax", "bn1"},
		{"cnn", []string{"-model", "cnn", "-conv", "4,8", "-hidden", "16", "-shift", "1", "-epochs", "1",
			"-train-limit", "4000", "-test-limit", "300", "-batch", "32", "-scaling", "symmetric"},
			"Sub Div Conv BatchNormalization Relu MaxPool Conv BatchNormalization Relu MaxPool Flatten Gemm Relu Gemm Softmax", "conv2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ckpt := trained(t, c.args...)

			out, _, err := runCmd("summary", "-model", ckpt)
			require.NoError(t, err)
			for _, want := range []string{c.layer, "output shape", "learnable parameters", "training: adamw lr 0.002",
				"epoch 1 of 1 (step ", "test loss", "configuration:\n{", `"optimizer": "adamw"`} {
				assert.Contains(t, out, want)
			}

			path := filepath.Join(t.TempDir(), "model.onnx")
			out, _, err = runCmd("export", "-model", ckpt, "-o", path)
			require.NoError(t, err)
			assert.Contains(t, out, "→ "+path)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			var mp onnxpb.ModelProto
			require.NoError(t, proto.Unmarshal(b, &mp))
			var ops []string
			for _, n := range mp.GetGraph().GetNode() {
				ops = append(ops, n.GetOpType())
			}
			assert.Equal(t, c.ops, strings.Join(ops, " "))
			meta := map[string]string{}
			for _, p := range mp.GetMetadataProps() {
				meta[p.GetKey()] = p.GetValue()
			}
			for _, k := range []string{"gradlab.config", "gradlab.epoch", "gradlab.metrics", "gradlab.scaling", "gradlab.model", "gradlab.input"} {
				assert.NotEmpty(t, meta[k], k)
			}
			assert.Equal(t, "1", meta["gradlab.epoch"])
			assert.Contains(t, meta["gradlab.metrics"], `"test_acc":0.`)
			assert.Contains(t, meta["gradlab.config"], `"optimizer":"adamw"`)

			testPredict(t, ckpt)
		})
	}
}

// testPredict classifies MNIST test images written as files: 28×28 PNGs
// with -raw give exactly the model's predictions on the data set; the same
// digits as large black-on-white JPEGs are inverted automatically and
// mostly classified alike; a corrupt file is named and the others are
// still classified.
func testPredict(t *testing.T, ckpt string) {
	_, te, err := mnist.LoadDefault()
	require.NoError(t, err)
	m, err := models.Load(ckpt)
	require.NoError(t, err)
	defer m.Close()
	cfg := m.Config
	s, err := scalingOf(cfg.Data)
	require.NoError(t, err)
	const n = 20
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n, 1, 28, 28))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	require.NoError(t, mnist.Gather(te, idx, s, x.Data().([]float32), make([]int, n)))
	logits, err := m.Predict(x)
	require.NoError(t, err)
	want := make([]int, n)
	require.NoError(t, nn.Argmax(logits, want))

	dir := t.TempDir()
	var pngs, jpegs []string
	for i := range n {
		img := &image.Gray{Pix: te.Image(i), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		pngs = append(pngs, writeImage(t, filepath.Join(dir, fmt.Sprintf("d%02d.png", i)), img))
		big := image.NewRGBA(image.Rect(0, 0, 112, 140)) // another size and aspect, black on white, RGB
		for y := range 140 {
			for x := range 112 {
				v := 255 - te.Image(i)[min(y/4, 27)*28+x/4]
				if y >= 112 {
					v = 255
				}
				big.Set(x, y, color.RGBA{v, v, v, 255})
			}
		}
		jpegs = append(jpegs, writeImage(t, filepath.Join(dir, fmt.Sprintf("d%02d.jpg", i)), big))
	}
	line := regexp.MustCompile(`^(\S+): (\d) \(p=([01]\.\d\d)\), runner-up (\d) \(p=([01]\.\d\d)\)( \[black on white: inverted\])?$`)
	parse := func(out string) (files []string, digits []int, inverted []bool) {
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			g := line.FindStringSubmatch(l)
			require.NotNil(t, g, "line %q", l)
			d, _ := strconv.Atoi(g[2])
			files, digits, inverted = append(files, g[1]), append(digits, d), append(inverted, g[6] != "")
			p1, _ := strconv.ParseFloat(g[3], 64)
			p2, _ := strconv.ParseFloat(g[5], 64)
			require.GreaterOrEqual(t, p1, p2)
		}
		return
	}

	out, _, err := runCmd(append([]string{"predict", "-model", ckpt, "-raw"}, pngs...)...)
	require.NoError(t, err)
	files, digits, inv := parse(out)
	require.Equal(t, pngs, files)
	require.Equal(t, want, digits, "28×28 MNIST images, -raw: the model's own predictions")
	require.NotContains(t, inv, true)

	out, _, err = runCmd(append([]string{"predict", "-model", ckpt}, jpegs...)...)
	require.NoError(t, err)
	files, digits, inv = parse(out)
	require.Equal(t, jpegs, files)
	same := 0
	for i := range digits {
		require.True(t, inv[i], "black on white is inverted")
		if digits[i] == want[i] {
			same++
		}
	}
	t.Logf("large black-on-white JPEGs: %d of %d classified as the MNIST originals", same, n)
	require.GreaterOrEqual(t, same, n*3/4)

	bad := filepath.Join(dir, "notes.png")
	require.NoError(t, os.WriteFile(bad, []byte("not an image"), 0o644))
	out, errs, err := runCmd("predict", "-model", ckpt, pngs[0], bad, filepath.Join(dir, "missing.png"), pngs[1])
	require.ErrorIs(t, err, mnist.ErrImage)
	require.ErrorContains(t, err, "2 of 4 files")
	files, _, _ = parse(out)
	require.Equal(t, []string{pngs[0], pngs[1]}, files, "the readable files are still classified")
	require.Contains(t, errs, bad+": mnist: not a readable PNG or JPEG image")
	require.Contains(t, errs, "missing.png: mnist: not a readable PNG or JPEG image")
}

func writeImage(t *testing.T, path string, img image.Image) string {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	if strings.HasSuffix(path, ".png") {
		require.NoError(t, png.Encode(f, img))
	} else {
		require.NoError(t, jpeg.Encode(f, img, &jpeg.Options{Quality: 90}))
	}
	require.NoError(t, f.Close())
	return path
}

func TestExportErrors(t *testing.T) {
	ckpt := trained(t, "-hidden", "8", "-epochs", "1", "-train-limit", "200", "-test-limit", "100")
	dir := t.TempDir()

	_, _, err := runCmd("export", "-model", filepath.Join(dir, "none.safetensors"), "-o", filepath.Join(dir, "a.onnx"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "none.safetensors")

	_, _, err = runCmd("export", "-model", ckpt)
	require.ErrorContains(t, err, "-o FILE.onnx is required")

	target := filepath.Join(dir, "no-such-dir", "m.onnx")
	_, _, err = runCmd("export", "-model", ckpt, "-o", target)
	require.ErrorIs(t, err, onnx.ErrWrite)
	require.ErrorContains(t, err, target)
	_, statErr := os.Stat(target)
	require.ErrorIs(t, statErr, fs.ErrNotExist)
	entries, _ := os.ReadDir(dir)
	require.Empty(t, entries, "no partial or temporary file left")

	_, _, err = runCmd("summary", "-model", filepath.Join(dir, "none.safetensors"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, _, err = runCmd("predict", "-model", filepath.Join(dir, "none.safetensors"), "x.png")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, _, err = runCmd("predict", "-model", ckpt)
	require.ErrorContains(t, err, "no image files")
	_, _, err = runCmd("predict", "-model", ckpt, "-invert", "maybe", "x.png")
	require.ErrorContains(t, err, "-invert")
}
