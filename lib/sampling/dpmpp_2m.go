package sampling

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2; k-diffusion's sample_dpmpp_2m): a multistep
// second-order exponential integrator in the data prediction D, one score evaluation per step.
// With h_i = λ_{i+1} − λ_i and r = h_{i−1}/h_i,
//
//	x_{i+1} = (σ_{i+1}/σ_i)·x_i + α_{i+1}(1 − e^{−h_i})·((1 + 1/(2r))·D_i − (1/(2r))·D_{i−1}),
//
// and the first step, without a previous D, is first order (DDIM).

// dpmpp2MCoeffs is the coefficient vector of step i: [t, α, σ, σ'/σ, w_i, w_{i−1}], the weights of
// D_i and D_{i−1}.
func dpmpp2MCoeffs(p *Problem, ls []float64, i int) []float64 {
	t, tn := p.Grid[i], p.Grid[i+1]
	a, s := p.SDE.MeanCoeff(t), p.SDE.Std(t)
	an, sn := p.SDE.MeanCoeff(tn), p.SDE.Std(tn)
	h := ls[i+1] - ls[i]
	b := -an * math.Expm1(-h)
	w0, w1 := b, 0.0
	if i > 0 {
		r := (ls[i] - ls[i-1]) / h
		w0, w1 = b*(1+1/(2*r)), -b/(2*r)
	}
	return []float64{t, a, s, sn / s, w0, w1}
}

func newDPMpp2M(p *Problem) (*Stepper, error) {
	ls, err := logSNRGrid(p)
	if err != nil {
		return nil, err
	}
	return &Stepper{
		History: 1, // D_{i−1}
		Plan:    func(i int) (int, []float64, int) { return 0, dpmpp2MCoeffs(p, ls, i), 1 },
		Step: func(_ int, x *Node, hist []*Node, c, _ *Node) (*Node, []*Node) {
			d := Denoised(p.Score, x, coeff(c, 0), coeff(c, 1), coeff(c, 2))
			return linComb(c, 3, x, d, hist[0]), []*Node{d}
		},
	}, nil
}

func init() {
	RegisterMethod(Method{Name: "dpmpp-2m", Summary: "DPM-Solver++(2M): multistep second-order data-prediction solver, one evaluation per step (Lu et al. 2022)",
		Order: 2, EvalsPerStep: 1, DefaultSteps: 20, DefaultSchedule: "logsnr", New: newDPMpp2M})
}
