package sampling

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// DDIM (Song, Meng, Ermon 2021) in x-space for any SDE with affine drift: with the data
// prediction D = Denoised(x, t) and the predicted noise ε̂ = (x − α_t·D)/σ_t,
//
//	x' = α'·D + √(σ'² − σ_η²)·ε̂ + σ_η·z,   σ_η = min(σ', η·σ'·√(1 − e^{−2h})),
//
// where α = m(t), σ = s(t) (the std), primes mark the next time and h = λ' − λ is the step in
// the half log-SNR λ = log(α/σ). For VP, σ_η is DDIM's η·√((σ'²/σ²)(1 − α²/α'²)); with η = 0
// the update is x' = (σ'/σ)·x + α'(1 − e^{−h})·D, DPM-Solver++'s first-order step. With η > 0
// it injects noise; in the noise level σ̃ = σ/α it is then the same update as Euler ancestral.

// ddimCoeffs is the coefficient vector of DDIM step i: [t, α, σ, α', √(σ'² − σ_η²), σ_η].
func ddimCoeffs(p *Problem, i int, eta float64) []float64 {
	t, tn := p.Grid[i], p.Grid[i+1]
	a, s := p.SDE.MeanCoeff(t), p.SDE.Std(t)
	an, sn := p.SDE.MeanCoeff(tn), p.SDE.Std(tn)
	h := sde.LogSNR(p.SDE, tn) - sde.LogSNR(p.SDE, t)
	sEta := 0.0
	if eta > 0 {
		sEta = math.Min(sn, eta*sn*math.Sqrt(-math.Expm1(-2*h)))
	}
	return []float64{t, a, s, an, math.Sqrt(math.Max(0, sn*sn-sEta*sEta)), sEta}
}

func newDDIM(p *Problem) (*Stepper, error) {
	eta := p.Params["eta"]
	if eta < 0 {
		return nil, fmt.Errorf("eta=%g, want ≥ 0 (0: deterministic DDIM, 1: DDPM-like noise)", eta)
	}
	return &Stepper{
		Noise: eta > 0,
		Plan:  func(i int) (int, []float64, int) { return 0, ddimCoeffs(p, i, eta), 1 },
		Step: func(_ int, x *Node, _ []*Node, c, z *Node) (*Node, []*Node) {
			t, a, s := coeff(c, 0), coeff(c, 1), coeff(c, 2)
			d := Denoised(p.Score, x, t, a, s)
			epsHat := Div(Sub(x, Mul(d, a)), s)
			next := Add(Mul(d, coeff(c, 3)), Mul(epsHat, coeff(c, 4)))
			if z != nil {
				next = Add(next, Mul(z, coeff(c, 5)))
			}
			return next, nil
		},
	}, nil
}

// Helpers shared by the exponential-integrator solvers of this package (DDIM, DPM-Solver,
// DPM-Solver++, UniPC): host-side float64 arithmetic for the coefficient vectors.

// logSNRGrid returns λ(t_i) = −log σ̃(t_i) for every time of the problem's grid, or an error when
// one is not finite (σ̃ = 0 at t = 0 for VP and sub-VP) or the steps in λ are not positive (two
// times too close for their noise levels to differ in float64).
func logSNRGrid(p *Problem) ([]float64, error) {
	ls := make([]float64, len(p.Grid))
	for i, t := range p.Grid {
		ls[i] = sde.LogSNR(p.SDE, t)
		if math.IsNaN(ls[i]) || math.IsInf(ls[i], 0) {
			return nil, fmt.Errorf("time grid: t[%d]=%g has noise level σ=%g, where the log-SNR is not finite: end the grid at ε > 0 (the default is %g)",
				i, t, p.SDE.Sigma(t), p.SDE.DefaultEps())
		}
		if i > 0 && !(ls[i] > ls[i-1]) {
			return nil, fmt.Errorf("time grid: t[%d]=%g and t[%d]=%g have the same noise level σ=%g in float64: space the times further apart",
				i-1, p.Grid[i-1], i, t, p.SDE.Sigma(t))
		}
	}
	return ls, nil
}

// phi is the exponential-integrator function φ_k(z) = Σ_{j≥0} z^j/(j+k)!, so φ_0 = e^z,
// φ_1 = (e^z − 1)/z, φ_2 = (e^z − 1 − z)/z²; by its series for |z| < 1 (no cancellation at small
// steps), else by the recurrence φ_k = (φ_{k−1} − 1/(k−1)!)/z.
func phi(k int, z float64) float64 {
	if math.Abs(z) < 1 {
		term := 1.0
		for j := 2; j <= k; j++ {
			term /= float64(j) // 1/k!
		}
		sum := 0.0
		for j := 0; j < 40 && term != 0; j++ {
			sum += term
			term *= z / float64(j+k+1)
		}
		return sum
	}
	v, fact := math.Exp(z), 1.0
	for j := 1; j <= k; j++ {
		v = (v - 1/fact) / z
		fact *= float64(j)
	}
	return v
}

// solveSmall solves the n×n system a·x = b (n ≤ 4 here) by Gaussian elimination with partial
// pivoting, in float64 on the host.
func solveSmall(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for col := range n {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[piv][col]) {
				piv = r
			}
		}
		m[col], m[piv] = m[piv], m[col]
		for r := col + 1; r < n; r++ {
			f := m[r][col] / m[col][col]
			for k := col; k <= n; k++ {
				m[r][k] -= f * m[col][k]
			}
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		v := m[i][n]
		for k := i + 1; k < n; k++ {
			v -= m[i][k] * x[k]
		}
		x[i] = v / m[i][i]
	}
	return x
}

// linComb is Σ_j c[k0+j]·terms[j]: a linear combination of tensors with weights from the
// coefficient vector.
func linComb(c *Node, k0 int, terms ...*Node) *Node {
	var sum *Node
	for j, t := range terms {
		v := Mul(t, coeff(c, k0+j))
		if sum == nil {
			sum = v
		} else {
			sum = Add(sum, v)
		}
	}
	return sum
}

func init() {
	RegisterMethod(Method{Name: "ddim", Summary: "DDIM with η (Song et al. 2021) in x-space for every SDE; η = 0 is deterministic (DPM-Solver++ first order)",
		Order: 1, EvalsPerStep: 1, DefaultSteps: 50, DefaultSchedule: "logsnr",
		Params: []Param{{Name: "eta", Default: 0, Help: "η: 0 is the deterministic DDIM ODE step, 1 adds DDPM-like noise (then the noise follows --noise)"}},
		New:    newDDIM})
}
