// Package sde defines the forward stochastic differential equations of score-based generative
// modeling (Song et al., ICLR 2021),
//
//	dx = f(x, t) dt + g(t) dw,   t ∈ [0, T],
//
// for the three processes of the paper: VE (variance exploding, SMLD), VP (variance preserving,
// DDPM) and sub-VP. All three have an affine drift f(x, t) = a(t)·x, so the perturbation kernel
// p_0t(x_t | x_0) is Gaussian with mean m(t)·x_0 and standard deviation s(t)·I.
//
// Every SDE offers two views of the same formulas:
//   - host functions of a float64 time (MeanCoeff, Std, DiffusionAt, DriftCoeff) for closed forms,
//     plots and tests;
//   - GoMLX graph functions (Drift, Diffusion, MarginalProb, PriorSample, PriorLogP, Discretize) that
//     samplers, losses and likelihoods use, and that run unchanged on every GoMLX backend.
//
// In graph functions x has shape [B, ...] (a batch of B points, any trailing shape) and t has
// shape [B] (one time per point) or is a scalar; results that are per point have shape [B].
// Formulas and defaults follow the reference implementation's sde_lib.py.
package sde

import (
	"fmt"
	"math"
	"reflect"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// ScoreFn is a score model s(x, t) ≈ ∇x log p_t(x) as a graph function: x is [B, ...], t is [B]
// or a scalar shared by the whole batch (samplers pass a scalar, so per-time work is done once),
// and the result has the shape of x.
type ScoreFn func(x, t *Node) *Node

// SDE is a forward SDE with affine drift f(x, t) = DriftCoeff(t)·x and diffusion g(t).
type SDE interface {
	// Name is "ve", "vp" or "subvp".
	Name() string
	// T is the end time of the process (1 by default).
	T() float64
	// N is the number of discretization steps (1000 by default).
	N() int

	// DriftCoeff is a(t) in f(x, t) = a(t)·x (host, float64).
	DriftCoeff(t float64) float64
	// DiffusionAt is g(t) (host, float64).
	DiffusionAt(t float64) float64
	// MeanCoeff is m(t) in E[x_t | x_0] = m(t)·x_0 (host, float64).
	MeanCoeff(t float64) float64
	// Std is s(t), the standard deviation of x_t given x_0 (host, float64).
	Std(t float64) float64
	// PriorStd is the standard deviation of the prior p_T = N(0, PriorStd²·I).
	PriorStd() float64

	// Drift is f(x, t), shaped like x.
	Drift(x, t *Node) *Node
	// Diffusion is g(t), shaped like t.
	Diffusion(t *Node) *Node
	// MarginalProb returns the mean (shaped like x0) and std (shaped like t) of p_0t(x_t | x0).
	MarginalProb(x0, t *Node) (mean, std *Node)
	// PriorSample draws [shape] points from the prior using the GoMLX random state rng.
	PriorSample(rng *Node, shape shapes.Shape) (newRng, x *Node)
	// PriorLogP is log p_T(z) for z [B, ...], returning [B] (nats).
	PriorLogP(z *Node) *Node
	// Discretize returns f and G of the discrete chain x_{i+1} = x_i + f + G·z used by the reverse
	// diffusion predictor: the SMLD chain for VE, the DDPM chain for VP and Euler–Maruyama for sub-VP.
	// f is shaped like x and G like t.
	Discretize(x, t *Node) (f, G *Node)
	// Validate reports an invalid hyperparameter, naming it and the fix.
	Validate() error

	// Sigma is the noise level σ(t) = s(t)/m(t) of the scaled state x/m(t) (host, float64): the
	// perturbed data x_t = m(t)·(x_0 + σ(t)·z). It increases with t; VE's is its own σ(t).
	Sigma(t float64) float64
	// TimeOf inverts Sigma: the t in [0, T] with Sigma(t) = sigma (clamped to the ends).
	TimeOf(sigma float64) float64
	// DefaultEps is the references' last sampling time: 1e-5 for VE, 1e-3 for VP and sub-VP.
	DefaultEps() float64
	// LangevinAlpha is α_i of the Langevin corrector's step rule, shaped like t: 1 for VE and
	// 1 − β_i of the DDPM chain for VP and sub-VP (the references' code).
	LangevinAlpha(t *Node) *Node
	// Parameterization says what a score network outputs for this SDE (the references' choice).
	Parameterization() Parameterization
}

// Parameterization is what a score network predicts.
type Parameterization int

const (
	// PredictScore: the network outputs the score itself (VE, the NCSN family).
	PredictScore Parameterization = iota
	// PredictNoise: the network predicts the noise ε and score = −ε/s(t) (VP and sub-VP, DDPM).
	PredictNoise
)

// Ancestral is implemented by the SDEs whose discrete chain has an ancestral sampler (VE: SMLD,
// VP: DDPM). AncestralStep returns the mean and std (shaped like t) of x_{i−1} given x_i at the
// chain index of t, from the score s = s(x, t).
type Ancestral interface {
	AncestralStep(x, t, score *Node) (mean, std *Node)
}

// LogSNR is λ(t) = log(m(t)/s(t)) = −log σ(t), half the log signal-to-noise ratio.
func LogSNR(s SDE, t float64) float64 { return -math.Log(s.Sigma(t)) }

// TimeOfLogSNR inverts LogSNR.
func TimeOfLogSNR(s SDE, lambda float64) float64 { return s.TimeOf(math.Exp(-lambda)) }

// ReverseOf builds the reverse SDE (probabilityFlow=false) or the probability-flow ODE
// (probabilityFlow=true) of s from a score function.
func ReverseOf(s SDE, score ScoreFn, probabilityFlow bool) *ReverseSDE {
	return &ReverseSDE{Forward: s, Score: score, ProbabilityFlow: probabilityFlow}
}

// New returns the SDE with the given name ("ve", "vp" or "subvp") and the reference defaults.
func New(name string) (SDE, error) {
	switch name {
	case "ve", "vesde":
		return NewVE(), nil
	case "vp", "vpsde":
		return NewVP(), nil
	case "subvp", "sub-vp", "subvpsde":
		return NewSubVP(), nil
	}
	return nil, fmt.Errorf("unknown SDE %q: use ve, vp or subvp", name)
}

// PaperName is the SDE's name as the paper writes it: "VE", "VP" or "sub-VP" (its Name otherwise).
func PaperName(s SDE) string {
	switch s.Name() {
	case "ve":
		return "VE"
	case "vp":
		return "VP"
	case "subvp":
		return "sub-VP"
	}
	return s.Name()
}

// ChainName names the discrete chain whose limit the SDE is in the paper: "SMLD" for VE, "DDPM"
// for VP, and "Euler–Maruyama" (the SDE's own discretization) otherwise.
func ChainName(s SDE) string {
	switch s.Name() {
	case "ve":
		return "SMLD"
	case "vp":
		return "DDPM"
	}
	return "Euler–Maruyama"
}

// Names lists the SDE names accepted by New.
var Names = []string{"ve", "vp", "subvp"}

// PerSample reshapes a per-point value v of shape [B] to [B, 1, ..., 1] so that it broadcasts
// against x of shape [B, ...]. A scalar v is returned unchanged.
func PerSample(v, x *Node) *Node {
	if v.IsScalar() || x.Rank() <= 1 {
		return v
	}
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[0] = v.Shape().Dimensions[0]
	return Reshape(v, dims...)
}

// flatDim is the number of values per point of x [B, ...].
func flatDim(x *Node) int {
	d := 1
	for _, n := range x.Shape().Dimensions[1:] {
		d *= n
	}
	return d
}

// sumPerPoint sums x [B, ...] over all but the first axis, giving [B].
func sumPerPoint(x *Node) *Node {
	if x.Rank() <= 1 {
		return x
	}
	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i + 1
	}
	return ReduceSum(x, axes...)
}

// gaussianPriorLogP is log N(z; 0, σ²I) per point, in nats.
func gaussianPriorLogP(z *Node, sigma float64) *Node {
	d := float64(flatDim(z))
	sq := sumPerPoint(Square(z))
	return AddScalar(MulScalar(sq, -0.5/(sigma*sigma)), -0.5*d*math.Log(2*math.Pi*sigma*sigma))
}

// stepIndex is the discrete index i = ⌊t(N−1)/T⌋ as a float of t's dtype (as the references, a floor).
func stepIndex(t *Node, n int, tEnd float64) *Node {
	return Floor(MulScalar(t, float64(n-1)/tEnd))
}

// checkTime panics with a clear message on an invalid end time or step count; constructors
// and users that fill the structs by hand meet it at graph-building time.
func checkSteps(name string, n int, tEnd float64) {
	if n < 1 {
		panic(fmt.Sprintf("%s SDE: NumScales=%d, want ≥ 1", name, n))
	}
	if !(tEnd > 0) {
		panic(fmt.Sprintf("%s SDE: EndTime=%g, want > 0", name, tEnd))
	}
}

// WithN returns a copy of s with N discretization steps (validated). It works for every SDE
// whose struct has an int field NumScales, as the SDEs of this package do.
func WithN(s SDE, n int) (SDE, error) {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("WithN: %T is not a pointer to a struct", s)
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	f := c.Elem().FieldByName("NumScales")
	if !f.IsValid() || f.Kind() != reflect.Int || !f.CanSet() {
		return nil, fmt.Errorf("WithN: %T has no NumScales field", s)
	}
	f.SetInt(int64(n))
	out := c.Interface().(SDE)
	return out, out.Validate()
}
