package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/gradlab/gradlab/graph"
	"gorgonia.org/tensor"
)

// ErrDtype reports a parameter that is not float64: finite differences in
// float32 are too coarse to check anything.
var ErrDtype = errors.New("gradcheck: parameters must be float64")

// ErrNoGradients reports a program without a loss or without parameters.
var ErrNoGradients = errors.New("gradcheck: program computes no gradients")

// Options tune the check. Zero values select the defaults.
type Options struct {
	Step  float64 // h of the central difference; default 1e-5
	Floor float64 // denominator floor of the relative error; default 1e-3
}

// Result is the worst element of one parameter.
type Result struct {
	Param    string  // parameter name
	Index    int     // flat index of the worst element
	Analytic float64 // gradient computed by the program
	Numeric  float64 // central finite difference
	RelErr   float64 // |Analytic − Numeric| / max(|Analytic|, |Numeric|, Floor)
}

// String formats the result for test failure messages.
func (r Result) String() string {
	return fmt.Sprintf("%s[%d]: analytic %.10g numeric %.10g relerr %.3g", r.Param, r.Index, r.Analytic, r.Numeric, r.RelErr)
}

// Check runs p once in Train mode to get the analytic gradients, then
// perturbs every element of every parameter and runs p forward to get the
// numeric ones. It returns the worst element of each parameter, in the
// program's parameter order. The parameters' values and the program's
// states are restored and the gradients zeroed when it returns; p's mode is
// left as it was.
func Check(p *graph.Program, feeds graph.Feeds, opt Options) ([]Result, error) {
	if opt.Step == 0 {
		opt.Step = 1e-5
	}
	if opt.Floor == 0 {
		opt.Floor = 1e-3
	}
	if !p.HasGradients() {
		return nil, ErrNoGradients
	}
	params := p.Params()
	for _, n := range params {
		if n.Dtype() != tensor.Float64 {
			return nil, fmt.Errorf("%w: %q is %v", ErrDtype, n.Name(), n.Dtype())
		}
	}
	mode := p.Mode()
	defer p.SetMode(mode)
	// Train-mode runs move batch-norm statistics and dropout counters: put
	// them back afterwards.
	for _, st := range p.States() {
		saved := st.Value.Clone().(*tensor.Dense)
		defer func() { reflect.Copy(reflect.ValueOf(st.Value.Data()), reflect.ValueOf(saved.Data())) }()
	}
	p.SetMode(graph.Train)
	if err := p.ZeroGrads(); err != nil {
		return nil, err
	}
	if err := p.Run(feeds); err != nil {
		return nil, err
	}
	analytic := make([][]float64, len(params))
	for i, n := range params {
		g, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("gradcheck: gradient of %q: %w", n.Name(), err)
		}
		analytic[i] = append([]float64(nil), g.Data().([]float64)...)
	}
	if err := p.ZeroGrads(); err != nil {
		return nil, err
	}
	loss := func() (float64, error) {
		if err := p.Forward(feeds); err != nil {
			return 0, err
		}
		return p.Loss(), nil
	}
	results := make([]Result, len(params))
	for i, n := range params {
		w := n.Value().Data().([]float64)
		worst := Result{Param: n.Name(), Index: -1}
		for j := range w {
			orig := w[j]
			w[j] = orig + opt.Step
			lp, err := loss()
			if err != nil {
				w[j] = orig
				return nil, err
			}
			w[j] = orig - opt.Step
			lm, err := loss()
			w[j] = orig
			if err != nil {
				return nil, err
			}
			num := (lp - lm) / (2 * opt.Step)
			a := analytic[i][j]
			rel := math.Abs(a-num) / max(math.Abs(a), math.Abs(num), opt.Floor)
			if math.IsNaN(rel) {
				rel = math.Inf(1)
			}
			if worst.Index < 0 || rel > worst.RelErr {
				worst = Result{Param: n.Name(), Index: j, Analytic: a, Numeric: num, RelErr: rel}
			}
		}
		results[i] = worst
	}
	return results, nil
}

// MaxRelErr returns the largest relative error among results.
func MaxRelErr(results []Result) float64 {
	var m float64
	for _, r := range results {
		m = max(m, r.RelErr)
	}
	return m
}
