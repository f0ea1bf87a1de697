package initializers_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/initializers"
)

// moments returns the sample mean, standard deviation and kurtosis
// (E[(x−μ)⁴]/σ⁴: 3 for a normal, 1.8 for a uniform) of xs.
func moments[T float32 | float64](xs []T) (mean, std, kurt float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += float64(x)
	}
	mean /= n
	var m2, m4 float64
	for _, x := range xs {
		d := float64(x) - mean
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m4 /= n
	return mean, math.Sqrt(m2), m4 / (m2 * m2)
}

// toF64 returns the values of a float32 or float64 tensor as float64.
func toF64(t *testing.T, x tensor.Tensor) []float64 {
	t.Helper()
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	default:
		t.Fatalf("data of type %T", d)
		return nil
	}
}

// truncMoments returns the mean and std of N(mu, sigma²) truncated to [a, b].
func truncMoments(mu, sigma, a, b float64) (mean, std float64) {
	phi := func(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }
	cdf := func(z float64) float64 { return math.Erfc(-z/math.Sqrt2) / 2 }
	al, be := (a-mu)/sigma, (b-mu)/sigma
	z := cdf(be) - cdf(al)
	d := (phi(al) - phi(be)) / z
	mean = mu + sigma*d
	v := sigma * sigma * (1 + (al*phi(al)-be*phi(be))/z - d*d)
	return mean, math.Sqrt(v)
}

var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// statKind says which checks a statistical case gets.
type statKind int

const (
	statNormal  statKind = iota // kurtosis ≈ 3
	statUniform                 // within [low, high], kurtosis ≈ 1.8
	statTrunc                   // within [low, high]
)

// TestMoments draws ≥ 1e5 samples per case and checks the mean and std within
// five standard errors of the theoretical values (SE of the mean σ/√n, SE of
// the std ≈ σ/√(2n) for a normal, less for lighter tails), the bounds of the
// uniform and truncated cases, and the kurtosis that tells a normal from a
// uniform.
func TestMoments(t *testing.T) {
	sqrt3 := math.Sqrt(3)
	type tc struct {
		name      string
		in        initializers.Init
		shape     []int
		mean, std float64
		kind      statKind
		low, high float64
	}
	must := initializers.Must
	xstd := func(gain float64, fi, fo int) float64 { return gain * math.Sqrt(2/float64(fi+fo)) }
	hstd := func(gain float64, fi int) float64 { return gain / math.Sqrt(float64(fi)) }
	tm, ts := truncMoments(0, 1, -2, 2)
	am, as := truncMoments(0.5, 1, -1, 3)
	pm, ps := truncMoments(0, 0.02, -0.04, 0.04)
	cases := []tc{
		{name: "small", in: must(initializers.Normal(0, 0.01)), shape: []int{500, 500}, mean: 0, std: 0.01},
		{name: "normal", in: must(initializers.Normal(0, 1)), shape: []int{500, 500}, mean: 0, std: 1},
		{name: "normal/mean=3,std=2", in: must(initializers.Normal(3, 2)), shape: []int{1000, 100}, mean: 3, std: 2},
		{name: "uniform/low=-1,high=1", in: must(initializers.Uniform(-1, 1)), shape: []int{500, 500},
			mean: 0, std: 2 / math.Sqrt(12), kind: statUniform, low: -1, high: 1},
		{name: "uniform/low=2,high=5", in: must(initializers.Uniform(2, 5)), shape: []int{100000},
			mean: 3.5, std: 3 / math.Sqrt(12), kind: statUniform, low: 2, high: 5},
		{name: "xavier-normal/gain=1", in: must(initializers.XavierNormal(1)), shape: []int{400, 250},
			std: xstd(1, 400, 250)},
		{name: "xavier-normal/gain=5|3", in: must(initializers.XavierNormal(5.0 / 3)), shape: []int{500, 500},
			std: xstd(5.0/3, 500, 500)},
		{name: "xavier-uniform/gain=1", in: must(initializers.XavierUniform(1)), shape: []int{400, 250},
			std: xstd(1, 400, 250), kind: statUniform, low: -sqrt3 * xstd(1, 400, 250), high: sqrt3 * xstd(1, 400, 250)},
		{name: "lecun-normal", in: initializers.LeCunNormal(), shape: []int{500, 200}, std: hstd(1, 500)},
		{name: "lecun-uniform", in: initializers.LeCunUniform(), shape: []int{500, 200},
			std: hstd(1, 500), kind: statUniform, low: -sqrt3 * hstd(1, 500), high: sqrt3 * hstd(1, 500)},
		{name: "he-normal/gain=sqrt2", in: must(initializers.HeNormal(math.Sqrt2)), shape: []int{500, 500},
			std: math.Sqrt(2.0 / 500)},
		// A conv weight (out, in, k1, k2): fan_in = 32·7·7.
		{name: "he-normal/gain=sqrt2/conv", in: must(initializers.HeNormal(math.Sqrt2)).Conv(), shape: []int{64, 32, 7, 7},
			std: hstd(math.Sqrt2, 32*49)},
		{name: "he-uniform/gain=sqrt2", in: must(initializers.HeUniform(math.Sqrt2)), shape: []int{200, 500},
			std: hstd(math.Sqrt2, 200), kind: statUniform, low: -sqrt3 * hstd(math.Sqrt2, 200), high: sqrt3 * hstd(math.Sqrt2, 200)},
		{name: "truncnormal/std=1,a=-2,b=2", in: must(initializers.TruncatedNormal(0, 1, -2, 2)), shape: []int{500, 500},
			mean: tm, std: ts, kind: statTrunc, low: -2, high: 2},
		{name: "truncnormal/mean=0.5,a=-1,b=3", in: must(initializers.TruncatedNormal(0.5, 1, -1, 3)), shape: []int{500, 500},
			mean: am, std: as, kind: statTrunc, low: -1, high: 3},
		{name: "truncnormal/std=0.02,a=-0.04,b=0.04", in: must(initializers.TruncatedNormal(0, 0.02, -0.04, 0.04)), shape: []int{500, 500},
			mean: pm, std: ps, kind: statTrunc, low: -0.04, high: 0.04},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v/shape=%s", c.name, dt, shapeName(c.shape)), func(t *testing.T) {
				x, err := c.in.Initialize(12345, dt, c.shape...)
				require.NoError(t, err)
				require.Equal(t, dt, x.Dtype())
				require.Equal(t, tensor.Shape(c.shape), x.Shape())
				xs := toF64(t, x)
				n := float64(len(xs))
				require.GreaterOrEqual(t, n, 1e5)
				mean, std, kurt := moments(xs)
				assert.InDelta(t, c.mean, mean, 5*c.std/math.Sqrt(n), "mean")
				assert.InDelta(t, c.std, std, 5*c.std/math.Sqrt(2*n), "std")
				switch c.kind {
				case statNormal:
					// SE of the kurtosis of a normal is √(24/n) ≈ 0.015 for n = 1e5.
					assert.InDelta(t, 3, kurt, 0.1, "kurtosis")
				case statUniform:
					assert.InDelta(t, 1.8, kurt, 0.05, "kurtosis")
				}
				if c.kind != statNormal {
					lo, hi := c.low, c.high
					if dt == tensor.Float32 {
						lo, hi = float64(float32(lo)), float64(float32(hi))
					}
					for i, v := range xs {
						if v < lo || v > hi {
							t.Fatalf("element %d = %v outside [%v, %v]", i, v, lo, hi)
						}
					}
				}
			})
		}
	}
}

func shapeName(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}

func TestConstant(t *testing.T) {
	cases := []struct {
		name string
		in   initializers.Init
		want float64
	}{
		{"zeros", initializers.Zeros(), 0},
		{"constant/value=0.1", initializers.Must(initializers.Constant(0.1)), 0.1},
		{"constant/value=-3", initializers.Must(initializers.Constant(-3)), -3},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			for _, shape := range [][]int{{}, {5}, {3, 4}, {2, 3, 4}} {
				t.Run(fmt.Sprintf("%s/%v/shape=%s", c.name, dt, shapeName(shape)), func(t *testing.T) {
					x, err := c.in.Initialize(1, dt, shape...)
					require.NoError(t, err)
					require.Equal(t, tensor.Shape(shape), x.Shape())
					d := x.(*tensor.Dense)
					for i := 0; i < d.Size(); i++ {
						v, err := d.At(unravel(i, shape)...)
						require.NoError(t, err)
						if dt == tensor.Float32 {
							assert.Equal(t, float32(c.want), v)
						} else {
							assert.Equal(t, c.want, v)
						}
					}
				})
			}
		}
	}
}

// unravel turns a flat row-major index into coordinates.
func unravel(i int, shape []int) []int {
	coords := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		coords[k] = i % shape[k]
		i /= shape[k]
	}
	return coords
}

// TestOrthogonal checks WᵀW = gain²·I for tall (and square) matrices and
// WWᵀ = gain²·I for wide ones, with rank > 2 flattened to
// (shape[0], rest).
func TestOrthogonal(t *testing.T) {
	cases := []struct {
		shape []int
		gain  float64
	}{
		{[]int{200, 50}, 1},
		{[]int{50, 200}, 1},
		{[]int{100, 100}, 1},
		{[]int{100, 100}, 2},
		{[]int{300, 30}, math.Sqrt2},
		{[]int{20, 5, 4}, 1},   // a 20×20 matrix
		{[]int{6, 4, 3, 3}, 1}, // a 6×36 matrix: orthonormal rows
		{[]int{1, 10}, 1},
		{[]int{10, 1}, 3},
		{[]int{100000, 10}, 1}, // thin Q: 1e6 floats, not 1e10
		{[]int{8, 50000}, 1},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("orthogonal/gain=%g/%v/shape=%s", c.gain, dt, shapeName(c.shape)), func(t *testing.T) {
				in := initializers.Must(initializers.Orthogonal(c.gain))
				if len(c.shape) > 2 {
					in = in.Conv()
				}
				x, err := in.Initialize(99, dt, c.shape...)
				require.NoError(t, err)
				require.Equal(t, tensor.Shape(c.shape), x.Shape())
				w := toF64(t, x)
				rows := c.shape[0]
				cols := len(w) / rows
				// Float64: Householder QR is backward stable, errors ~1e-15.
				// Float32: rounding each element (relative 6e-8) moves a Gram
				// entry by at most ~1.2e-7·gain².
				tol := 1e-12 * c.gain * c.gain
				if dt == tensor.Float32 {
					tol = 1e-6 * c.gain * c.gain
				}
				// Gram matrix of the columns (tall) or the rows (wide).
				k, m := cols, rows
				// at(i, j) is element i of vector j: of column j (tall) or row j (wide).
				at := func(i, j int) float64 { return w[i*cols+j] }
				if rows < cols {
					k, m = rows, cols
					at = func(i, j int) float64 { return w[j*cols+i] }
				}
				for p := 0; p < k; p++ {
					for q := 0; q < k; q++ {
						var s float64
						for i := 0; i < m; i++ {
							s += at(i, p) * at(i, q)
						}
						want := 0.0
						if p == q {
							want = c.gain * c.gain
						}
						if math.Abs(s-want) > tol {
							t.Fatalf("Gram[%d][%d] = %v, want %v (tol %v)", p, q, s, want, tol)
						}
					}
				}
			})
		}
	}
}

// TestOrthogonalSignCorrection checks the effect of multiplying Q by the signs
// of R's diagonal: without it, Householder QR makes Q[0][0] = a00/R[0][0]
// always of one sign; with it, W[0][0] is symmetric about 0, as for a
// uniformly (Haar) distributed orthogonal matrix.
func TestOrthogonalSignCorrection(t *testing.T) {
	in := initializers.Must(initializers.Orthogonal(1))
	const seeds = 4000
	var sum, pos float64
	for seed := uint64(0); seed < seeds; seed++ {
		x, err := in.Initialize(seed, tensor.Float64, 4, 4)
		require.NoError(t, err)
		v := x.Data().([]float64)[0]
		sum += v
		if v > 0 {
			pos++
		}
	}
	// W[0][0] of a Haar 4×4 matrix has variance 1/4.
	assert.InDelta(t, 0, sum/seeds, 5*0.5/math.Sqrt(seeds), "mean of W[0][0]")
	assert.InDelta(t, 0.5, pos/seeds, 5*0.5/math.Sqrt(seeds), "fraction of positive W[0][0]")
}
