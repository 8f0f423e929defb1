package sampling

import (
	"fmt"
	"math"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sde"
)

// PCOptions configures the predictor–corrector sampler. Start from DefaultPC and change fields.
type PCOptions struct {
	// Predictor is one of PredictorNames (default "reverse_diffusion").
	Predictor string
	// Corrector is one of CorrectorNames (default "langevin").
	Corrector string
	// Corrector step rule and iterations (SNR default 0.16, Steps default 1).
	CorrectorOptions
	// N is the number of time steps; 0 uses the SDE's N. The SDE is discretized with this N.
	N int
	// Eps is the last time of the grid Linspace(T, Eps, N); 0 selects DefaultEps.
	Eps float64
	// Denoise returns the noise-free mean of the last predictor step (Tweedie denoising; the
	// references' noise_removal, on by default).
	Denoise bool
	// PredictorFirst runs the predictor before the corrector at each step, as the paper's
	// Algorithm 1; the references run the corrector first (the default here too).
	PredictorFirst bool
	// ProbabilityFlow makes the predictor discretize the probability-flow ODE.
	ProbabilityFlow bool
}

// DefaultPC returns the references' VE CIFAR-10 settings: reverse diffusion + one Langevin step,
// snr 0.16, N from the SDE, denoising on, corrector first.
func DefaultPC() PCOptions {
	return PCOptions{Predictor: "reverse_diffusion", Corrector: "langevin",
		CorrectorOptions: CorrectorOptions{SNR: 0.16, Steps: 1}, Denoise: true}
}

// DefaultEps is the references' sampling cut-off: 1e-5 for VE and 1e-3 for VP and sub-VP.
func DefaultEps(s sde.SDE) float64 { return s.DefaultEps() }

// Validate reports a bad option, naming it and the fix.
func (o PCOptions) Validate(s sde.SDE) error {
	if o.N < 0 {
		return fmt.Errorf("steps=%d, want ≥ 1 (0 uses the SDE's N=%d)", o.N, s.N())
	}
	if math.IsNaN(o.Eps) || o.Eps < 0 || o.Eps >= s.T() {
		return fmt.Errorf("eps=%g, want 0 < eps < T=%g (0 selects the default %g)", o.Eps, s.T(), DefaultEps(s))
	}
	return nil
}

// Prepare validates the options for s and returns the SDE discretized with N steps, the last time
// of the grid and the predictor and corrector: the parts of a PC sampler, for samplers built on it
// (imputation, guidance).
func (o PCOptions) Prepare(s sde.SDE, score sde.ScoreFn) (sde.SDE, float64, *Predictor, *Corrector, error) {
	if err := o.Validate(s); err != nil {
		return nil, 0, nil, nil, err
	}
	if o.N > 0 && o.N != s.N() {
		var err error
		if s, err = sde.WithN(s, o.N); err != nil {
			return nil, 0, nil, nil, err
		}
	}
	eps := o.Eps
	if eps == 0 {
		eps = DefaultEps(s)
	}
	pred, err := NewPredictor(o.Predictor, s, score, o.ProbabilityFlow)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	corr, err := NewCorrector(o.Corrector, s, score, o.CorrectorOptions)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	return s, eps, pred, corr, nil
}

// PC draws samples of the given shape [n, ...] with the predictor–corrector sampler: x_N from the
// prior, then for each t in Linspace(T, eps, N) one corrector update (M inner steps) and one
// predictor update (in the order chosen). One compiled step serves every t.
func PC(b compute.Backend, s sde.SDE, score sde.ScoreFn, shape []int, o PCOptions, run Run) (*Result, error) {
	s, eps, pred, corr, err := o.Prepare(s, score)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, rng, err := priorSample(b, s, shape, run)
	if err != nil {
		return nil, err
	}
	step, err := stepExec(b, func(x, t, rng *Node) (*Node, *Node, *Node) {
		var mean *Node
		if o.PredictorFirst {
			var cmean *Node
			x, mean, rng = pred.Update(x, t, rng)
			x, cmean, rng = corr.Update(x, t, rng)
			if corr.ScoreEvals > 0 {
				mean = cmean // the corrector ran last: denoise its update
			}
		} else {
			x, _, rng = corr.Update(x, t, rng)
			x, mean, rng = pred.Update(x, t, rng)
		}
		return x, mean, rng
	})
	if err != nil {
		return nil, err
	}
	n := s.N()
	res := &Result{NFE: n * (pred.ScoreEvals + corr.ScoreEvals), ReferenceNFE: n * (o.Steps + 1)}
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, n, s.T(), x)
	var mean *tensors.Tensor
	for i, t := range Linspace(s.T(), eps, n) {
		outs, err := step.Call(x, t, rng)
		if err != nil {
			return nil, fmt.Errorf("PC step %d (t=%g): %w", i, t, err)
		}
		x, mean, rng = outs[0], outs[1], outs[2]
		rec.record(i+1, n, t, x)
		if run.Progress != nil {
			run.Progress(i+1, n)
		}
	}
	res.Samples = x
	if o.Denoise {
		res.Samples = mean
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
