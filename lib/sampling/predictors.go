// Package sampling draws samples from score-based models by simulating the reverse SDE or the
// probability-flow ODE (Song et al., ICLR 2021, §4 and appendices D–G):
//
//   - predictors: Euler–Maruyama, reverse diffusion and ancestral sampling, each also in its
//     probability-flow form, and none;
//   - correctors: Langevin MCMC with the signal-to-noise step rule, annealed Langevin, and none;
//   - the predictor–corrector (PC) sampler, in the references' order (corrector first) or the
//     paper's Algorithm 1 order (predictor first), with the true NFE count;
//   - probability-flow ODE solvers: fixed-step Euler, Heun and RK4, and adaptive Dormand–Prince RK45;
//   - plain Langevin dynamics and NCSN's annealed Langevin dynamics.
//
// Every update is a GoMLX graph function; a sampler compiles one step and calls it in a Go loop,
// so tensors stay on the backend between steps and nothing is recompiled per step.
package sampling

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// Update is one sampler update: from x at time t (a scalar, or [B]) with random state rng, it returns the
// next x, its noise-free mean (x before the last noise was added) and the new random state.
type Update func(x, t, rng *Node) (next, mean, newRng *Node)

// Predictor is a reverse-time step from t to t − T/N.
type Predictor struct {
	// Name is the registry name, e.g. "reverse_diffusion".
	Name string
	// Update performs the step.
	Update Update
	// ScoreEvals is the number of score evaluations per step (0 for "none").
	ScoreEvals int
}

// PredictorNames lists the predictors accepted by NewPredictor.
var PredictorNames = []string{"euler_maruyama", "reverse_diffusion", "ancestral_sampling", "none"}

// NewPredictor builds a predictor by name for the SDE and score. With probabilityFlow the predictor
// discretizes the probability-flow ODE instead of the reverse SDE (not available for ancestral
// sampling, which has no ODE form). Ancestral sampling exists for VE and VP only.
func NewPredictor(name string, s sde.SDE, score sde.ScoreFn, probabilityFlow bool) (*Predictor, error) {
	rsde := sde.ReverseOf(s, score, probabilityFlow)
	switch normalize(name) {
	case "euler_maruyama", "em":
		dt := -s.T() / float64(s.N())
		return &Predictor{Name: "euler_maruyama", ScoreEvals: 1, Update: func(x, t, rng *Node) (*Node, *Node, *Node) {
			drift, g, _ := rsde.DriftAndScore(x, t)
			mean := Add(x, MulScalar(drift, dt))
			if probabilityFlow {
				return mean, mean, rng
			}
			newRng, z := RandomNormal(rng, x.Shape())
			return Add(mean, Mul(PerSampleScaled(g, x, math.Sqrt(-dt)), z)), mean, newRng
		}}, nil
	case "reverse_diffusion", "rd":
		return &Predictor{Name: "reverse_diffusion", ScoreEvals: 1, Update: func(x, t, rng *Node) (*Node, *Node, *Node) {
			f, G := rsde.Discretize(x, t)
			mean := Sub(x, f)
			if probabilityFlow {
				return mean, mean, rng
			}
			newRng, z := RandomNormal(rng, x.Shape())
			return Add(mean, Mul(sde.PerSample(G, x), z)), mean, newRng
		}}, nil
	case "ancestral_sampling", "ancestral", "as":
		if probabilityFlow {
			return nil, fmt.Errorf("ancestral_sampling has no probability-flow form: use reverse_diffusion or euler_maruyama with the ODE")
		}
		anc, ok := s.(sde.Ancestral)
		if !ok {
			return nil, fmt.Errorf("ancestral_sampling is defined for the ve and vp SDEs only, not %s: use reverse_diffusion or euler_maruyama", s.Name())
		}
		return &Predictor{Name: "ancestral_sampling", ScoreEvals: 1, Update: func(x, t, rng *Node) (*Node, *Node, *Node) {
			mean, std := anc.AncestralStep(x, t, score(x, t))
			newRng, z := RandomNormal(rng, x.Shape())
			return Add(mean, Mul(sde.PerSample(std, x), z)), mean, newRng
		}}, nil
	case "none":
		return &Predictor{Name: "none", Update: func(x, t, rng *Node) (*Node, *Node, *Node) { return x, x, rng }}, nil
	}
	return nil, fmt.Errorf("unknown predictor %q: use one of %s", name, strings.Join(PredictorNames, ", "))
}

// PerSampleScaled is sde.PerSample(v, x) multiplied by a constant c.
func PerSampleScaled(v, x *Node, c float64) *Node { return sde.PerSample(MulScalar(v, c), x) }

// normalize lower-cases a name and maps dashes to underscores ("reverse-diffusion" → "reverse_diffusion").
func normalize(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
}
