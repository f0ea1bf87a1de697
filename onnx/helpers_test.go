package onnx_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/datasets/mnist"
	"github.com/gradlab/gradlab/models"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/train"
)

// The runtimes the tests use are optional on a developer's machine (the
// tests skip without them) and required in CI: .ci/run installs them and
// sets GRADLAB_REQUIRE_ORT=1, which turns a skip into a failure.
//
//   - ONNX Runtime: node and npm's onnxruntime-node, found in
//     $GRADLAB_ORT_NODE_MODULES or else <repo>/.ci/ort/node_modules (where
//     .ci/run installs it: npm install --ignore-scripts --prefix .ci/ort
//     onnxruntime-node@1.30.0);
//   - onnx's checker: a python3 that imports onnx (Debian's python3-onnx,
//     /usr/bin/python3).
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("GRADLAB_REQUIRE_ORT") == "1" {
		t.Fatalf("GRADLAB_REQUIRE_ORT=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// nodeModules returns the node executable and the node_modules directory
// holding onnxruntime-node, or skips.
func nodeModules(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed (apt-get install nodejs): %v", err)
	}
	dir = os.Getenv("GRADLAB_ORT_NODE_MODULES")
	if dir == "" {
		dir, err = filepath.Abs("../.ci/ort/node_modules")
		require.NoError(t, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "onnxruntime-node", "package.json")); err != nil {
		missing(t, "onnxruntime-node is not installed in %s (npm install --ignore-scripts --prefix .ci/ort onnxruntime-node@1.30.0): %v", dir, err)
	}
	return node, dir
}

// ortInfo is what the testdata/ort_*.js scripts print: the model's input
// and output names and each output's dims.
type ortInfo struct {
	Inputs, Outputs []string
	Dims            [][]int
}

// execORT runs testdata/script in Node with ONNX Runtime on the model and
// the input bytes (args go between the input's path and the output's, as
// the scripts take them) and returns what the script printed and every
// output's values, concatenated.
func execORT(t *testing.T, script, model string, in []byte, args ...string) (ortInfo, []float32) {
	t.Helper()
	node, dir := nodeModules(t)
	tmp := t.TempDir()
	inPath, outPath := filepath.Join(tmp, "in.bin"), filepath.Join(tmp, "out.f32")
	require.NoError(t, os.WriteFile(inPath, in, 0o644))
	js, err := filepath.Abs(filepath.Join("testdata", script))
	require.NoError(t, err)
	cmd := exec.Command(node, append(append([]string{js, model, inPath}, args...), outPath)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+dir)
	stdout, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("ONNX Runtime failed: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	var info ortInfo
	require.NoError(t, json.Unmarshal(stdout, &info), "%s", stdout)
	b, err := os.ReadFile(outPath)
	require.NoError(t, err)
	return info, f32s(b)
}

// runORT runs the ONNX file in ONNX Runtime on n examples of unit-scaled
// pixels and returns its logits and probabilities, row-major.
func runORT(t *testing.T, model string, pixels []float32, n int) (logits, probs []float32) {
	t.Helper()
	info, v := execORT(t, "ort_run.js", model, f32bytes(pixels), itoa(n))
	require.Equal(t, []string{"pixels"}, info.Inputs)
	require.Equal(t, []string{"logits", "probabilities"}, info.Outputs)
	require.Len(t, info.Dims, 2)
	require.Equal(t, info.Dims[0], info.Dims[1])
	require.Equal(t, n, info.Dims[0][0])
	require.Len(t, v, 2*n*info.Dims[0][1])
	return v[:len(v)/2], v[len(v)/2:]
}

// checkONNX runs onnx's checker on the file and returns what check.py prints.
func checkONNX(t *testing.T, model string) (info struct {
	ONNX     string `json:"onnx"`
	IR       int    `json:"ir_version"`
	Opset    []int  `json:"opset"`
	Inputs   []string
	Outputs  []string
	Ops      []string
	Metadata map[string]string
}) {
	t.Helper()
	var python string
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import onnx").Run() == nil {
			python = path
			break
		}
	}
	if python == "" {
		missing(t, "no python3 imports onnx (apt-get install python3-onnx)")
	}
	out, err := exec.Command(python, "testdata/check.py", model).CombinedOutput()
	require.NoError(t, err, "onnx checker: %s", out)
	require.NoError(t, json.Unmarshal(out, &info), "%s", out)
	return info
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f32s(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

var (
	mnistOnce             sync.Once
	mnistTrain, mnistTest *mnist.Dataset
	mnistErr              error
)

func loadMNIST(t *testing.T) (trainSet, testSet *mnist.Dataset) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTest, mnistErr = mnist.LoadDefault() })
	require.NoError(t, mnistErr)
	return mnistTrain, mnistTest
}

// subset returns the first n images of d with the given scaling.
func subset(t *testing.T, d *mnist.Dataset, n int, s mnist.Scaling) *mnist.Dataset {
	t.Helper()
	sub, err := d.Slice(0, n)
	require.NoError(t, err)
	c := *sub
	c.Scaling = s
	return &c
}

// unitPixels returns d's images as float32 pixels in [0, 1], the exported
// model's input.
func unitPixels(d *mnist.Dataset) []float32 {
	v := make([]float32, len(d.Pixels[:d.N*d.Features()]))
	for i, p := range d.Pixels[:len(v)] {
		v[i] = float32(p) / 255
	}
	return v
}

// scaled returns d's images as d.Scaling gathers them, in the model's dtype.
func scaled(t *testing.T, d *mnist.Dataset, dt tensor.Dtype) *tensor.Dense {
	t.Helper()
	idx := make([]int, d.N)
	for i := range idx {
		idx[i] = i
	}
	x := tensor.New(tensor.Of(dt), tensor.WithShape(d.N, 1, d.Rows, d.Cols))
	require.NoError(t, d.Gather(idx, x, tensor.New(tensor.Of(tensor.Int), tensor.WithShape(d.N))))
	return x
}

// trainModel trains the registry's model name with config cfg for one
// epoch over the first n training images (batch 32) and returns it with
// its run configuration.
func trainModel(t *testing.T, name string, cfg any, n int, s mnist.Scaling) (*nn.Model, train.Config) {
	t.Helper()
	tr, te := loadMNIST(t)
	spec, err := train.NewSpec(name, cfg)
	require.NoError(t, err)
	m, err := models.Build(name, spec.Config, 1)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	c := train.Default()
	c.Model, c.Epochs, c.Batch, c.TrainLimit, c.TestLimit = spec, 1, 32, n, 500
	c.Data, err = train.NewSpec("mnist", map[string]string{"scaling": s.String()})
	require.NoError(t, err)
	_, err = train.Train(context.Background(), c, m, train.Data{Train: subset(t, tr, tr.N, s), Test: subset(t, te, te.N, s)}, train.Options{})
	require.NoError(t, err)
	return m, c
}

// compareLogits returns the largest absolute and relative (to max(1, |b|))
// differences of two logit arrays.
func compareLogits(a, b []float32) (maxAbs, maxRel float64) {
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		maxAbs = max(maxAbs, d)
		maxRel = max(maxRel, d/max(1, math.Abs(float64(b[i]))))
	}
	return maxAbs, maxRel
}

func argmax(z []float32, k int) []int {
	out := make([]int, len(z)/k)
	for i := range out {
		best := 0
		for j := 1; j < k; j++ {
			if z[i*k+j] > z[i*k+best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

func joined(s []string) string { return strings.Join(s, " ") }
