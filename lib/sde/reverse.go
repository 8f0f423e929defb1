package sde

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// ReverseSDE is the reverse-time process of a forward SDE given a score s(x, t) ≈ ∇x log p_t(x):
//
//	dx = [f(x, t) − g(t)²·s(x, t)] dt + g(t) dw̄            (reverse SDE)
//	dx = [f(x, t) − ½·g(t)²·s(x, t)] dt                     (probability-flow ODE)
//
// Time runs from T down to 0; drifts are given per unit of forward time, as in the references.
type ReverseSDE struct {
	// Forward is the forward SDE being reversed.
	Forward SDE
	// Score is the score model used in the drift.
	Score ScoreFn
	// ProbabilityFlow selects the deterministic probability-flow ODE instead of the reverse SDE.
	ProbabilityFlow bool
}

// scoreWeight is the factor of g²·s in the reverse drift: 1 for the SDE, ½ for the ODE.
func (r *ReverseSDE) scoreWeight() float64 {
	if r.ProbabilityFlow {
		return 0.5
	}
	return 1
}

// DriftAndScore returns the reverse drift f − w·g²·s (shaped like x), the diffusion (shaped
// like t; zero for the ODE) and the score s(x, t) it used, so callers reuse one evaluation.
func (r *ReverseSDE) DriftAndScore(x, t *Node) (drift, diffusion, score *Node) {
	f := r.Forward.Drift(x, t)
	g := r.Forward.Diffusion(t)
	score = r.Score(x, t)
	drift = Sub(f, Mul(PerSample(MulScalar(Square(g), r.scoreWeight()), x), score))
	if r.ProbabilityFlow {
		g = ZerosLike(g)
	}
	return drift, g, score
}

// Drift is the reverse drift f(x, t) − w·g(t)²·s(x, t), w = 1 (SDE) or ½ (ODE); shaped like x.
func (r *ReverseSDE) Drift(x, t *Node) *Node {
	d, _, _ := r.DriftAndScore(x, t)
	return d
}

// Diffusion is g(t) for the reverse SDE and 0 for the probability-flow ODE; shaped like t.
func (r *ReverseSDE) Diffusion(t *Node) *Node {
	g := r.Forward.Diffusion(t)
	if r.ProbabilityFlow {
		return ZerosLike(g)
	}
	return g
}

// Discretize is the discretized reverse process: rev_f = f − w·G²·s and rev_G = G (0 for the ODE),
// with (f, G) from the forward SDE's Discretize. A reverse-diffusion step is x ← x − rev_f + rev_G·z.
func (r *ReverseSDE) Discretize(x, t *Node) (revF, revG *Node) {
	f, G := r.Forward.Discretize(x, t)
	s := r.Score(x, t)
	revF = Sub(f, Mul(PerSample(MulScalar(Square(G), r.scoreWeight()), x), s))
	if r.ProbabilityFlow {
		return revF, ZerosLike(G)
	}
	return revF, G
}
