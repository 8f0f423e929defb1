package sampling

import (
	"fmt"
	"math"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sde"
)

// LangevinOptions configures plain Langevin dynamics x ← x + (ε/2)·s(x, t) + √ε·z at a fixed time t
// (t = 0 uses the data score), as in the NCSN toy experiment (ε = 0.1, 1000 steps).
type LangevinOptions struct {
	// StepSize is ε (default 0.1).
	StepSize float64
	// Steps is the number of iterations (default 1000).
	Steps int
	// Time is the t at which the score is evaluated (default 0: the data distribution).
	Time float64
	// Init is the starting batch [n, ...]; nil draws uniformly from [InitLow, InitHigh]^d.
	Init *tensors.Tensor
	// InitLow and InitHigh bound the uniform initialization (default −8 and 8, as NCSN's toy).
	InitLow, InitHigh float64
}

// DefaultLangevin returns NCSN's toy settings: ε = 0.1, 1000 steps, uniform start on [−8, 8]^d.
func DefaultLangevin() LangevinOptions {
	return LangevinOptions{StepSize: 0.1, Steps: 1000, InitLow: -8, InitHigh: 8}
}

// AnnealedOptions configures NCSN's annealed Langevin dynamics: for each noise level σ_i of a
// geometric ladder from SigmaMax down to SigmaMin, StepsPerLevel updates
// x ← x + (α_i/2)·s(x, σ_i) + √α_i·z with α_i = ε·(σ_i/σ_L)².
type AnnealedOptions struct {
	// SigmaMax and SigmaMin are σ_1 and σ_L (defaults 20 and 1, NCSN's toy code).
	SigmaMax, SigmaMin float64
	// Levels is L (default 10); StepsPerLevel is T (default 100).
	Levels, StepsPerLevel int
	// Epsilon is ε (default 0.1).
	Epsilon float64
	// Init, InitLow, InitHigh: as LangevinOptions.
	Init              *tensors.Tensor
	InitLow, InitHigh float64
}

// DefaultAnnealed returns NCSN's toy settings: σ from 20 to 1 over L=10 levels, T=100, ε=0.1,
// uniform start on [−8, 8]^d.
func DefaultAnnealed() AnnealedOptions {
	return AnnealedOptions{SigmaMax: 20, SigmaMin: 1, Levels: 10, StepsPerLevel: 100, Epsilon: 0.1, InitLow: -8, InitHigh: 8}
}

// Sigmas returns the geometric ladder σ_1 > … > σ_L.
func (o AnnealedOptions) Sigmas() []float64 {
	out := make([]float64, o.Levels)
	for i := range out {
		out[i] = math.Exp(Linspace(math.Log(o.SigmaMax), math.Log(o.SigmaMin), o.Levels)[i])
	}
	return out
}

// uniformInit draws [shape] uniformly on [lo, hi] from the seed, or returns init.
func uniformInit(b compute.Backend, init *tensors.Tensor, shape []int, lo, hi float64, run Run) (x, rng *tensors.Tensor, err error) {
	if rng, err = RNGStateFromSeed(run.Seed); err != nil {
		return nil, nil, err
	}
	if init != nil {
		return init, rng, nil
	}
	if len(shape) < 1 || shape[0] < 1 {
		return nil, nil, fmt.Errorf("sample shape %v: want [n, ...] with n ≥ 1", shape)
	}
	if !(hi > lo) {
		return nil, nil, fmt.Errorf("uniform start [%g, %g]: want low < high", lo, hi)
	}
	outs, err := ExecOnceN(b, func(rng *Node) []*Node {
		newRng, u := RandomUniform(rng, shapes.Make(run.dtype(), shape...))
		return []*Node{AddScalar(MulScalar(u, hi-lo), lo), newRng}
	}, rng)
	if err != nil {
		return nil, nil, err
	}
	return outs[0], outs[1], nil
}

// langevinExec compiles x ← x + (α/2)·s(x, t) + √α·z with α and t given per call.
func langevinExec(b compute.Backend, score sde.ScoreFn) (*Exec, error) {
	return NewExec(b, func(x, t, alpha, rng *Node) (*Node, *Node) {
		tb := ConvertDType(t, x.DType())
		a := ConvertDType(alpha, x.DType())
		newRng, z := RandomNormal(rng, x.Shape())
		next := Add(Add(x, Mul(MulScalar(a, 0.5), score(x, tb))), Mul(Sqrt(a), z))
		return next, newRng
	})
}

// Langevin runs plain Langevin dynamics with the score at a fixed time; NFE = Steps.
func Langevin(b compute.Backend, score sde.ScoreFn, shape []int, o LangevinOptions, run Run) (*Result, error) {
	if !(o.StepSize > 0) {
		return nil, fmt.Errorf("langevin step size %g, want > 0 (NCSN's toy uses 0.1)", o.StepSize)
	}
	if o.Steps < 1 {
		return nil, fmt.Errorf("langevin steps=%d, want ≥ 1", o.Steps)
	}
	start := time.Now()
	x, rng, err := uniformInit(b, o.Init, shape, o.InitLow, o.InitHigh, run)
	if err != nil {
		return nil, err
	}
	step, err := langevinExec(b, score)
	if err != nil {
		return nil, err
	}
	res := &Result{NFE: o.Steps, ReferenceNFE: o.Steps}
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, o.Steps, 0, x)
	for i := range o.Steps {
		outs, err := step.Call(x, o.Time, o.StepSize, rng)
		if err != nil {
			return nil, fmt.Errorf("langevin step %d: %w", i, err)
		}
		x, rng = outs[0], outs[1]
		rec.record(i+1, o.Steps, float64(i+1), x)
		if run.Progress != nil {
			run.Progress(i+1, o.Steps)
		}
	}
	res.Samples, res.Elapsed = x, time.Since(start)
	return res, nil
}

// AnnealedLangevin runs NCSN's annealed Langevin dynamics with a noise-conditional score given as
// the score of a VE SDE: level σ_i uses s(x, t_i) with σ(t_i) = σ_i. NFE = L·T. Recorded times are
// the noise levels σ_i.
func AnnealedLangevin(b compute.Backend, ve *sde.VE, score sde.ScoreFn, shape []int, o AnnealedOptions, run Run) (*Result, error) {
	switch {
	case o.Levels < 1 || o.StepsPerLevel < 1:
		return nil, fmt.Errorf("annealed langevin: levels=%d and steps per level=%d, want ≥ 1", o.Levels, o.StepsPerLevel)
	case !(o.SigmaMin > 0) || !(o.SigmaMax >= o.SigmaMin):
		return nil, fmt.Errorf("annealed langevin: sigmas %g → %g, want 0 < sigma-min ≤ sigma-max", o.SigmaMax, o.SigmaMin)
	case o.SigmaMin < ve.SigmaMin || o.SigmaMax > ve.SigmaMax:
		return nil, fmt.Errorf("annealed langevin: sigmas %g → %g lie outside the VE SDE's [%g, %g]", o.SigmaMax, o.SigmaMin, ve.SigmaMin, ve.SigmaMax)
	case !(o.Epsilon > 0):
		return nil, fmt.Errorf("annealed langevin: epsilon=%g, want > 0 (NCSN's toy uses 0.1)", o.Epsilon)
	}
	start := time.Now()
	x, rng, err := uniformInit(b, o.Init, shape, o.InitLow, o.InitHigh, run)
	if err != nil {
		return nil, err
	}
	step, err := langevinExec(b, score)
	if err != nil {
		return nil, err
	}
	total := o.Levels * o.StepsPerLevel
	res := &Result{NFE: total, ReferenceNFE: total}
	rec := recorder{every: run.RecordEvery, res: res}
	sigmas := o.Sigmas()
	rec.record(0, total, sigmas[0], x)
	done := 0
	for _, sigma := range sigmas {
		t := math.Log(sigma/ve.SigmaMin) / math.Log(ve.SigmaMax/ve.SigmaMin)
		alpha := o.Epsilon * (sigma / o.SigmaMin) * (sigma / o.SigmaMin)
		for range o.StepsPerLevel {
			outs, err := step.Call(x, t, alpha, rng)
			if err != nil {
				return nil, fmt.Errorf("annealed langevin at σ=%g: %w", sigma, err)
			}
			x, rng = outs[0], outs[1]
			done++
			rec.record(done, total, sigma, x)
			if run.Progress != nil {
				run.Progress(done, total)
			}
		}
	}
	res.Samples, res.Elapsed = x, time.Since(start)
	return res, nil
}
