package sampling

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// EDM's samplers (Karras, Aittala, Aila, Laine 2022, Algorithms 1 and 2) work on the scaled state
// x̃ = x/m(t), which follows dx̃/dσ = (x̃ − D(x̃; σ))/σ with the denoiser D, the posterior mean of x_0.
// A step is Heun's method in σ; the stochastic sampler first raises the noise level from σ_i to
// σ̂ = σ_i(1 + γ_i) by adding fresh noise ("churn").

// edmCoeffs is the coefficient vector of one EDM step from (t̂, σ̂) to t_{i+1}: the start time with
// its α, std and σ, the end time with its own, α of the state's current scaling, and the churn
// noise's scale √(σ̂² − σ_i²)·S_noise (0 without churn).
func edmCoeffs(p *Problem, i int, gamma, sNoise float64) []float64 {
	tCur, tNext := p.Grid[i], p.Grid[i+1]
	aCur, _, sCur := p.Coeffs(tCur)
	tHat, noise := tCur, 0.0
	if gamma > 0 {
		tHat = p.SDE.TimeOf(sCur * (1 + gamma))
		sHat := p.SDE.Sigma(tHat) // clamped at T
		noise = math.Sqrt(math.Max(0, sHat*sHat-sCur*sCur)) * sNoise
	}
	aHat, stdHat, sHat := p.Coeffs(tHat)
	aNext, stdNext, sNext := p.Coeffs(tNext)
	return []float64{tHat, aHat, stdHat, sHat, tNext, aNext, stdNext, sNext, aCur, noise}
}

// edmStep is the graph of one EDM step (coefficients from edmCoeffs; z may be nil without churn).
func edmStep(p *Problem, x, c, z *Node) *Node {
	tHat, aHat, stdHat, sHat := coeff(c, 0), coeff(c, 1), coeff(c, 2), coeff(c, 3)
	tNext, aNext, stdNext, sNext := coeff(c, 4), coeff(c, 5), coeff(c, 6), coeff(c, 7)
	xs := Div(x, coeff(c, 8)) // x̃ at σ_i
	if z != nil {
		xs = Add(xs, Mul(z, coeff(c, 9))) // x̃ at σ̂
	}
	h := Sub(sNext, sHat)
	d := Div(Sub(xs, Denoised(p.Score, Mul(xs, aHat), tHat, aHat, stdHat)), sHat)
	xp := Add(xs, Mul(d, h))
	d2 := Div(Sub(xp, Denoised(p.Score, Mul(xp, aNext), tNext, aNext, stdNext)), sNext)
	return Mul(Add(xs, Mul(MulScalar(Add(d, d2), 0.5), h)), aNext)
}

func newEDMHeun(p *Problem) (*Stepper, error) {
	return &Stepper{
		Plan: func(i int) (int, []float64, int) { return 0, edmCoeffs(p, i, 0, 0), 2 },
		Step: func(_ int, x *Node, _ []*Node, c, _ *Node) (*Node, []*Node) { return edmStep(p, x, c, nil), nil },
	}, nil
}

func newEDMStochastic(p *Problem) (*Stepper, error) {
	churn, tmin, tmax, sNoise := p.Params["churn"], p.Params["s-tmin"], p.Params["s-tmax"], p.Params["s-noise"]
	if churn < 0 || sNoise < 0 || tmin < 0 || tmax < tmin {
		return nil, fmt.Errorf("churn=%g s-tmin=%g s-tmax=%g s-noise=%g: want churn ≥ 0, s-noise ≥ 0 and 0 ≤ s-tmin ≤ s-tmax", churn, tmin, tmax, sNoise)
	}
	n := float64(p.Steps())
	return &Stepper{
		Noise: true,
		Plan: func(i int) (int, []float64, int) {
			gamma := 0.0
			if s := p.SDE.Sigma(p.Grid[i]); s >= tmin && s <= tmax {
				gamma = math.Min(churn/n, math.Sqrt2-1)
			}
			return 0, edmCoeffs(p, i, gamma, sNoise), 2
		},
		Step: func(_ int, x *Node, _ []*Node, c, z *Node) (*Node, []*Node) { return edmStep(p, x, c, z), nil },
	}, nil
}

func init() {
	RegisterMethod(Method{Name: "edm-heun", Summary: "EDM's deterministic sampler: Heun's method in σ on the scaled state (Karras et al. 2022, Alg. 1)",
		Order: 2, EvalsPerStep: 2, DefaultSteps: 18, DefaultSchedule: "karras", New: newEDMHeun})
	RegisterMethod(Method{Name: "edm", Summary: "EDM's stochastic sampler: churn noise, then a Heun step in σ (Karras et al. 2022, Alg. 2)",
		Order: 1, Stochastic: true, EvalsPerStep: 2, DefaultSteps: 32, DefaultSchedule: "karras",
		Params: []Param{
			{Name: "churn", Default: 10, Help: "S_churn: total churn; γ_i = min(S_churn/N, √2 − 1)"},
			{Name: "s-tmin", Default: 0.05, Help: "S_tmin: churn only where σ ≥ S_tmin"},
			{Name: "s-tmax", Default: 50, Help: "S_tmax: churn only where σ ≤ S_tmax"},
			{Name: "s-noise", Default: 1, Help: "S_noise: scale of the churn noise (EDM uses 1.003 for learned scores)"},
		}, New: newEDMStochastic})
}
