package sampling

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// DPM-Solver++(2M) SDE (k-diffusion's sample_dpmpp_2m_sde, midpoint variant): a multistep
// second-order step of the data prediction D with a share η of the step's noise drawn fresh.
// With h = λ' − λ, r = h_prev/h and α = m(t), σ = s(t) (the std):
//
//	x' = (σ'/σ)e^{−ηh}·x + α'(1 − e^{−(1+η)h})·(D_i + (D_i − D_{i−1})/(2r)) + S_noise·σ'·√(1 − e^{−2ηh})·z,
//
// the difference term left out on the first step. η = 0 is DPM-Solver++(2M) with the midpoint
// weight; η = 1 discretizes the reverse SDE. The noise's variance per unit of σ̃ tends to 2σ̃, so
// driven by one Brownian path in σ̃ the samples converge pathwise as the grid is refined.

// dpmpp2MSDECoeffs is the coefficient vector of step i: [t, α, σ, a, w_i, w_{i−1}, noise scale].
func dpmpp2MSDECoeffs(p *Problem, ls []float64, i int, eta, sNoise float64) []float64 {
	t, tn := p.Grid[i], p.Grid[i+1]
	a, s := p.SDE.MeanCoeff(t), p.SDE.Std(t)
	an, sn := p.SDE.MeanCoeff(tn), p.SDE.Std(tn)
	h := ls[i+1] - ls[i]
	b := -an * math.Expm1(-(1+eta)*h)
	w0, w1 := b, 0.0
	if i > 0 {
		r := (ls[i] - ls[i-1]) / h
		w0, w1 = b*(1+0.5/r), -b*0.5/r
	}
	return []float64{t, a, s, sn / s * math.Exp(-eta*h), w0, w1, sNoise * sn * math.Sqrt(-math.Expm1(-2*eta*h))}
}

func newDPMpp2MSDE(p *Problem) (*Stepper, error) {
	eta, sNoise := p.Params["eta"], p.Params["s-noise"]
	if eta < 0 || sNoise < 0 {
		return nil, fmt.Errorf("eta=%g s-noise=%g: want eta ≥ 0 and s-noise ≥ 0", eta, sNoise)
	}
	ls, err := logSNRGrid(p)
	if err != nil {
		return nil, err
	}
	return &Stepper{
		History: 1, // D_{i−1}
		Noise:   true,
		Plan:    func(i int) (int, []float64, int) { return 0, dpmpp2MSDECoeffs(p, ls, i, eta, sNoise), 1 },
		Step: func(_ int, x *Node, hist []*Node, c, z *Node) (*Node, []*Node) {
			d := Denoised(p.Score, x, coeff(c, 0), coeff(c, 1), coeff(c, 2))
			return linComb(c, 3, x, d, hist[0], z), []*Node{d}
		},
	}, nil
}

func init() {
	RegisterMethod(Method{Name: "dpmpp-2m-sde", Summary: "DPM-Solver++(2M) SDE: multistep second-order data-prediction step with fresh noise (k-diffusion, midpoint variant)",
		Order: 1, Stochastic: true, EvalsPerStep: 1, DefaultSteps: 50, DefaultSchedule: "karras",
		Params: []Param{
			{Name: "eta", Default: 1, Help: "η: share of the step's noise drawn fresh (0: DPM-Solver++(2M) ODE, 1: reverse SDE)"},
			{Name: "s-noise", Default: 1, Help: "S_noise: scale of the fresh noise"},
		}, New: newDPMpp2MSDE})
}
