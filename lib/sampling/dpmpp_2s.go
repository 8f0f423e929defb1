package sampling

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// DPM-Solver++(2S) (Lu et al. 2022, Algorithm 1 with r = 1/2; k-diffusion's 2S without the
// ancestral noise): a single-step second-order exponential integrator in the data prediction
// D. From (x, t) with h = λ' − λ, the midpoint t_m has λ_m = λ + h/2 and
//
//	u  = (σ_m/σ)·x + α_m(1 − e^{−h_m})·D(x, t),    h_m = λ_m − λ,
//	x' = (σ'/σ)·x + α'(1 − e^{−h})·D(u, t_m),
//
// with α = m(t), σ = s(t) (the std). Two score evaluations per step.

// dpmpp2SCoeffs is the coefficient vector of step i: [t, α, σ, t_m, α_m, σ_m, σ_m/σ, α_m(1 − e^{−h_m}),
// σ'/σ, α'(1 − e^{−h})].
func dpmpp2SCoeffs(p *Problem, ls []float64, i int) []float64 {
	t, tn := p.Grid[i], p.Grid[i+1]
	h := ls[i+1] - ls[i]
	tm := sde.TimeOfLogSNR(p.SDE, ls[i]+h/2)
	hm := sde.LogSNR(p.SDE, tm) - ls[i] // the midpoint's own λ, so the coefficients stay exact
	a, s := p.SDE.MeanCoeff(t), p.SDE.Std(t)
	am, sm := p.SDE.MeanCoeff(tm), p.SDE.Std(tm)
	an, sn := p.SDE.MeanCoeff(tn), p.SDE.Std(tn)
	return []float64{t, a, s, tm, am, sm, sm / s, -am * math.Expm1(-hm), sn / s, -an * math.Expm1(-h)}
}

func newDPMpp2S(p *Problem) (*Stepper, error) {
	ls, err := logSNRGrid(p)
	if err != nil {
		return nil, err
	}
	return &Stepper{
		Plan: func(i int) (int, []float64, int) { return 0, dpmpp2SCoeffs(p, ls, i), 2 },
		Step: func(_ int, x *Node, _ []*Node, c, _ *Node) (*Node, []*Node) {
			d := Denoised(p.Score, x, coeff(c, 0), coeff(c, 1), coeff(c, 2))
			u := linComb(c, 6, x, d)
			d2 := Denoised(p.Score, u, coeff(c, 3), coeff(c, 4), coeff(c, 5))
			return linComb(c, 8, x, d2), nil
		},
	}, nil
}

func init() {
	RegisterMethod(Method{Name: "dpmpp-2s", Summary: "DPM-Solver++(2S): single-step second-order data-prediction solver, midpoint in log-SNR (Lu et al. 2022)",
		Order: 2, EvalsPerStep: 2, DefaultSteps: 10, DefaultSchedule: "logsnr", New: newDPMpp2S})
}
