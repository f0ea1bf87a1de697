package train

import (
	"fmt"
	"math"
)

// Schedule sets the learning rate of every step from the solver's base rate.
//
//	constant: lr = base
//	step:     lr = base · Gamma^⌊epoch / StepEpochs⌋   (epoch counted from 0)
//	cosine:   lr = MinLR + (base − MinLR)·(1 + cos(π·t/T))/2 over all T steps
//
// With WarmupSteps > 0 the rate first rises linearly, lr·(s+1)/WarmupSteps
// for step s < WarmupSteps; cosine then anneals over the remaining steps.
type Schedule struct {
	Kind        string  `json:"kind"`         // constant (or ""), step, cosine
	StepEpochs  int     `json:"step_epochs"`  // step: decay period in epochs (default 3)
	Gamma       float64 `json:"gamma"`        // step: decay factor (default 0.1)
	MinLR       float64 `json:"min_lr"`       // cosine: final rate (default 0)
	WarmupSteps int     `json:"warmup_steps"` // linear warm-up steps (default 0)
}

// ScheduleKinds lists the schedule names.
var ScheduleKinds = []string{"constant", "step", "cosine"}

// Validate reports an unknown kind or a bad field.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "", "constant", "step", "cosine":
	default:
		return fmt.Errorf("%w: schedule %q, want constant, step or cosine", ErrConfig, s.Kind)
	}
	if s.StepEpochs < 0 || s.WarmupSteps < 0 || s.Gamma < 0 || s.MinLR < 0 || math.IsNaN(s.Gamma) || math.IsNaN(s.MinLR) {
		return fmt.Errorf("%w: schedule %+v has a negative or NaN field", ErrConfig, s)
	}
	return nil
}

// LR returns the rate of global step (from 0) in a run of totalSteps steps
// with stepsPerEpoch steps per epoch.
func (s Schedule) LR(base float64, step, stepsPerEpoch, totalSteps int) float64 {
	if s.WarmupSteps > 0 && step < s.WarmupSteps {
		return base * float64(step+1) / float64(s.WarmupSteps)
	}
	switch s.Kind {
	case "step":
		every, gamma := s.StepEpochs, s.Gamma
		if every == 0 {
			every = 3
		}
		if gamma == 0 {
			gamma = 0.1
		}
		return base * math.Pow(gamma, float64(step/stepsPerEpoch/every))
	case "cosine":
		t, T := float64(step-s.WarmupSteps), float64(totalSteps-s.WarmupSteps)
		if T <= 0 {
			return base
		}
		return s.MinLR + (base-s.MinLR)*(1+math.Cos(math.Pi*t/T))/2
	}
	return base
}
