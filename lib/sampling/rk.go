package sampling

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// Explicit Runge–Kutta methods on the probability-flow ODE dx/dt = f(x, t) − ½g(t)²s(x, t) in
// the time variable t: Euler (order 1), Heun (2) and the classical RK4 (4).

// rkTableau is an explicit Runge–Kutta method: nodes c, matrix a and weights w.
type rkTableau struct {
	c []float64
	a [][]float64
	w []float64
}

var (
	eulerTableau = rkTableau{c: []float64{0}, a: [][]float64{{}}, w: []float64{1}}
	heunTableau  = rkTableau{c: []float64{0, 1}, a: [][]float64{{}, {1}}, w: []float64{0.5, 0.5}}
	rk4Tableau   = rkTableau{c: []float64{0, 0.5, 0.5, 1}, a: [][]float64{{}, {0.5}, {0, 0.5}, {0, 0, 1}},
		w: []float64{1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}}
)

// newRK returns the Stepper of a Runge–Kutta method in t: coefficients [t_i, h = t_{i+1} − t_i].
func newRK(tab rkTableau) func(p *Problem) (*Stepper, error) {
	return func(p *Problem) (*Stepper, error) {
		flow := sde.ReverseOf(p.SDE, p.Score, true)
		return &Stepper{
			Plan: func(i int) (int, []float64, int) {
				return 0, []float64{p.Grid[i], p.Grid[i+1] - p.Grid[i]}, len(tab.w)
			},
			Step: func(_ int, x *Node, _ []*Node, c, _ *Node) (*Node, []*Node) {
				return rkStep(tab, flow.Drift, x, coeff(c, 0), coeff(c, 1)), nil
			},
		}, nil
	}
}

// rkStep is one step of size h (a scalar node) of the tableau from (x, t).
func rkStep(tab rkTableau, f func(x, t *Node) *Node, x, t, h *Node) *Node {
	ks := make([]*Node, len(tab.w))
	for i := range ks {
		xi := x
		for j, a := range tab.a[i] {
			if a != 0 {
				xi = Add(xi, Mul(MulScalar(ks[j], a), h))
			}
		}
		ks[i] = f(xi, Add(t, MulScalar(h, tab.c[i])))
	}
	sum := MulScalar(ks[0], tab.w[0])
	for i := 1; i < len(ks); i++ {
		sum = Add(sum, MulScalar(ks[i], tab.w[i]))
	}
	return Add(x, Mul(sum, h))
}

func init() {
	RegisterMethod(Method{Name: "euler", Summary: "Euler's method on the probability-flow ODE in t", Order: 1,
		EvalsPerStep: 1, DefaultSteps: 1000, DefaultSchedule: "uniform", New: newRK(eulerTableau)})
	RegisterMethod(Method{Name: "heun", Summary: "Heun's method (explicit trapezoid) on the probability-flow ODE in t", Order: 2,
		EvalsPerStep: 2, DefaultSteps: 500, DefaultSchedule: "uniform", New: newRK(heunTableau)})
	RegisterMethod(Method{Name: "rk4", Summary: "classical fourth-order Runge–Kutta on the probability-flow ODE in t", Order: 4,
		EvalsPerStep: 4, DefaultSteps: 250, DefaultSchedule: "uniform", New: newRK(rk4Tableau)})
}
