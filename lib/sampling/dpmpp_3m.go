package sampling

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// DPM-Solver++(3M) (Lu et al. 2022, the multistep third-order data-prediction solver; k-diffusion's
// sample_dpmpp_3m_sde with η = 0 is its ODE form): one score evaluation per step. On the scaled
// state the exact solution over a step of h = λ' − λ is x̃' = e^{−h}·x̃ + ∫_0^h e^{−(h−u)}·D(λ + u) du;
// the step integrates, exactly, the quadratic P through D_i, D_{i−1}, D_{i−2} at their own λ:
//
//	x' = (σ'/σ)·x + α'·((1 − e^{−h})·D_i + h·φ_2(−h)·d_1 + 2h·φ_3(−h)·d_2),
//
// with d_1 = h·P'(0), d_2 = h²·P''(0)/2 (k-diffusion's d1, d2), α = m(t), σ = s(t) (the std) and
// φ_k(z) = Σ_j z^j/(j+k)!. The warm-up steps are first order (DDIM) and second order (the exact
// integral of the line through D_i and D_{i−1}).
//
// The weight of d_2 is twice k-diffusion's and DPM-Solver's (their φ_3 = φ_2/h − 1/2 is h·φ_3(−h)):
// with theirs the D'' term of the local error does not cancel and the step is second order only
// (measured on the Gaussian of TestOrderOnGaussian: 2.1 on the log-SNR grid, 1.2 to 1.7 on the
// Karras grid, 32 to 256 steps); with the exact weight it is third order (3.0 on the Karras grid).

// dpmpp3MCoeffs is the coefficient vector of step i: [t, α, σ, σ'/σ, w_i, w_{i−1}, w_{i−2}].
func dpmpp3MCoeffs(p *Problem, ls []float64, i int) []float64 {
	t, tn := p.Grid[i], p.Grid[i+1]
	a, s := p.SDE.MeanCoeff(t), p.SDE.Std(t)
	an, sn := p.SDE.MeanCoeff(tn), p.SDE.Std(tn)
	h := ls[i+1] - ls[i]
	w := [3]float64{-math.Expm1(-h), 0, 0}
	phi2 := h * phi(2, -h)
	switch {
	case i >= 2:
		r0, r1 := (ls[i]-ls[i-1])/h, (ls[i-1]-ls[i-2])/h
		d10 := [3]float64{1 / r0, -1 / r0, 0}
		d11 := [3]float64{0, 1 / r1, -1 / r1}
		var d1, d2 [3]float64
		for k := range 3 {
			d1[k] = d10[k] + (d10[k]-d11[k])*r0/(r0+r1)
			d2[k] = (d10[k] - d11[k]) / (r0 + r1)
		}
		phi3 := 2 * h * phi(3, -h)
		for k := range 3 {
			w[k] += phi2*d1[k] + phi3*d2[k]
		}
	case i == 1:
		r := (ls[i] - ls[i-1]) / h
		w[0] += phi2 / r
		w[1] -= phi2 / r
	}
	return []float64{t, a, s, sn / s, an * w[0], an * w[1], an * w[2]}
}

func newDPMpp3M(p *Problem) (*Stepper, error) {
	ls, err := logSNRGrid(p)
	if err != nil {
		return nil, err
	}
	return &Stepper{
		History: 2, // D_{i−1}, D_{i−2}
		Plan:    func(i int) (int, []float64, int) { return 0, dpmpp3MCoeffs(p, ls, i), 1 },
		Step: func(_ int, x *Node, hist []*Node, c, _ *Node) (*Node, []*Node) {
			d := Denoised(p.Score, x, coeff(c, 0), coeff(c, 1), coeff(c, 2))
			return linComb(c, 3, x, d, hist[0], hist[1]), []*Node{d, hist[0]}
		},
	}, nil
}

func init() {
	RegisterMethod(Method{Name: "dpmpp-3m", Summary: "DPM-Solver++(3M): multistep third-order data-prediction solver, one evaluation per step",
		Order: 3, EvalsPerStep: 1, DefaultSteps: 20, DefaultSchedule: "logsnr", New: newDPMpp3M})
}
