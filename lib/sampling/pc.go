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
	// Grid, when set, is the decreasing list of times at which the steps run (N = its length);
	// nil uses the references' Linspace(T, Eps, N).
	Grid []float64
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
	if o.N < 0 || o.N > MaxSteps {
		return fmt.Errorf("steps=%d, want 1 to %d (0 uses the SDE's N=%d)", o.N, MaxSteps, s.N())
	}
	if o.Grid != nil {
		if len(o.Grid) < 1 || (o.N != 0 && o.N != len(o.Grid)) {
			return fmt.Errorf("grid of %d times with steps=%d: give N = the grid's length (or 0)", len(o.Grid), o.N)
		}
		if len(o.Grid) > 1 {
			if err := CheckGrid(s, o.Grid); err != nil {
				return err
			}
		}
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
	n := o.N
	if o.Grid != nil {
		n = len(o.Grid)
	}
	if n > 0 && n != s.N() {
		var err error
		if s, err = sde.WithN(s, n); err != nil {
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
// prior, then for each t of the grid (o.Grid, or the references' Linspace(T, eps, N)) one
// corrector update (M inner steps) and one predictor update (in the order chosen). The predictor
// and corrector follow the SDE's discrete chain with N = the grid's length, as the references.
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
	loop := PCLoop{Pred: pred, Corr: corr, PredictorFirst: o.PredictorFirst}
	times := o.Grid
	if times == nil {
		times = Linspace(s.T(), eps, s.N())
	}
	res := &Result{ReferenceNFE: s.N() * (o.Steps + 1)}
	x, mean, err := loop.Run(b, "PC", x, rng, times, run, res)
	if err != nil {
		return nil, err
	}
	res.Samples = x
	if o.Denoise {
		res.Samples = mean
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// MaxUnrolledCorrectorSteps is the largest M whose corrector iterations are unrolled into the
// compiled step; beyond it PCLoop calls one compiled iteration M times, so memory stays flat.
const MaxUnrolledCorrectorSteps = 8

// unrollLimit is MaxUnrolledCorrectorSteps, variable for tests.
var unrollLimit = MaxUnrolledCorrectorSteps

// PCLoop is the common loop of the PC sampler and of the samplers built on it (imputation,
// inpainting, colorization): at each time of the grid, corrector then predictor (or the reverse),
// each update optionally wrapped (Wrap sees the Extra tensors as nodes, e.g. known data and a mask).
type PCLoop struct {
	Pred           *Predictor
	Corr           *Corrector
	PredictorFirst bool
	// Wrap, when set, is applied to every predictor and corrector update.
	Wrap func(u Update, extra []*Node) Update
	// Extra are inputs of every step, passed to Wrap.
	Extra []*tensors.Tensor
}

// Run takes x (with random state rng) through the grid times and returns the last x and the
// noise-free mean of its last update; res receives the NFE, the trajectory (run.RecordEvery) and
// the progress calls. It fails, naming the step, when the samples become non-finite.
func (l PCLoop) Run(b compute.Backend, name string, x, rng *tensors.Tensor, times []float64, run Run, res *Result) (*tensors.Tensor, *tensors.Tensor, error) {
	if len(times) > MaxSteps {
		return nil, nil, fmt.Errorf("%s: %d steps exceed the limit of %d", name, len(times), MaxSteps)
	}
	ne := len(l.Extra)
	wrap := func(u Update, extra []*Node) Update {
		if l.Wrap == nil {
			return u
		}
		return l.Wrap(u, extra)
	}
	loopCorr := l.Corr.ScoreEvals > 0 && l.Corr.Steps > unrollLimit
	// build compiles (x, t, rng, extra...) → (x, mean, rng, finite) for a sequence of updates.
	build := func(us ...Update) (*Exec, error) {
		return NewExec(b, func(in []*Node) []*Node {
			x, t, rng, extra := in[0], ConvertDType(in[1], in[0].DType()), in[2], in[3:3+ne]
			var mean, m *Node
			for _, u := range us {
				x, m, rng = wrap(u, extra)(x, t, rng)
				mean = m
			}
			return []*Node{x, mean, rng, LogicalAll(IsFinite(x))}
		})
	}
	// The compiled calls of one time step, in order, each run reps times.
	type part struct {
		updates []Update
		reps    int
	}
	pred := part{[]Update{l.Pred.Update}, 1}
	var parts []part
	switch {
	case l.Corr.ScoreEvals == 0:
		parts = []part{pred}
	case !loopCorr && l.PredictorFirst:
		parts = []part{{[]Update{l.Pred.Update, l.Corr.Update}, 1}}
	case !loopCorr:
		parts = []part{{[]Update{l.Corr.Update, l.Pred.Update}, 1}}
	case l.PredictorFirst:
		parts = []part{pred, {[]Update{l.Corr.Iteration}, l.Corr.Steps}}
	default:
		parts = []part{{[]Update{l.Corr.Iteration}, l.Corr.Steps}, pred}
	}
	steps := make([]*Exec, len(parts))
	for k, p := range parts {
		var err error
		if steps[k], err = build(p.updates...); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	n := len(times)
	res.NFE += n * (l.Pred.ScoreEvals + l.Corr.ScoreEvals)
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, n, times[0], x)
	var mean *tensors.Tensor
	for i, t := range times {
		for k, e := range steps {
			for range parts[k].reps {
				args := []any{x, t, rng}
				for _, ex := range l.Extra {
					args = append(args, ex)
				}
				outs, err := e.Call(args...)
				if err != nil {
					return nil, nil, fmt.Errorf("%s step %d (t=%g): %w", name, i+1, t, err)
				}
				if !outs[3].Value().(bool) {
					return nil, nil, fmt.Errorf("%s step %d of %d (t=%g): the samples became non-finite (NaN or ±Inf): lower the SNR or the step size, or check the score (NaN weights, a spec whose scale overflows %s)", name, i+1, n, t, x.DType())
				}
				x, mean, rng = outs[0], outs[1], outs[2]
			}
		}
		rec.record(i+1, n, t, x)
		if run.Progress != nil {
			run.Progress(i+1, n)
		}
	}
	return x, mean, nil
}
