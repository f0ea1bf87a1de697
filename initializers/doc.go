// Package initializers makes the initial values of learnable parameters:
// seeded, deterministic weight distributions for float32 and float64 that
// plug into the graph builder (they implement graph.Initializer) and into
// plain Gorgonia (Init.InitWFn gives a gorgonia.InitWFn for
// gorgonia.WithInit).
//
// # Distributions
//
//	Zeros, Constant(v)             every element v
//	Normal(mean, std)              N(mean, std²)
//	Uniform(low, high)             U[low, high)
//	TruncatedNormal(mean, std, a, b)
//	                               N(mean, std²) restricted to [a, b]
//	XavierNormal(gain)             N(0, std²),   std = gain·√(2/(fan_in+fan_out))
//	XavierUniform(gain)            U[−√3·std, √3·std), same std
//	LeCunNormal()                  N(0, std²),   std = 1/√fan_in
//	LeCunUniform()                 U[−√3·std, √3·std), same std
//	HeNormal(gain)                 N(0, std²),   std = gain/√fan_in
//	HeUniform(gain)                U[−√3·std, √3·std), same std
//	Orthogonal(gain)               gain · a (semi-)orthogonal matrix
//
// The uniform variants have the same variance as their normal siblings: a
// U[−b, b) variable has std b/√3. Gain returns the recommended gain for a
// nonlinearity, as PyTorch's torch.nn.init.calculate_gain.
//
// # The lecture's names
//
// The lecture gradlab grows from (CS231n's initialization experiment) uses
// four initializations; here is what each is called in this package:
//
//   - "small random numbers", randn(fan_in, fan_out)·0.01, is Normal(0, 0.01)
//     (ByName "small");
//   - "standard normal" is Normal(0, 1) (ByName "normal");
//   - "Xavier", written randn(fan_in, fan_out)/sqrt(fan_in), has std 1/√fan_in:
//     that is LeCunNormal in PyTorch and Keras terms (ByName "lecun"). Glorot
//     and Bengio's own formula, std = √(2/(fan_in+fan_out)), is XavierNormal(1)
//     (ByName "xavier"). The two agree for square layers (fan_in = fan_out),
//     which is why the lecture's 500×500 layers do not tell them apart;
//   - "He", randn(fan_in, fan_out)/sqrt(fan_in/2), has std √2/√fan_in: that is
//     HeNormal(math.Sqrt2), the gain Gain("relu") returns (ByName "he").
//
// # Fans and layout
//
// A weight used as x·W has shape (in, out), so fan_in = shape[0] and
// fan_out = shape[1] (Fans). A convolution weight is laid out as in PyTorch
// and ops.Conv2D, (out, in, k1, k2, …), with fan_in = in·k1·k2·… and
// fan_out = out·k1·k2·… (ConvFans); Init.Conv selects that reading, e.g.
// HeNormal(math.Sqrt2).Conv() for a ReLU convolution, which has the std of
// PyTorch's kaiming_normal_. The layout is never guessed from the rank:
// without Conv, fan-based initializers (Xavier, LeCun, He) and Orthogonal
// accept only rank 2 and return ErrShape for any other rank (Gorgonia's HeN,
// by contrast, silently takes fan_in = shape[1]·shape[2]·… for rank > 2).
// Rank 0 and rank 1 have no fans.
//
// # Determinism
//
// Every random initializer takes an explicit seed and never reads the clock.
// The generator is math/rand/v2's PCG, seeded with (seed, a fixed stream
// constant), and elements are drawn in row-major order. The same seed, dtype
// and shape give bit-identical values; float32 values are exactly the float64
// values of the same seed rounded to float32 (sampling is done in float64 by
// one generic implementation). Different seeds give different values.
//
// # Errors and panics
//
// Constructors validate their hyperparameters and return ErrConfig; Initialize
// returns ErrShape or ErrDtype for a shape or dtype it cannot fill. A
// gorgonia.InitWFn cannot return an error, so the function Init.InitWFn makes
// panics with the same error (message naming the initializer) on a bad shape
// or dtype; everything that can be checked before the shape is known is
// checked when the Init is made.
package initializers
