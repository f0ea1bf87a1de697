package initializers_test

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
)

// The package does not import graph (the graph builder may import it), so the
// compile-time interface check lives here, in the external test package.
var _ graph.Initializer = initializers.Init{}

// A 3×2 layer whose weights come from HeNormal with gain √2 (the lecture's
// He, randn(fan_in, fan_out)/sqrt(fan_in/2)) and seed 42, built with plain
// Gorgonia. The same seed gives the same weights, bit for bit.
func ExampleHeNormal() {
	he, err := initializers.HeNormal(math.Sqrt2)
	if err != nil {
		fmt.Println(err)
		return
	}
	const seed = 42
	g := gorgonia.NewGraph()
	w1 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithName("w1"),
		gorgonia.WithShape(3, 2), gorgonia.WithInit(he.InitWFn(seed)))
	w2 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithName("w2"),
		gorgonia.WithShape(3, 2), gorgonia.WithInit(he.InitWFn(seed)))

	fmt.Println(he, "shape", w1.Shape())
	fmt.Println("same seed, same weights:", fmt.Sprint(w1.Value()) == fmt.Sprint(w2.Value()))

	// The graph builder calls Initialize with the same seed: same values.
	t, _ := he.Initialize(seed, tensor.Float64, 3, 2)
	fmt.Println("Initialize agrees:", fmt.Sprint(t) == fmt.Sprint(w1.Value()))
	// Output:
	// HeNormal(gain=1.4142135623730951) shape (3, 2)
	// same seed, same weights: true
	// Initialize agrees: true
}

// The lecture's four initializations, by the names a command line uses.
func ExampleByName() {
	for _, name := range []string{"small", "normal", "lecun", "he"} {
		in, err := initializers.ByName(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-6s %v\n", name, in)
	}
	_, err := initializers.ByName("kaiming")
	fmt.Println(err)
	// Output:
	// small  Normal(mean=0, std=0.01)
	// normal Normal(mean=0, std=1)
	// lecun  LeCunNormal()
	// he     HeNormal(gain=1.4142135623730951)
	// initializers: unknown name: initializer "kaiming"; valid: zeros, ones, small, normal, xavier, xavier-uniform, lecun, lecun-uniform, he, he-uniform, orthogonal, truncnormal
}

func ExampleGain() {
	for _, nl := range []string{"linear", "tanh", "relu", "selu"} {
		g, _ := initializers.Gain(nl)
		fmt.Printf("%-6s %.4f\n", nl, g)
	}
	g, _ := initializers.Gain("leaky_relu", 0.2)
	fmt.Printf("leaky_relu(0.2) %.4f\n", g)
	// Output:
	// linear 1.0000
	// tanh   1.6667
	// relu   1.4142
	// selu   0.7500
	// leaky_relu(0.2) 1.3868
}

// A dense weight (in, out) and a convolution weight (out, in, kh, kw).
func ExampleFans() {
	in, out, _ := initializers.Fans(784, 100)
	fmt.Println(in, out)
	in, out, _ = initializers.ConvFans(16, 3, 5, 5)
	fmt.Println(in, out)
	_, _, err := initializers.Fans(16, 3, 5, 5)
	fmt.Println(err)
	// Output:
	// 784 100
	// 75 400
	// initializers: bad shape: Fans: shape (16, 3, 5, 5) has rank 4, want rank 2 (in, out); for a convolution weight (out, in, kh, kw) use the conv layout (ConvFans, Init.Conv)
}

// He initialization of a Conv2D weight (O, C, KH, KW): std = √2/√(C·KH·KW),
// PyTorch's kaiming_normal_(w, nonlinearity="relu").
func ExampleInit_Conv() {
	he := initializers.Must(initializers.HeNormal(math.Sqrt2)).Conv()
	w, err := he.Initialize(1, tensor.Float32, 16, 1, 5, 5)
	fmt.Println(he, w.Shape(), err)
	_, err = initializers.Must(initializers.HeNormal(math.Sqrt2)).Initialize(1, tensor.Float32, 16, 1, 5, 5)
	fmt.Println(err != nil)
	// Output:
	// HeNormal(gain=1.4142135623730951).Conv() (16, 1, 5, 5) <nil>
	// true
}

// Weights for a float32 layer, deterministic from the seed.
func ExampleInit_Initialize() {
	xavier := initializers.Must(initializers.XavierUniform(1))
	t, err := xavier.Initialize(7, tensor.Float32, 2, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Dtype(), t.Shape())
	bound := float32(math.Sqrt(6.0 / 5))
	ok := true
	for _, v := range t.Data().([]float32) {
		ok = ok && v >= -bound && v <= bound
	}
	fmt.Println("within ±√(6/(fan_in+fan_out)):", ok)
	// Output:
	// float32 (2, 3)
	// within ±√(6/(fan_in+fan_out)): true
}
