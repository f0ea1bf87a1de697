package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/initializers"
	"github.com/gradlab/gradlab/ops"
)

// InitCase is one weight initialization and activation of the lecture's
// initialization experiment.
type InitCase struct {
	Name       string // as in stats.csv, e.g. "xavier-tanh"
	Label      string // for legends, e.g. "Xavier randn/√n, tanh"
	Activation string // "tanh" or "relu"
	Init       initializers.Init
	BatchNorm  bool // batch normalization (Train mode: batch statistics) before the activation
}

// InitCases returns the six cases of the experiment, in the lecture's order:
//
//	std0.01-tanh  N(0, 0.01²), tanh          "small random numbers"
//	std1-tanh     N(0, 1), tanh              "standard normal"
//	xavier-tanh   N(0, 1/fan_in), tanh       the lecture's Xavier, randn/sqrt(fan_in) = LeCunNormal
//	xavier-relu   N(0, 1/fan_in), ReLU
//	he-relu       N(0, 2/fan_in), ReLU       He, randn/sqrt(fan_in/2) = HeNormal(√2)
//	he-relu-bn    He, batch norm, ReLU
func InitCases() []InitCase {
	small := initializers.Must(initializers.Normal(0, 0.01))
	unit := initializers.Must(initializers.Normal(0, 1))
	he := initializers.Must(initializers.HeNormal(math.Sqrt2))
	return []InitCase{
		{Name: "std0.01-tanh", Label: "N(0, 0.01²), tanh", Activation: "tanh", Init: small},
		{Name: "std1-tanh", Label: "N(0, 1), tanh", Activation: "tanh", Init: unit},
		{Name: "xavier-tanh", Label: "Xavier, tanh", Activation: "tanh", Init: initializers.LeCunNormal()},
		{Name: "xavier-relu", Label: "Xavier, ReLU", Activation: "relu", Init: initializers.LeCunNormal()},
		{Name: "he-relu", Label: "He, ReLU", Activation: "relu", Init: he},
		{Name: "he-relu-bn", Label: "He, BN, ReLU", Activation: "relu", Init: he, BatchNorm: true},
	}
}

// InitStatsOptions size the initialization experiment. Zero fields take the
// lecture's values: 1000 samples of 500 unit-Gaussian features through 10
// layers of 500 units, histograms of 30 bins.
type InitStatsOptions struct {
	Options
	Samples, Units, Layers, Bins int
	Cases                        []InitCase // default InitCases()
	// Gradients adds a backward pass for LayerStats.GradStd (about three
	// times the work of the forward pass).
	Gradients bool
}

// LayerStats summarizes the activations (outputs of the nonlinearity) of one
// layer over all samples and units.
type LayerStats struct {
	Layer     int     // 1-based
	Mean, Std float64 // population mean and standard deviation
	Saturated float64 // fraction with |a| > 0.99
	Zeros     float64 // fraction exactly 0 (dead ReLU outputs)
	GradStd   float64 // std of dL/dW of the layer's weights for L = mean(a_last · G), G ~ N(0, 1) fixed
}

// Hist is a histogram of one layer's activations: Counts[i] values fell in
// [Edges[i], Edges[i+1]). For ReLU the exact zeros are left out (counted in
// LayerStats.Zeros), so the shape of the positive part stays visible.
type Hist struct {
	Edges, Counts []float64
	Outside       int // values outside the range (not counted)
}

// InitCaseResult is what one case produced.
type InitCaseResult struct {
	Case       InitCase
	Layers     []LayerStats
	Hists      []Hist
	HistLo     float64 // histogram range
	HistHi     float64
	Activation string
}

// InitStatsResult is the whole experiment.
type InitStatsResult struct {
	Samples, Units, Layers int
	Cases                  []InitCaseResult
}

// Case returns the result of the named case, or nil.
func (r *InitStatsResult) Case(name string) *InitCaseResult {
	for i := range r.Cases {
		if r.Cases[i].Case.Name == name {
			return &r.Cases[i]
		}
	}
	return nil
}

// InitStats runs the lecture's (CS231n's) initialization experiment: a
// Samples × Units matrix of unit-Gaussian inputs goes through Layers fully
// connected layers of Units units without bias, h = act(h·W), with W drawn by
// each case's initializer; per layer it records the activations' mean, std,
// saturation and a histogram (range −1..1 for tanh, 0..3 for ReLU). A
// backward pass of L = mean(a_last ⊙ G) with a fixed Gaussian G gives each
// layer's weight-gradient std. The graph is float64 and built with graph, ops
// and initializers; batch normalization runs in Train mode (batch statistics).
func InitStats(opt InitStatsOptions) (*InitStatsResult, error) {
	n, d, layers, bins := opt.Samples, opt.Units, opt.Layers, opt.Bins
	if n == 0 {
		n = 1000
	}
	if d == 0 {
		d = 500
	}
	if layers == 0 {
		layers = 10
	}
	if bins == 0 {
		bins = 30
	}
	if n < 2 || d < 1 || layers < 1 || bins < 1 {
		return nil, fmt.Errorf("%w: init-stats needs Samples ≥ 2, Units, Layers, Bins ≥ 1 (got %d, %d, %d, %d)", ErrConfig, n, d, layers, bins)
	}
	cases := opt.Cases
	if cases == nil {
		cases = InitCases()
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x1417))
	x := make([]float64, n*d)
	g := make([]float64, n*d)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	res := &InitStatsResult{Samples: n, Units: d, Layers: layers}
	for _, c := range cases {
		cr, err := initCase(c, opt.Seed, x, g, n, d, layers, bins, opt.Gradients)
		if err != nil {
			return nil, fmt.Errorf("experiments: init-stats %s: %w", c.Name, err)
		}
		res.Cases = append(res.Cases, *cr)
	}
	return res, nil
}

func initCase(c InitCase, seed uint64, x, g []float64, n, d, layers, bins int, grads bool) (*InitCaseResult, error) {
	var act func(*gorgonia.Node) (*gorgonia.Node, error)
	lo, hi := -1.0, 1.0
	switch c.Activation {
	case "tanh":
		act = ops.Tanh
	case "relu":
		act, lo, hi = ops.ReLU, 0, 3
	default:
		return nil, fmt.Errorf("%w: activation %q (want tanh or relu)", ErrConfig, c.Activation)
	}
	b := graph.NewBuilder(seed)
	in, err := b.Input("x", tensor.Float64, n, d)
	if err != nil {
		return nil, err
	}
	var gin *gorgonia.Node
	if grads {
		if gin, err = b.Input("g", tensor.Float64, n, d); err != nil {
			return nil, err
		}
	}
	h := in
	outs := make([]*gorgonia.Node, layers)
	for l := range layers {
		w, err := b.Param(fmt.Sprintf("fc%d/w", l+1), tensor.Float64, c.Init, d, d)
		if err != nil {
			return nil, err
		}
		if h, err = ops.MatMul(h, w); err != nil {
			return nil, err
		}
		if c.BatchNorm {
			if h, err = ops.BatchNorm(b, fmt.Sprintf("bn%d", l+1), h, ops.BatchNormOptions{}); err != nil {
				return nil, err
			}
		}
		if h, err = act(h); err != nil {
			return nil, err
		}
		outs[l] = h
	}
	var loss *gorgonia.Node
	if grads {
		prod, err := gorgonia.HadamardProd(h, gin)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", graph.ErrBuild, err)
		}
		if loss, err = gorgonia.Mean(prod); err != nil {
			return nil, fmt.Errorf("%w: %w", graph.ErrBuild, err)
		}
	}
	p, err := b.Compile(loss, outs...)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	feeds := graph.Feeds{"x": tensor.New(tensor.WithShape(n, d), tensor.WithBacking(x))}
	if grads {
		feeds["g"] = tensor.New(tensor.WithShape(n, d), tensor.WithBacking(g))
	}
	if err := p.Run(feeds); err != nil {
		return nil, err
	}
	cr := &InitCaseResult{Case: c, HistLo: lo, HistHi: hi, Activation: c.Activation}
	for l := range layers {
		a, ok := p.Output(l).Data().([]float64)
		if !ok {
			return nil, fmt.Errorf("%w: layer %d output is %T", graph.ErrRun, l+1, p.Output(l).Data())
		}
		st := summarize(a)
		st.Layer = l + 1
		cr.Layers = append(cr.Layers, st)
		cr.Hists = append(cr.Hists, histogram(a, lo, hi, bins, c.Activation == "relu"))
	}
	if !grads {
		return cr, nil
	}
	// Weight gradients: the parameters named fc<l>/w.
	for _, pn := range p.Params() {
		var l int
		if _, err := fmt.Sscanf(pn.Name(), "fc%d/w", &l); err != nil || l < 1 || l > layers {
			continue
		}
		gv := pn.Grad
		gval, err := gv()
		if err != nil {
			return nil, fmt.Errorf("%w: gradient of %s: %v", graph.ErrRun, pn.Name(), err)
		}
		if gd, ok := gval.Data().([]float64); ok {
			cr.Layers[l-1].GradStd = summarize(gd).Std
		}
	}
	return cr, nil
}

// summarize returns the mean, std, saturation and zero fraction of a.
func summarize(a []float64) LayerStats {
	var sum, sat, zeros float64
	for _, v := range a {
		sum += v
		if math.Abs(v) > 0.99 {
			sat++
		}
		if v == 0 {
			zeros++
		}
	}
	m := float64(len(a))
	mean := sum / m
	var ss float64
	for _, v := range a {
		ss += (v - mean) * (v - mean)
	}
	return LayerStats{Mean: mean, Std: math.Sqrt(ss / m), Saturated: sat / m, Zeros: zeros / m}
}

func histogram(a []float64, lo, hi float64, bins int, skipZeros bool) Hist {
	h := Hist{Edges: make([]float64, bins+1), Counts: make([]float64, bins)}
	width := (hi - lo) / float64(bins)
	for i := range h.Edges {
		h.Edges[i] = lo + width*float64(i)
	}
	for _, v := range a {
		if skipZeros && v == 0 {
			continue
		}
		if !(v >= lo && v <= hi) { // NaN too
			h.Outside++
			continue
		}
		k := min(int((v-lo)/width), bins-1) // v = hi, or rounding just below it, goes in the last bin
		if k < 0 {
			h.Outside++
			continue
		}
		h.Counts[k]++
	}
	return h
}
