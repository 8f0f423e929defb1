package sampling

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// Euler ancestral (k-diffusion's sample_euler_ancestral) works on the scaled state x̃ = x/m(t) in
// the noise level σ̃: each step splits the move from σ̃ to σ̃' into a deterministic Euler step of
// dx̃/dσ̃ = (x̃ − D)/σ̃ down to σ_down and fresh noise of std σ_up back up to σ̃':
//
//	σ_up = min(σ̃', η·√(σ̃'²(σ̃² − σ̃'²)/σ̃²)),   σ_down = √(σ̃'² − σ_up²),
//	x̃' = x̃ + (σ_down − σ̃)·(x̃ − D)/σ̃ + S_noise·σ_up·z.
//
// With η = 1 this is the DDPM ancestral step in σ̃, and for every η it is the same update as
// DDIM(η) written in x-space.

// eulerAncestralCoeffs is the coefficient vector of step i: [t, α, σ, σ̃, σ_down − σ̃, S_noise·σ_up, α'].
func eulerAncestralCoeffs(p *Problem, i int, eta, sNoise float64) []float64 {
	t, tn := p.Grid[i], p.Grid[i+1]
	a, s, sig := p.Coeffs(t)
	an, _, sigN := p.Coeffs(tn)
	up := 0.0
	if eta > 0 {
		up = math.Min(sigN, eta*math.Sqrt(math.Max(0, sigN*sigN*(sig*sig-sigN*sigN)/(sig*sig))))
	}
	down := math.Sqrt(math.Max(0, sigN*sigN-up*up))
	return []float64{t, a, s, sig, down - sig, sNoise * up, an}
}

func newEulerAncestral(p *Problem) (*Stepper, error) {
	eta, sNoise := p.Params["eta"], p.Params["s-noise"]
	if eta < 0 || sNoise < 0 {
		return nil, fmt.Errorf("eta=%g s-noise=%g: want eta ≥ 0 and s-noise ≥ 0", eta, sNoise)
	}
	return &Stepper{
		Noise: true,
		Plan:  func(i int) (int, []float64, int) { return 0, eulerAncestralCoeffs(p, i, eta, sNoise), 1 },
		Step: func(_ int, x *Node, _ []*Node, c, z *Node) (*Node, []*Node) {
			t, a, s, sig := coeff(c, 0), coeff(c, 1), coeff(c, 2), coeff(c, 3)
			xs := Div(x, a)
			d := Div(Sub(xs, Denoised(p.Score, x, t, a, s)), sig)
			xs = Add(Add(xs, Mul(d, coeff(c, 4))), Mul(z, coeff(c, 5)))
			return Mul(xs, coeff(c, 6)), nil
		},
	}, nil
}

func init() {
	RegisterMethod(Method{Name: "euler-ancestral", Summary: "Euler ancestral sampler on the scaled state in σ (k-diffusion's sample_euler_ancestral)",
		Order: 1, Stochastic: true, EvalsPerStep: 1, DefaultSteps: 100, DefaultSchedule: "karras",
		Params: []Param{
			{Name: "eta", Default: 1, Help: "η: share of the step's noise drawn fresh (0: Euler on the ODE, 1: ancestral)"},
			{Name: "s-noise", Default: 1, Help: "S_noise: scale of the fresh noise"},
		}, New: newEulerAncestral})
}
