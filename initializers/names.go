package initializers

import (
	"fmt"
	"math"
	"strings"
)

// byName lists the initializers ByName knows, in the order Names reports them.
var byName = []struct {
	name string
	make func() Init
}{
	{"zeros", Zeros},
	{"ones", func() Init { return Must(Constant(1)) }},
	{"small", func() Init { return Must(Normal(0, 0.01)) }},
	{"normal", func() Init { return Must(Normal(0, 1)) }},
	{"xavier", func() Init { return Must(XavierNormal(1)) }},
	{"xavier-uniform", func() Init { return Must(XavierUniform(1)) }},
	{"lecun", LeCunNormal},
	{"lecun-uniform", LeCunUniform},
	{"he", func() Init { return Must(HeNormal(math.Sqrt2)) }},
	{"he-uniform", func() Init { return Must(HeUniform(math.Sqrt2)) }},
	{"orthogonal", func() Init { return Must(Orthogonal(1)) }},
	{"truncnormal", func() Init { return Must(TruncatedNormal(0, 1, -2, 2)) }},
}

// ByName returns the initializer with the given name, for command lines and
// configuration files (case-insensitive, surrounding spaces ignored):
//
//	zeros           Zeros()
//	ones            Constant(1)
//	small           Normal(0, 0.01)           the lecture's "small random numbers"
//	normal          Normal(0, 1)              the lecture's "standard normal"
//	xavier          XavierNormal(1)           Glorot & Bengio's formula
//	xavier-uniform  XavierUniform(1)
//	lecun           LeCunNormal()             the lecture's "Xavier", randn/sqrt(fan_in)
//	lecun-uniform   LeCunUniform()
//	he              HeNormal(√2)              the lecture's He, randn/sqrt(fan_in/2)
//	he-uniform      HeUniform(√2)
//	orthogonal      Orthogonal(1)
//	truncnormal     TruncatedNormal(0, 1, -2, 2)   PyTorch's trunc_normal_ defaults
//
// An unknown name returns ErrUnknown, naming it and listing the valid ones.
func ByName(name string) (Init, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	for _, e := range byName {
		if e.name == key {
			return e.make(), nil
		}
	}
	return Init{}, fmt.Errorf("%w: initializer %q; valid: %s", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Names returns the names ByName accepts, in a fixed order. The slice is a
// fresh copy.
func Names() []string {
	names := make([]string, len(byName))
	for i, e := range byName {
		names[i] = e.name
	}
	return names
}
