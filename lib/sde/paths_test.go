package sde

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
)

func moments(xs [][]float64) (mean, std float64) {
	for _, x := range xs {
		mean += x[0]
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x[0] - mean) * (x[0] - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

// TestSimulateForward: forward paths from x0 = 2 end with the kernel's mean and std at T
// (5 standard errors plus the O(1/n) discretization error).
func TestSimulateForward(t *testing.T) {
	b := backend.MustNew()
	const n = 4000
	x0 := make([][]float64, n)
	for i := range x0 {
		x0[i] = []float64{2}
	}
	for _, s := range all() {
		p, err := SimulateForward(b, s, x0, 400, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{100, 400} {
			tt := p.Times[k]
			mean, std := moments(p.X[k])
			wm, ws := 2*s.MeanCoeff(tt), s.Std(tt)
			if math.Abs(mean-wm) > 5*ws/math.Sqrt(n)+0.02*math.Max(1, ws) || math.Abs(std-ws) > 5*ws/math.Sqrt(2*n)+0.02*ws {
				t.Errorf("%s t=%.2f: mean %.4f std %.4f, want %.4f and %.4f", s.Name(), tt, mean, std, wm, ws)
			}
		}
	}
}

// TestSimulateReverse: with the exact score of N(1, v0), the reverse SDE and the probability-flow
// ODE carry prior samples back to the data distribution.
func TestSimulateReverse(t *testing.T) {
	b := backend.MustNew()
	const n, v0, mu = 4000, 0.25, 1.0
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range all() {
		score := func(x, tt *Node) *Node {
			m, std := s.MarginalProb(OnesLike(tt), tt)
			variance := Add(MulScalar(Square(m), v0), Square(std))
			return Neg(Div(Sub(x, PerSample(MulScalar(m, mu), x)), PerSample(variance, x)))
		}
		xT := make([][]float64, n)
		for i := range xT {
			// Start from the exact p_T, so the test measures the reverse dynamics alone.
			sd := math.Sqrt(s.MeanCoeff(1)*s.MeanCoeff(1)*v0 + s.Std(1)*s.Std(1))
			xT[i] = []float64{mu*s.MeanCoeff(1) + sd*r.NormFloat64()}
		}
		for _, pf := range []bool{false, true} {
			p, err := SimulateReverse(b, ReverseOf(s, score, pf), xT, 1e-3, 1000, 5)
			if err != nil {
				t.Fatal(err)
			}
			mean, std := moments(p.X[len(p.X)-1])
			if math.Abs(mean-mu) > 0.05 || math.Abs(std-math.Sqrt(v0)) > 0.05 {
				t.Errorf("%s pf=%v: reverse samples mean %.4f std %.4f, want %.2f and %.2f", s.Name(), pf, mean, std, mu, math.Sqrt(v0))
			}
		}
	}
}
