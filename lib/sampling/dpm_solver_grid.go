package sampling

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// DPM-Solver (Lu, Zhou, Bao, Chen, Li, Zhu 2022, Algorithms 1 and 2) of order 2 and 3: single-step
// exponential integrators of the probability-flow ODE in the noise prediction ε(x, t) = −σ_t·s(x, t),
// on any time grid. Each step from t_s to t with h = λ_t − λ_s evaluates ε at intermediate times
// t_1, t_2 with λ = λ_s + r_1·h, λ_s + r_2·h (r_1 = 1/2 for order 2; 1/3 and 2/3 for order 3):
//
//	u_1 = (α_1/α_s)·x − σ_1(e^{r_1 h} − 1)·ε_s,
//	u_2 = (α_2/α_s)·x − σ_2(e^{r_2 h} − 1)·ε_s − σ_2·(r_2/r_1)·φ(r_2 h)·(ε(u_1, t_1) − ε_s),
//	x_t = (α_t/α_s)·x − σ_t(e^h − 1)·ε_s − σ_t·(1/r_2)·φ(h)·(ε(u_2, t_2) − ε_s),
//
// with φ(z) = (e^z − 1)/z − 1 (order 3), and x_t = (α_t/α_s)·x − σ_t(e^h − 1)·ε_s −
// σ_t(e^h − 1)/(2r_1)·(ε(u_1, t_1) − ε_s) for order 2. α = m(t) and σ = s(t) come from the SDE, so the
// solver holds for VE, VP and sub-VP alike; the ratios r use the intermediate times' own λ. A step
// too short for its intermediate times to fall strictly between its ends in float64 (0 < h_1 < h_2 < h)
// is taken at first order, x_t = (α_t/α_s)·x − σ_t(e^h − 1)·ε_s, which is then as exact.

// dpmSolverCoeffs is the coefficient vector of a step of DPM-Solver-2 or -3 from Grid[i] to Grid[i+1]:
// [t_s, σ_s, t_1, σ_1, t_2, σ_2, then the weights of (x, ε_s, ε_1) for u_1, of (x, ε_s, ε_1) for u_2
// and of (x, ε_s, ε_1, ε_2) for x_t]. Order 2 leaves the u_2 entries zero.
func dpmSolverCoeffs(p *Problem, ls []float64, i, order int) []float64 {
	s := p.SDE
	ts, tt := p.Grid[i], p.Grid[i+1]
	h := ls[i+1] - ls[i]
	as, ss := s.MeanCoeff(ts), s.Std(ts)
	at, st := s.MeanCoeff(tt), s.Std(tt)
	mid := func(r float64) (t, a, sd, hr float64) {
		t = sde.TimeOfLogSNR(s, ls[i]+r*h)
		return t, s.MeanCoeff(t), s.Std(t), sde.LogSNR(s, t) - ls[i]
	}
	c := make([]float64, 16)
	c[0], c[1] = ts, ss
	firstOrder := func() []float64 { // ε_1 and ε_2 are evaluated at t_s and weigh nothing
		c[2], c[3], c[4], c[5] = ts, ss, ts, ss
		c[6], c[9] = 1, 1
		c[12], c[13] = at/as, -st*math.Expm1(h)
		return c
	}
	if order == 2 {
		t1, a1, s1, h1 := mid(0.5)
		if !(h1 > 0 && h1 < h) {
			return firstOrder()
		}
		r1 := h1 / h
		c[2], c[3] = t1, s1
		c[6], c[7] = a1/as, -s1*math.Expm1(h1) // u_1
		e := -st * math.Expm1(h)
		c[12], c[13], c[14] = at/as, e*(1-1/(2*r1)), e/(2*r1)
		return c
	}
	t1, a1, s1, h1 := mid(1.0 / 3)
	t2, a2, s2, h2 := mid(2.0 / 3)
	if !(h1 > 0 && h1 < h2 && h2 < h) {
		return firstOrder()
	}
	r1, r2 := h1/h, h2/h
	c[2], c[3], c[4], c[5] = t1, s1, t2, s2
	c[6], c[7] = a1/as, -s1*math.Expm1(h1)
	// (e^z − 1)/z − 1 = z·φ_2(z), without cancellation at small z.
	g2 := -s2 * (r2 / r1) * h2 * phi(2, h2)
	c[9], c[10], c[11] = a2/as, -s2*math.Expm1(h2)-g2, g2
	g := -st * (1 / r2) * h * phi(2, h)
	c[12], c[13], c[15] = at/as, -st*math.Expm1(h)-g, g
	return c
}

func newDPMSolver(order int) func(p *Problem) (*Stepper, error) {
	return func(p *Problem) (*Stepper, error) {
		ls, err := logSNRGrid(p)
		if err != nil {
			return nil, err
		}
		return &Stepper{
			Plan: func(i int) (int, []float64, int) { return 0, dpmSolverCoeffs(p, ls, i, order), order },
			Step: func(_ int, x *Node, _ []*Node, c, _ *Node) (*Node, []*Node) {
				eps := func(x *Node, k int) *Node { // ε at (t, σ) = c[2k], c[2k+1]
					return Neg(Mul(p.Score(x, coeff(c, 2*k)), coeff(c, 2*k+1)))
				}
				e0 := eps(x, 0)
				u1 := linComb(c, 6, x, e0)
				e1 := eps(u1, 1)
				if order == 2 {
					return linComb(c, 12, x, e0, e1), nil
				}
				u2 := linComb(c, 9, x, e0, e1)
				e2 := eps(u2, 2)
				return Add(linComb(c, 12, x, e0), Mul(e2, coeff(c, 15))), nil
			},
		}, nil
	}
}

func init() {
	RegisterMethod(Method{Name: "dpm2", Summary: "DPM-Solver-2: single-step second-order noise-prediction solver, midpoint in log-SNR (Lu et al. 2022)",
		Order: 2, EvalsPerStep: 2, DefaultSteps: 25, DefaultSchedule: "logsnr", New: newDPMSolver(2)})
	RegisterMethod(Method{Name: "dpm3", Summary: "DPM-Solver-3: single-step third-order noise-prediction solver, r = 1/3 and 2/3 in log-SNR (Lu et al. 2022)",
		Order: 3, EvalsPerStep: 3, DefaultSteps: 15, DefaultSchedule: "logsnr", New: newDPMSolver(3)})
}
