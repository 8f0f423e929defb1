package sampling

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sde"
)

// logSNR is λ(t) = log(m(t)/s(t)), the half log signal-to-noise ratio of the kernel.
func logSNR(s sde.SDE, t float64) float64 { return math.Log(s.MeanCoeff(t)) - math.Log(s.Std(t)) }

// timeForLogSNR inverts λ(t) on [lo, hi] by bisection (λ decreases with t for every SDE here).
func timeForLogSNR(s sde.SDE, lambda, lo, hi float64) float64 {
	for range 200 {
		mid := 0.5 * (lo + hi)
		if logSNR(s, mid) > lambda {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi)
}

// dpmSolver integrates the probability-flow ODE from t0 = T down to t1 = eps with the
// single-step DPM-Solver of order 2 or 3 (Lu et al., 2022) on n steps uniform in λ. It writes the
// ODE in its exponential-integrator form with the noise prediction ε(x, t) = −s(t)·score(x, t), so
// it holds for every SDE with an affine drift (VP, sub-VP and VE). NFE = order·n.
func dpmSolver(b compute.Backend, s sde.SDE, score sde.ScoreFn, order int, x *tensors.Tensor, t0, t1 float64, n int, res *Result, run Run) (*tensors.Tensor, error) {
	r1, r2 := 0.5, 0.0
	if order == 3 {
		r1, r2 = 1.0/3, 2.0/3
	}
	// step takes x at time ts[0] to ts[3]; ts[1] and ts[2] are the intermediate times, h = λ(ts[3]) − λ(ts[0]).
	step, err := NewExec(b, func(x, ts, h *Node) *Node {
		ts, h = ConvertDType(ts, x.DType()), ConvertDType(h, x.DType())
		at := func(i int) (tb, alpha, sigma *Node) {
			tb = Reshape(Slice(ts, AxisElem(i)))
			alpha, sigma = s.MarginalProb(OnesLike(tb), tb)
			return tb, sde.PerSample(alpha, x), sde.PerSample(sigma, x)
		}
		eps := func(x *Node, i int) *Node {
			tb, _, sigma := at(i)
			return Neg(Mul(sigma, score(x, tb)))
		}
		expm1 := func(c float64) *Node { return Expm1(MulScalar(h, c)) }
		_, as, _ := at(0)
		_, a1, s1 := at(1)
		_, at3, st := at(3)
		e0 := eps(x, 0)
		u1 := Sub(Mul(Div(a1, as), x), Mul(Mul(s1, expm1(r1)), e0))
		if order == 2 {
			return Sub(Mul(Div(at3, as), x), Mul(Mul(st, expm1(1)), eps(u1, 1)))
		}
		_, a2, s2 := at(2)
		d1 := Sub(eps(u1, 1), e0)
		phi2 := func(c float64) *Node { // (e^{ch} − 1)/(ch) − 1
			return AddScalar(Div(expm1(c), MulScalar(h, c)), -1)
		}
		u2 := Sub(Sub(Mul(Div(a2, as), x), Mul(Mul(s2, expm1(r2)), e0)),
			Mul(MulScalar(Mul(s2, phi2(r2)), r2/r1), d1))
		d2 := Sub(eps(u2, 2), e0)
		return Sub(Sub(Mul(Div(at3, as), x), Mul(Mul(st, expm1(1)), e0)),
			Mul(MulScalar(Mul(st, phi2(1)), 1/r2), d2))
	})
	if err != nil {
		return nil, err
	}
	l0, l1 := logSNR(s, t0), logSNR(s, t1)
	if math.IsInf(l0, 0) || math.IsNaN(l0) || math.IsInf(l1, 0) || math.IsNaN(l1) {
		return nil, fmt.Errorf("DPM-Solver: log-SNR undefined between t=%g and t=%g for %s", t1, t0, s.Name())
	}
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, n, t0, x)
	lambdas := Linspace(l0, l1, n+1)
	for i := range n {
		ls, lt := lambdas[i], lambdas[i+1]
		h := lt - ls
		tt := []float64{
			timeForLogSNR(s, ls, t1, t0),
			timeForLogSNR(s, ls+r1*h, t1, t0),
			timeForLogSNR(s, ls+r2*h, t1, t0),
			timeForLogSNR(s, lt, t1, t0),
		}
		tt[0] = math.Min(tt[0], t0)
		if i == 0 {
			tt[0] = t0
		}
		if i == n-1 {
			tt[3] = t1
		}
		if x, err = step.Call1(x, tt, h); err != nil {
			return nil, fmt.Errorf("DPM-Solver step %d (t=%g): %w", i, tt[0], err)
		}
		res.NFE += order
		rec.record(i+1, n, tt[3], x)
		if run.Progress != nil {
			run.Progress(i+1, n)
		}
	}
	return x, nil
}
