// Package losses holds the training objectives of score-based models as GoMLX graph functions
// (reference: losses.py of score_sde):
//
//   - "dsm": continuous denoising score matching over t ~ U(ε, T), with λ(t) = std² by default or
//     the likelihood weighting g(t)²;
//   - "smld": NCSN's discrete loss over the VE noise ladder;
//   - "ddpm": DDPM's noise-prediction loss over the discrete VP chain;
//   - "ssm": sliced score matching on perturbed data (Rademacher or Gaussian projections, plain or
//     variance-reduced), which never uses the noise that produced x_t.
package losses

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// Names lists the losses.
var Names = []string{"dsm", "smld", "ddpm", "ssm"}

// Options configures a loss. Start from Default.
type Options struct {
	// Kind is one of Names.
	Kind string
	// ReduceMean averages the per-point loss over dimensions; false takes ½·sum (the references'
	// VE default is ½·sum, VP and sub-VP use the mean).
	ReduceMean bool
	// LikelihoodWeighting weights DSM by g(t)² instead of std(t)² (score flow weighting).
	LikelihoodWeighting bool
	// Eps is the smallest training time (default 1e-5).
	Eps float64
	// Gaussian selects Gaussian projections for SSM (default Rademacher).
	Gaussian bool
	// VarianceReduced uses ½‖s‖² instead of ½(vᵀs)² in SSM.
	VarianceReduced bool
}

// Default returns the references' defaults for the SDE: DSM, ½·sum for score-predicting (VE) and
// mean for noise-predicting (VP, sub-VP) models,
// no likelihood weighting, ε = 1e-5.
func Default(s sde.SDE) Options {
	return Options{Kind: "dsm", ReduceMean: s.Parameterization() == sde.PredictNoise, Eps: 1e-5}
}

// Validate checks that the loss exists and fits the SDE.
func (o Options) Validate(s sde.SDE) error {
	switch o.Kind {
	case "dsm", "ssm":
	case "smld":
		if _, ok := s.(sde.SMLDChain); !ok {
			return fmt.Errorf("loss smld is NCSN's discrete loss for the ve SDE, not %s: use dsm (or ddpm for vp)", s.Name())
		}
	case "ddpm":
		if _, ok := s.(sde.DDPMChain); !ok {
			return fmt.Errorf("loss ddpm is defined for the vp SDE only, not %s: use dsm (or smld for ve)", s.Name())
		}
	default:
		return fmt.Errorf("unknown loss %q: use one of %s", o.Kind, strings.Join(Names, ", "))
	}
	if o.LikelihoodWeighting && o.Kind != "dsm" {
		return fmt.Errorf("likelihood weighting applies to the dsm loss only, not %s", o.Kind)
	}
	if math.IsNaN(o.Eps) || o.Eps < 0 || o.Eps >= s.T() {
		return fmt.Errorf("loss eps=%g, want 0 ≤ eps < T=%g", o.Eps, s.T())
	}
	return nil
}

// reduce turns per-element squared errors [B, ...] into a per-point loss [B]: the mean over
// dimensions, or ½·sum.
func reduce(sq *Node, mean bool) *Node {
	axes := make([]int, sq.Rank()-1)
	for i := range axes {
		axes[i] = i + 1
	}
	if mean {
		return ReduceMean(sq, axes...)
	}
	return MulScalar(ReduceSum(sq, axes...), 0.5)
}

// Loss builds the mean loss over a batch x0 [B, d] for the score function, drawing every random
// number (times, labels, noise, projections) from rng. It returns the scalar loss and the new
// random state.
func Loss(s sde.SDE, score sde.ScoreFn, x0, rng *Node, o Options) (loss, newRng *Node) {
	g := x0.Graph()
	dt := x0.DType()
	b := x0.Shape().Dimensions[0]
	var z, u *Node
	rng, z = RandomNormal(rng, x0.Shape())
	rng, u = RandomUniform(rng, shapes.Make(dt, b))
	n := s.N()
	// label draws a discrete index in {0, …, N−1} per point from u, as a float.
	label := func() *Node { return Floor(MulScalar(u, float64(n)*(1-1e-7))) }
	switch o.Kind {
	case "smld":
		// Index i into the descending ladder σ_max → σ_min; time t_i with σ(t_i) = that σ.
		t := OneMinus(MulScalar(label(), 1/float64(max(n-1, 1))))
		_, sigma := s.MarginalProb(OnesLike(t), t)
		xt := Add(x0, Mul(sde.PerSample(sigma, x0), z))
		sc := score(StopGradient(xt), t)
		per := reduce(Square(Add(Mul(sc, sde.PerSample(sigma, x0)), z)), o.ReduceMean)
		return ReduceAllMean(per), rng
	case "ddpm":
		sqrtAcp, sqrt1mAcp := ddpmCumulative(s.(sde.DDPMChain))
		idx := ConvertDType(label(), dtypes.Int32)
		a := Gather(ConvertDType(Const(g, sqrtAcp), dt), Reshape(idx, b, 1))
		sm := Gather(ConvertDType(Const(g, sqrt1mAcp), dt), Reshape(idx, b, 1))
		xt := Add(Mul(sde.PerSample(a, x0), x0), Mul(sde.PerSample(sm, x0), z))
		// Step i of the chain is time (i+1)·T/N of the SDE (as sde.DiscreteKernel), so std(t) > 0.
		t := MulScalar(AddScalar(label(), 1), s.T()/float64(n))
		// The network's noise prediction is ε_θ = −score·std(t) under the VP parameterization.
		_, std := s.MarginalProb(OnesLike(t), t)
		eps := Neg(Mul(score(StopGradient(xt), t), sde.PerSample(std, x0)))
		return ReduceAllMean(reduce(Square(Sub(eps, z)), o.ReduceMean)), rng
	}
	// Continuous time t ~ U(eps, T).
	t := AddScalar(MulScalar(u, s.T()-o.Eps), o.Eps)
	mean, std := s.MarginalProb(x0, t)
	stdX := sde.PerSample(std, x0)
	xt := Add(mean, Mul(stdX, z))
	if o.Kind == "ssm" {
		// x_t must stay differentiable here: SSM needs ∇x of vᵀs at x_t.
		var v *Node
		if o.Gaussian {
			rng, v = RandomNormal(rng, x0.Shape())
		} else {
			var bits *Node
			rng, bits = RandomUniform(rng, x0.Shape())
			v = AddScalar(MulScalar(Floor(MulScalar(bits, 2)), 2), -1) // ±1
		}
		sc := score(xt, t)
		vs := ReduceSum(Mul(v, sc), -1) // [B]
		grad := Gradient(ReduceAllSum(vs), xt)[0]
		trace := ReduceSum(Mul(v, grad), -1) // vᵀ ∇x(vᵀ s)
		var second *Node
		if o.VarianceReduced {
			second = MulScalar(ReduceSum(Square(sc), -1), 0.5)
		} else {
			second = MulScalar(Square(vs), 0.5)
		}
		// Weighted by λ(t) = std², as DSM, so every noise level contributes on the same scale.
		return ReduceAllMean(Mul(Square(std), Add(trace, second))), rng
	}
	xt = StopGradient(xt)
	sc := score(xt, t)
	if o.LikelihoodWeighting {
		g2 := Square(s.Diffusion(t))
		per := reduce(Square(Add(sc, Div(z, stdX))), o.ReduceMean)
		return ReduceAllMean(Mul(per, g2)), rng
	}
	return ReduceAllMean(reduce(Square(Add(Mul(sc, stdX), z)), o.ReduceMean)), rng
}

// ddpmCumulative returns √ᾱ_i and √(1 − ᾱ_i) of the DDPM chain, ᾱ_i = ∏_{j≤i}(1 − β_j).
func ddpmCumulative(vp sde.DDPMChain) (sqrtAcp, sqrt1mAcp []float64) {
	acp := 1.0
	for i := range vp.N() {
		acp *= 1 - vp.DiscreteBeta(i)
		sqrtAcp = append(sqrtAcp, math.Sqrt(acp))
		sqrt1mAcp = append(sqrt1mAcp, math.Sqrt(1-acp))
	}
	return sqrtAcp, sqrt1mAcp
}
