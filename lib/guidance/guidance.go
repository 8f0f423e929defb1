// Package guidance samples from conditional distributions p(x | y) with the reverse SDE
// (Song et al., ICLR 2021, §5 and appendix I; reference controllable_generation.py):
//
//   - class guidance: the conditional score s(x, t) + w·∇x log p_t(y | x), with a guidance scale w
//     (the references fix w = 1), and, on Gaussian mixtures, the exact ∇x log p_t(k | x) from the
//     posterior component probabilities;
//   - imputation (inpainting): PC sampling of the unknown coordinates while the known ones are
//     replaced by forward samples of the data at every update.
package guidance

import (
	"fmt"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// Grad is ∇x log p_t(y | x) for a fixed condition y, as a graph function shaped like x.
type Grad func(x, t *Node) *Node

// Guided returns the conditional score s(x, t) + w·grad(x, t). With w = 1 it is the score of
// p_t(x | y); w > 1 sharpens the conditional (p_t(x)·p_t(y | x)^w), w = 0 ignores y.
func Guided(score sde.ScoreFn, grad Grad, w float64) sde.ScoreFn {
	return func(x, t *Node) *Node {
		return Add(score(x, t), MulScalar(grad(x, t), w))
	}
}

// ExactClassGrad is the exact classifier gradient of a mixture whose classes are its components:
// ∇x log p_t(k | x) = ∇x log N_k,t(x) − ∇x log p_t(x), with both perturbed by the SDE.
func ExactClassGrad(m *toy.Mixture, s sde.SDE, k int) (Grad, error) {
	if k < 0 || k >= m.K() {
		return nil, fmt.Errorf("class %d: the mixture %s has classes 0 to %d (one per component)", k, m.Name(), m.K()-1)
	}
	comp, full := m.Component(k).ScoreFn(s), m.ScoreFn(s)
	return func(x, t *Node) *Node { return Sub(comp(x, t), full(x, t)) }, nil
}

// InpaintOptions configures imputation. Start from DefaultInpaint.
type InpaintOptions struct {
	// PC is the sampler (predictor, corrector, snr, N, eps, denoise).
	PC sampling.PCOptions
	// ReferenceMeanBug reproduces the references' noise-free output, which rebuilds x̄ from the
	// already-noised x, so with denoising the unknown coordinates keep their last noise. By default
	// x̄ is the predictor's (or corrector's) own noise-free update.
	ReferenceMeanBug bool
}

// DefaultInpaint returns the references' inpainter: reverse diffusion + Langevin (snr 0.16, one
// step), corrector first, eps = 1e-5 for every SDE, denoising on.
func DefaultInpaint() InpaintOptions {
	o := sampling.DefaultPC()
	o.Eps = 1e-5
	return InpaintOptions{PC: o}
}

// Inpaint samples the coordinates where mask is 0 given data where mask is 1. data and mask are
// [n][d]; the unknown entries of data are ignored. Known coordinates start at the data and unknown
// ones at a prior sample; after every predictor and corrector update the known coordinates are
// replaced by a fresh forward sample m(t)·data + s(t)·z.
func Inpaint(b compute.Backend, s sde.SDE, score sde.ScoreFn, data, mask [][]float64, o InpaintOptions, run sampling.Run) (*sampling.Result, error) {
	if len(data) == 0 || len(data) != len(mask) {
		return nil, fmt.Errorf("inpaint: %d data rows and %d mask rows: give one mask row per point", len(data), len(mask))
	}
	pc := o.PC
	s, eps, pred, corr, err := pc.Prepare(s, score)
	if err != nil {
		return nil, err
	}
	dt := run.DType
	dtensor, err := sampling.FromPoints(data, dt)
	if err != nil {
		return nil, fmt.Errorf("inpaint data: %w", err)
	}
	mtensor, err := sampling.FromPoints(mask, dt)
	if err != nil {
		return nil, fmt.Errorf("inpaint mask: %w", err)
	}
	if fmt.Sprint(dtensor.Shape().Dimensions) != fmt.Sprint(mtensor.Shape().Dimensions) {
		return nil, fmt.Errorf("inpaint: data %v and mask %v differ in shape", dtensor.Shape().Dimensions, mtensor.Shape().Dimensions)
	}
	start := time.Now()
	rng, err := RNGStateFromSeed(run.Seed)
	if err != nil {
		return nil, err
	}
	// x_N = data·mask + prior·(1 − mask), as the references.
	outs, err := ExecOnceN(b, func(rng, data, mask *Node) []*Node {
		newRng, z := s.PriorSample(rng, data.Shape())
		return []*Node{Add(Mul(data, mask), Mul(z, OneMinus(mask))), newRng}
	}, rng, dtensor, mtensor)
	if err != nil {
		return nil, err
	}
	x, rng := outs[0], outs[1]
	// impute wraps one update: the known coordinates become a forward sample of the data at t.
	impute := func(u sampling.Update, extra []*Node) sampling.Update {
		data, mask := extra[0], extra[1]
		return func(x, t, rng *Node) (*Node, *Node, *Node) {
			x, mean, rng := u(x, t, rng)
			dataMean, std := s.MarginalProb(data, t)
			var z *Node
			rng, z = RandomNormal(rng, x.Shape())
			known := Add(dataMean, Mul(sde.PerSample(std, data), z))
			x = Add(Mul(x, OneMinus(mask)), Mul(known, mask))
			if o.ReferenceMeanBug {
				mean = Add(Mul(x, OneMinus(mask)), Mul(dataMean, mask))
			} else {
				mean = Add(Mul(mean, OneMinus(mask)), Mul(dataMean, mask))
			}
			return x, mean, rng
		}
	}
	loop := sampling.PCLoop{Pred: pred, Corr: corr, PredictorFirst: pc.PredictorFirst, Wrap: impute,
		Extra: []*tensors.Tensor{dtensor, mtensor}}
	times := pc.Grid
	if times == nil {
		times = sampling.Linspace(s.T(), eps, s.N())
	}
	res := &sampling.Result{ReferenceNFE: s.N() * (pc.Steps + 1)}
	x, mean, err := loop.Run(b, "inpaint", x, rng, times, run, res)
	if err != nil {
		return nil, err
	}
	res.Samples = x
	if pc.Denoise {
		res.Samples = mean
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
