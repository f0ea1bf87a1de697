package initializers_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/initializers"
)

// all returns every initializer ByName knows, plus a few with other
// parameters, keyed by a test name.
func all(t *testing.T) map[string]initializers.Init {
	t.Helper()
	m := map[string]initializers.Init{}
	for _, name := range initializers.Names() {
		in, err := initializers.ByName(name)
		require.NoError(t, err, name)
		m[name] = in
	}
	m["uniform"] = initializers.Must(initializers.Uniform(-0.5, 2))
	m["constant"] = initializers.Must(initializers.Constant(0.25))
	return m
}

var constants = map[string]bool{"zeros": true, "ones": true, "constant": true}

func TestDeterminism(t *testing.T) {
	for name, in := range all(t) {
		for _, dt := range dtypes {
			shape := []int{40, 30}
			t.Run(fmt.Sprintf("%s/%v/shape=40x30", name, dt), func(t *testing.T) {
				a, err := in.Initialize(7, dt, shape...)
				require.NoError(t, err)
				b, err := in.Initialize(7, dt, shape...)
				require.NoError(t, err)
				assert.Equal(t, a.Data(), b.Data(), "same seed")

				c, err := in.Initialize(8, dt, shape...)
				require.NoError(t, err)
				x, y := toF64(t, a), toF64(t, c)
				same := 0
				for i := range x {
					if x[i] == y[i] {
						same++
					}
				}
				if constants[name] {
					assert.Equal(t, len(x), same, "a constant ignores the seed")
				} else {
					assert.Less(t, same, len(x)/100, "seeds 7 and 8 share %d of %d values", same, len(x))
				}
			})
		}
	}
}

// TestFloat32IsRoundedFloat64 pins the one-implementation contract: a float32
// tensor holds the float64 values of the same seed, rounded.
func TestFloat32IsRoundedFloat64(t *testing.T) {
	for name, in := range all(t) {
		t.Run(name+"/shape=20x30", func(t *testing.T) {
			a, err := in.Initialize(3, tensor.Float64, 20, 30)
			require.NoError(t, err)
			b, err := in.Initialize(3, tensor.Float32, 20, 30)
			require.NoError(t, err)
			d64, d32 := a.Data().([]float64), b.Data().([]float32)
			for i := range d64 {
				require.Equal(t, float32(d64[i]), d32[i], "element %d", i)
			}
		})
	}
}

// TestInitWFn checks that InitWFn works with gorgonia.WithInit and gives the
// same values as Initialize for the same seed.
func TestInitWFn(t *testing.T) {
	for name, in := range all(t) {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v/shape=30x20", name, dt), func(t *testing.T) {
				g := gorgonia.NewGraph()
				w := gorgonia.NewMatrix(g, dt, gorgonia.WithName("w"), gorgonia.WithShape(30, 20),
					gorgonia.WithInit(in.InitWFn(11)))
				x, err := in.Initialize(11, dt, 30, 20)
				require.NoError(t, err)
				require.Equal(t, dt, w.Value().Dtype())
				assert.Equal(t, x.Data(), w.Value().Data())
			})
		}
	}
}

func TestInitializeResult(t *testing.T) {
	he := initializers.Must(initializers.HeNormal(math.Sqrt2))
	shape := []int{4, 3}
	x, err := he.Initialize(1, tensor.Float32, shape...)
	require.NoError(t, err)
	d, ok := x.(*tensor.Dense)
	require.True(t, ok, "Initialize returns %T, want *tensor.Dense", x)
	shape[0] = 99 // the tensor must not alias the caller's shape
	assert.Equal(t, tensor.Shape{4, 3}, d.Shape())
	assert.Equal(t, tensor.Float32, d.Dtype())

	// Rank 0 is a scalar for initializers that need no fans.
	s, err := initializers.Must(initializers.Normal(1, 0)).Initialize(1, tensor.Float64)
	require.NoError(t, err)
	assert.True(t, s.IsScalar())
	assert.Equal(t, 1.0, s.Data())

	assert.Equal(t, "HeNormal", he.Name())
	assert.Equal(t, "HeNormal(gain=1.4142135623730951)", he.String())
	assert.Equal(t, "Init{}", initializers.Init{}.String())
}

func TestConstructorErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		make func() (initializers.Init, error)
		want []string // substrings of the message
	}{
		{"constant/value=NaN", func() (initializers.Init, error) { return initializers.Constant(nan) }, []string{"Constant", "value = NaN"}},
		{"constant/value=-Inf", func() (initializers.Init, error) { return initializers.Constant(-inf) }, []string{"Constant", "value = -Inf"}},
		{"normal/std=-1", func() (initializers.Init, error) { return initializers.Normal(0, -1) }, []string{"Normal", "std = -1"}},
		{"normal/std=Inf", func() (initializers.Init, error) { return initializers.Normal(0, inf) }, []string{"Normal", "std = +Inf"}},
		{"normal/std=NaN", func() (initializers.Init, error) { return initializers.Normal(0, nan) }, []string{"Normal", "std = NaN"}},
		{"normal/mean=NaN", func() (initializers.Init, error) { return initializers.Normal(nan, 1) }, []string{"Normal", "mean = NaN"}},
		{"uniform/low=high", func() (initializers.Init, error) { return initializers.Uniform(1, 1) }, []string{"Uniform", "low = 1 ≥ high = 1"}},
		{"uniform/low>high", func() (initializers.Init, error) { return initializers.Uniform(2, -1) }, []string{"Uniform", "low = 2 ≥ high = -1"}},
		{"uniform/low=NaN", func() (initializers.Init, error) { return initializers.Uniform(nan, 1) }, []string{"Uniform", "low = NaN"}},
		{"uniform/high=Inf", func() (initializers.Init, error) { return initializers.Uniform(0, inf) }, []string{"Uniform", "high = +Inf"}},
		{"uniform/overflow", func() (initializers.Init, error) {
			return initializers.Uniform(-math.MaxFloat64, math.MaxFloat64)
		}, []string{"Uniform", "overflows"}},
		{"truncnormal/std=0", func() (initializers.Init, error) { return initializers.TruncatedNormal(0, 0, -1, 1) }, []string{"TruncatedNormal", "std = 0"}},
		{"truncnormal/std=-1", func() (initializers.Init, error) { return initializers.TruncatedNormal(0, -1, -1, 1) }, []string{"TruncatedNormal", "std = -1"}},
		{"truncnormal/a>b", func() (initializers.Init, error) { return initializers.TruncatedNormal(0, 1, 1, -1) }, []string{"TruncatedNormal", "a = 1 ≥ b = -1"}},
		{"truncnormal/a=NaN", func() (initializers.Init, error) { return initializers.TruncatedNormal(0, 1, nan, 1) }, []string{"TruncatedNormal", "a = NaN"}},
		{"truncnormal/b=Inf", func() (initializers.Init, error) { return initializers.TruncatedNormal(0, 1, 0, inf) }, []string{"TruncatedNormal", "b = +Inf"}},
		{"truncnormal/mean=NaN", func() (initializers.Init, error) { return initializers.TruncatedNormal(nan, 1, 0, 1) }, []string{"TruncatedNormal", "mean = NaN"}},
		{"truncnormal/tail", func() (initializers.Init, error) { return initializers.TruncatedNormal(0, 1, 5, 6) }, []string{"TruncatedNormal", "[a, b] = [5, 6]", "probability"}},
		{"xavier-normal/gain=0", func() (initializers.Init, error) { return initializers.XavierNormal(0) }, []string{"XavierNormal", "gain = 0"}},
		{"xavier-uniform/gain=-1", func() (initializers.Init, error) { return initializers.XavierUniform(-1) }, []string{"XavierUniform", "gain = -1"}},
		{"he-normal/gain=NaN", func() (initializers.Init, error) { return initializers.HeNormal(nan) }, []string{"HeNormal", "gain = NaN"}},
		{"he-uniform/gain=Inf", func() (initializers.Init, error) { return initializers.HeUniform(inf) }, []string{"HeUniform", "gain = +Inf"}},
		{"orthogonal/gain=0", func() (initializers.Init, error) { return initializers.Orthogonal(0) }, []string{"Orthogonal", "gain = 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := c.make()
			require.Error(t, err)
			assert.ErrorIs(t, err, initializers.ErrConfig)
			for _, s := range c.want {
				assert.Contains(t, err.Error(), s)
			}
			assert.Equal(t, initializers.Init{}, in)
			assert.Panics(t, func() { initializers.Must(c.make()) })
		})
	}
}

func TestInitializeErrors(t *testing.T) {
	he := initializers.Must(initializers.HeNormal(math.Sqrt2))
	xavier := initializers.Must(initializers.XavierUniform(1))
	orth := initializers.Must(initializers.Orthogonal(1))
	normal := initializers.Must(initializers.Normal(0, 1))
	cases := []struct {
		name  string
		in    initializers.Init
		dt    tensor.Dtype
		shape []int
		is    error
		want  []string
	}{
		{"he/dtype=int", he, tensor.Int, []int{3, 2}, initializers.ErrDtype, []string{"HeNormal(gain=1.4142135623730951)", "dtype int"}},
		{"normal/dtype=complex128", normal, tensor.Complex128, []int{3}, initializers.ErrDtype, []string{"Normal(mean=0, std=1)", "dtype complex128"}},
		{"zeros/dtype=float16?uint8", initializers.Zeros(), tensor.Uint8, []int{3}, initializers.ErrDtype, []string{"Zeros()", "dtype uint8"}},
		{"he/shape=3x0", he, tensor.Float32, []int{3, 0}, initializers.ErrShape, []string{"HeNormal", "shape (3, 0)", "dimension 1 is 0"}},
		{"normal/shape=-1x2", normal, tensor.Float64, []int{-1, 2}, initializers.ErrShape, []string{"Normal", "dimension 0 is -1"}},
		{"zeros/shape=0", initializers.Zeros(), tensor.Float64, []int{0}, initializers.ErrShape, []string{"Zeros", "dimension 0 is 0"}},
		{"he/rank=0", he, tensor.Float64, nil, initializers.ErrShape, []string{"HeNormal", "rank 0"}},
		{"xavier/rank=1", xavier, tensor.Float64, []int{10}, initializers.ErrShape, []string{"XavierUniform", "rank 1"}},
		{"lecun/rank=1", initializers.LeCunNormal(), tensor.Float32, []int{10}, initializers.ErrShape, []string{"LeCunNormal", "rank 1"}},
		{"orthogonal/rank=1", orth, tensor.Float64, []int{10}, initializers.ErrShape, []string{"Orthogonal", "rank 1"}},
		{"normal/overflow", normal, tensor.Float64, []int{1 << 40, 1 << 40}, initializers.ErrShape, []string{"Normal", "overflows"}},
		{"constant/float32-overflow", initializers.Must(initializers.Constant(1e300)), tensor.Float32, []int{2}, initializers.ErrConfig, []string{"Constant(value=1e+300)", "value = 1e+300 overflows float32"}},
		{"uniform/float32-overflow", initializers.Must(initializers.Uniform(0, 1e39)), tensor.Float32, []int{2}, initializers.ErrConfig, []string{"Uniform", "high = 1e+39 overflows float32"}},
		{"zero-init", initializers.Init{}, tensor.Float64, []int{2, 2}, initializers.ErrConfig, []string{"zero Init"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := c.in.Initialize(1, c.dt, c.shape...)
			require.Error(t, err)
			assert.Nil(t, x)
			assert.ErrorIs(t, err, c.is)
			for _, s := range c.want {
				assert.Contains(t, err.Error(), s)
			}
			// InitWFn panics with the same error.
			func() {
				defer func() {
					r := recover()
					require.NotNil(t, r, "InitWFn did not panic")
					perr, ok := r.(error)
					require.True(t, ok, "panic value %T", r)
					assert.ErrorIs(t, perr, c.is)
					assert.Equal(t, err.Error(), perr.Error())
				}()
				c.in.InitWFn(1)(c.dt, c.shape...)
			}()
		})
	}
}

func TestGain(t *testing.T) {
	cases := []struct {
		name  string
		param []float64
		want  float64
	}{
		{"linear", nil, 1},
		{"identity", nil, 1},
		{"conv1d", nil, 1},
		{"conv2d", nil, 1},
		{"conv3d", nil, 1},
		{"conv_transpose1d", nil, 1},
		{"conv_transpose2d", nil, 1},
		{"conv_transpose3d", nil, 1},
		{"sigmoid", nil, 1},
		{"tanh", nil, 5.0 / 3},
		{"relu", nil, math.Sqrt2},
		{"ReLU", nil, math.Sqrt2},
		{"leaky_relu", nil, math.Sqrt(2 / (1 + 0.01*0.01))},
		{"leaky-relu", []float64{0.2}, math.Sqrt(2 / 1.04)},
		{"leaky_relu", []float64{0}, math.Sqrt2},
		{"selu", nil, 0.75},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/param=%v", c.name, c.param), func(t *testing.T) {
			g, err := initializers.Gain(c.name, c.param...)
			require.NoError(t, err)
			assert.InDelta(t, c.want, g, 1e-15)
		})
	}
	errs := []struct {
		name  string
		param []float64
		is    error
		want  string
	}{
		{"swish", nil, initializers.ErrUnknown, `"swish"`},
		{"", nil, initializers.ErrUnknown, `""`},
		{"relu", []float64{1}, initializers.ErrConfig, "relu takes no parameter"},
		{"leaky_relu", []float64{0.1, 0.2}, initializers.ErrConfig, "one parameter"},
		{"leaky_relu", []float64{math.NaN()}, initializers.ErrConfig, "slope = NaN"},
	}
	for _, c := range errs {
		t.Run(fmt.Sprintf("error/%s/param=%v", c.name, c.param), func(t *testing.T) {
			_, err := initializers.Gain(c.name, c.param...)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.is)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestFans(t *testing.T) {
	cases := []struct {
		shape       []int
		in, out     int
		errContains string
	}{
		{shape: []int{3, 2}, in: 3, out: 2},
		{shape: []int{784, 100}, in: 784, out: 100},
		{shape: []int{1, 1}, in: 1, out: 1},
		{shape: []int{3, 16, 5, 5}, errContains: "rank 4, want rank 2 (in, out); for a convolution weight (out, in, kh, kw) use the conv layout"},
		{shape: []int{4, 5, 3}, errContains: "ConvFans"},
		{shape: nil, errContains: "rank 0"},
		{shape: []int{7}, errContains: "rank 1"},
		{shape: []int{3, 0}, errContains: "dimension 1 is 0"},
		{shape: []int{-3, 2}, errContains: "dimension 0 is -3"},
		{shape: []int{1 << 40, 1 << 40}, errContains: "overflows"},
	}
	for _, c := range cases {
		t.Run("shape="+shapeName(c.shape), func(t *testing.T) {
			in, out, err := initializers.Fans(c.shape...)
			if c.errContains != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, initializers.ErrShape)
				assert.Contains(t, err.Error(), c.errContains)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.in, in, "fan_in")
			assert.Equal(t, c.out, out, "fan_out")
		})
	}
}

// TestConvFans pins PyTorch's fans for convolution weights (out, in, k…):
// fan_in = in·k, fan_out = out·k (torch.nn.init._calculate_fan_in_and_fan_out;
// testdata/conv_fans.json has PyTorch's own numbers, see TestConvInitTorch).
func TestConvFans(t *testing.T) {
	cases := []struct {
		shape       []int
		in, out     int
		errContains string
	}{
		{shape: []int{16, 1, 5, 5}, in: 25, out: 400},
		{shape: []int{32, 16, 5, 5}, in: 400, out: 800},
		{shape: []int{5, 3, 3, 2}, in: 18, out: 30},
		{shape: []int{4, 5, 3}, in: 15, out: 12},
		{shape: []int{2, 3, 1, 1, 1}, in: 3, out: 2},
		{shape: []int{3, 2}, errContains: "rank 2, want rank ≥ 3 (out, in, k1, …)"},
		{shape: []int{3, 0, 2}, errContains: "dimension 1 is 0"},
	}
	for _, c := range cases {
		t.Run("shape="+shapeName(c.shape), func(t *testing.T) {
			in, out, err := initializers.ConvFans(c.shape...)
			if c.errContains != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, initializers.ErrShape)
				assert.Contains(t, err.Error(), c.errContains)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.in, in, "fan_in")
			assert.Equal(t, c.out, out, "fan_out")
		})
	}
}

// TestLayoutExplicit checks that a rank-4 shape is an error for every
// fan-based initializer and Orthogonal unless the conv layout is chosen,
// and that initializers without fans accept it either way.
func TestLayoutExplicit(t *testing.T) {
	must := initializers.Must
	shape := []int{16, 3, 5, 5}
	for _, in := range []initializers.Init{must(initializers.HeNormal(math.Sqrt2)), must(initializers.HeUniform(1)),
		must(initializers.XavierNormal(1)), must(initializers.XavierUniform(1)), initializers.LeCunNormal(),
		initializers.LeCunUniform(), must(initializers.Orthogonal(1))} {
		t.Run(in.Name(), func(t *testing.T) {
			_, err := in.Initialize(1, tensor.Float32, shape...)
			require.ErrorIs(t, err, initializers.ErrShape)
			assert.Contains(t, err.Error(), in.String())
			assert.Contains(t, err.Error(), "Init.Conv")
			v, err := in.Conv().Initialize(1, tensor.Float32, shape...)
			require.NoError(t, err)
			assert.Equal(t, tensor.Shape(shape), v.Shape())
			assert.Equal(t, in.String()+".Conv()", in.Conv().String())
			_, err = in.Conv().Initialize(1, tensor.Float32, 3, 4)
			require.ErrorIs(t, err, initializers.ErrShape, "a conv weight has rank ≥ 3")
		})
	}
	for _, in := range []initializers.Init{initializers.Zeros(), must(initializers.Normal(0, 1))} {
		_, err := in.Initialize(1, tensor.Float64, shape...)
		assert.NoError(t, err, in.String())
	}
}

func TestByName(t *testing.T) {
	want := map[string]string{
		"zeros":          "Zeros()",
		"ones":           "Constant(value=1)",
		"small":          "Normal(mean=0, std=0.01)",
		"normal":         "Normal(mean=0, std=1)",
		"xavier":         "XavierNormal(gain=1)",
		"xavier-uniform": "XavierUniform(gain=1)",
		"lecun":          "LeCunNormal()",
		"lecun-uniform":  "LeCunUniform()",
		"he":             "HeNormal(gain=1.4142135623730951)",
		"he-uniform":     "HeUniform(gain=1.4142135623730951)",
		"orthogonal":     "Orthogonal(gain=1)",
		"truncnormal":    "TruncatedNormal(mean=0, std=1, a=-2, b=2)",
	}
	names := initializers.Names()
	assert.Len(t, names, len(want))
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			in, err := initializers.ByName(name)
			require.NoError(t, err)
			assert.Equal(t, want[name], in.String())
		})
	}
	t.Run("case-and-space", func(t *testing.T) {
		in, err := initializers.ByName("  He ")
		require.NoError(t, err)
		assert.Equal(t, want["he"], in.String())
	})
	t.Run("names-is-a-copy", func(t *testing.T) {
		initializers.Names()[0] = "mutated"
		assert.Equal(t, "zeros", initializers.Names()[0])
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := initializers.ByName("kaiming")
		require.Error(t, err)
		assert.True(t, errors.Is(err, initializers.ErrUnknown))
		assert.Contains(t, err.Error(), `"kaiming"`)
		for _, n := range names {
			assert.Contains(t, err.Error(), n)
		}
	})
}
