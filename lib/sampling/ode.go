package sampling

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sde"
)

// ODEOptions configures the probability-flow ODE sampler. Start from DefaultODE.
type ODEOptions struct {
	// Method is "rk45" (adaptive Dormand–Prince, the references' scipy default) or any
	// deterministic method of the registry (MethodNames(true, false)): euler, heun, rk4, edm-heun,
	// dpm2, dpm3, dpmpp-2m, unipc, ddim, ….
	Method string
	// RTol and ATol are RK45's relative and absolute tolerances (default 1e-5 each).
	RTol, ATol float64
	// N is the number of steps of a grid method (0: the method's default).
	N int
	// Schedule is the grid of a grid method (empty: the method's default; see Schedules).
	Schedule string
	// Eps is the end time of the integration from T down to Eps; 0 selects the SDE's DefaultEps.
	Eps float64
	// Denoise ends with the noise-free mean of one reverse-diffusion predictor step of the
	// reverse SDE at Eps, x − f + G²·s (the references' noise_removal; one more score evaluation).
	Denoise bool
	// Latent, when set, is the starting point x_T [n, ...] (decoding a latent) instead of a prior sample.
	Latent *tensors.Tensor
}

// ODEMethods lists the solvers accepted by ODE: rk45 and the registry's deterministic methods.
func ODEMethods() []string { return append([]string{"rk45"}, MethodNames(true, false)...) }

// DefaultODE returns RK45 with rtol = atol = 1e-5 and denoising on, as the references sample.
func DefaultODE() ODEOptions {
	return ODEOptions{Method: "rk45", RTol: 1e-5, ATol: 1e-5, Denoise: true}
}

// Validate reports a bad option, naming it and the fix.
func (o ODEOptions) Validate(s sde.SDE) error {
	if normalize(o.Method) == "rk45" {
		if !(o.RTol > 0) || !(o.ATol > 0) {
			return fmt.Errorf("rtol=%g atol=%g: RK45 tolerances must be > 0 (the references use 1e-5)", o.RTol, o.ATol)
		}
	} else if m, err := LookupMethod(o.Method); err != nil || m.Stochastic {
		return fmt.Errorf("unknown ODE method %q: use one of %s", o.Method, strings.Join(ODEMethods(), ", "))
	}
	if o.N < 0 || o.N > MaxSteps {
		return fmt.Errorf("steps=%d, want 1 to %d (0 uses the method's default)", o.N, MaxSteps)
	}
	if math.IsNaN(o.Eps) || o.Eps < 0 || o.Eps >= s.T() {
		return fmt.Errorf("eps=%g, want 0 < eps < T=%g (0 selects the default %g)", o.Eps, s.T(), s.DefaultEps())
	}
	return nil
}

// ODE draws samples of shape [n, ...] by integrating the probability-flow ODE
// dx/dt = f(x,t) − ½g(t)²s(x,t) from T (a prior sample, or Latent) down to eps.
// NFE counts every score evaluation of the solve, the step-size start-up and rejected steps included.
// As the references (scipy on float64 arrays), RK45 keeps its state in float64 whatever the
// score's dtype; the samples come back in the run's dtype.
func ODE(b compute.Backend, s sde.SDE, score sde.ScoreFn, shape []int, o ODEOptions, run Run) (*Result, error) {
	if err := o.Validate(s); err != nil {
		return nil, err
	}
	eps := o.Eps
	if eps == 0 {
		eps = s.DefaultEps()
	}
	if normalize(o.Method) != "rk45" {
		return Sample(b, s, score, shape, SolveOptions{Method: o.Method, Steps: o.N, Schedule: o.Schedule,
			Eps: eps, Denoise: o.Denoise, Latent: o.Latent}, run)
	}
	start := time.Now()
	x := o.Latent
	var err error
	if x == nil {
		if x, _, err = priorSample(b, s, shape, run); err != nil {
			return nil, err
		}
	}
	flow := sde.ReverseOf(s, score, true)
	dt := x.DType()
	drift := flow.Drift
	if dt != dtypes.Float64 {
		// State in float64, score in the model's dtype.
		drift = func(x, t *Node) *Node {
			return ConvertDType(flow.Drift(ConvertDType(x, dt), ConvertDType(t, dt)), dtypes.Float64)
		}
		if x, err = ExecOnce(b, func(x *Node) *Node { return ConvertDType(x, dtypes.Float64) }, x); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	if x, err = rk45(b, drift, x, s.T(), eps, o.RTol, o.ATol, res, run); err != nil {
		return nil, err
	}
	if dt != dtypes.Float64 {
		if x, err = ExecOnce(b, func(x *Node) *Node { return ConvertDType(x, dt) }, x); err != nil {
			return nil, err
		}
	}
	if o.Denoise {
		if x, err = denoiseStep(b, s, score, x, eps); err != nil {
			return nil, err
		}
		res.NFE++
	}
	res.Samples = x
	res.ReferenceNFE = res.NFE
	res.Elapsed = time.Since(start)
	return res, nil
}

// fixedStep integrates dx/dt = f(x, t) from t0 to t1 in n equal steps with Euler (1 evaluation per
// step), Heun (2) or classical RK4 (4): the tableaus of the registry's methods, for any f.
func fixedStep(b compute.Backend, method string, f func(x, t *Node) *Node, x *tensors.Tensor, t0, t1 float64, n int, res *Result, run Run) (*tensors.Tensor, error) {
	tab := map[string]rkTableau{"euler": eulerTableau, "heun": heunTableau, "rk4": rk4Tableau}[method]
	h := (t1 - t0) / float64(n)
	step, err := NewExec(b, func(x, t *Node) *Node {
		t = ConvertDType(t, x.DType())
		return rkStep(tab, f, x, t, Scalar(x.Graph(), x.DType(), h))
	})
	if err != nil {
		return nil, err
	}
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, n, t0, x)
	for i := range n {
		t := t0 + float64(i)*h
		if x, err = step.Call1(x, t); err != nil {
			return nil, fmt.Errorf("%s step %d (t=%g): %w", method, i, t, err)
		}
		res.NFE += len(tab.w)
		rec.record(i+1, n, t+h, x)
		if run.Progress != nil {
			run.Progress(i+1, n)
		}
	}
	return x, nil
}

// Dormand–Prince 5(4) tableau (the coefficients of scipy's RK45 and MATLAB's ode45).
var (
	dpC = []float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1}
	dpA = [][]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
		{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
	}
	// dpE is the difference between the 5th- and 4th-order weights (the error estimate).
	dpE = []float64{71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40}
)

// rk45 integrates dx/dt = f(x, t) from t0 to t1 with adaptive Dormand–Prince steps, controlling
// the RMS norm of the error scaled by atol + rtol·max(|x|, |x_new|) over the whole batch (as scipy
// treats the flattened batch), with scipy's initial step selection and step-size factors.
func rk45(b compute.Backend, f func(x, t *Node) *Node, x *tensors.Tensor, t0, t1, rtol, atol float64, res *Result, run Run) (*tensors.Tensor, error) {
	dir := math.Copysign(1, t1-t0)
	bt := func(t, x *Node) *Node { return ConvertDType(t, x.DType()) }
	rms := func(v *Node) *Node { return Sqrt(ReduceAllMean(Square(v))) }
	// eval returns f(x, t) and the scaled norms of x and f used by the initial step selection.
	eval, err := NewExec(b, func(x, t *Node) (*Node, *Node, *Node) {
		k := f(x, bt(t, x))
		scale := AddScalar(MulScalar(Abs(x), rtol), atol)
		return k, rms(Div(x, scale)), rms(Div(k, scale))
	})
	if err != nil {
		return nil, err
	}
	// step takes one Dormand–Prince step of size h from (x, t) with k1 = f(x, t) and returns the new
	// x, k7 = f(x_new, t + h) (first-same-as-last) and the scaled error norm.
	step, err := NewExec(b, func(x, t, h, k1 *Node) (*Node, *Node, *Node) {
		t, h = ConvertDType(t, x.DType()), ConvertDType(h, x.DType())
		ks := []*Node{k1}
		var xNew *Node
		for i := 1; i < 7; i++ {
			acc := x
			for j, a := range dpA[i] {
				if a != 0 {
					acc = Add(acc, Mul(MulScalar(ks[j], a), h))
				}
			}
			if i == 6 {
				xNew = acc
			}
			ks = append(ks, f(acc, bt(Add(t, MulScalar(h, dpC[i])), x)))
		}
		errSum := ZerosLike(x)
		for j, e := range dpE {
			if e != 0 {
				errSum = Add(errSum, MulScalar(ks[j], e))
			}
		}
		errVec := Mul(errSum, h)
		scale := AddScalar(MulScalar(Max(Abs(x), Abs(xNew)), rtol), atol)
		return xNew, ks[6], rms(Div(errVec, scale))
	})
	if err != nil {
		return nil, err
	}
	scalar := func(t *tensors.Tensor) float64 {
		v := t.Value()
		switch v := v.(type) {
		case float32:
			return float64(v)
		case float64:
			return v
		}
		panic(fmt.Sprintf("unexpected scalar %T", v))
	}
	// Initial step (scipy's select_initial_step).
	outs, err := eval.Call(x, t0)
	if err != nil {
		return nil, err
	}
	k1, d0, d1 := outs[0], scalar(outs[1]), scalar(outs[2])
	res.NFE++
	h0 := 1e-6
	if d0 >= 1e-5 && d1 >= 1e-5 {
		h0 = 0.01 * d0 / d1
	}
	span := math.Abs(t1 - t0)
	h0 = math.Min(h0, span)
	x1, err := ExecOnce(b, func(x, k *Node) *Node { return Add(x, MulScalar(k, dir*h0)) }, x, k1)
	if err != nil {
		return nil, err
	}
	outs, err = eval.Call(x1, t0+dir*h0)
	if err != nil {
		return nil, err
	}
	res.NFE++
	diff, err := ExecOnce(b, func(a, c, x *Node) *Node {
		scale := AddScalar(MulScalar(Abs(x), rtol), atol)
		return rms(Div(Sub(a, c), scale))
	}, outs[0], k1, x)
	if err != nil {
		return nil, err
	}
	d2 := scalar(diff) / h0
	h1 := math.Max(1e-6, h0*1e-3)
	if m := math.Max(d1, d2); m > 1e-15 {
		h1 = math.Pow(0.01/m, 1.0/5)
	}
	h := math.Min(100*h0, h1)

	const safety, minFactor, maxFactor = 0.9, 0.2, 10.0
	t := t0
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, 1, t0, x)
	accepted, rejected := 0, false
	for dir*(t1-t) > 0 {
		if h < 1e-12*span {
			return nil, fmt.Errorf("RK45: step size underflow at t=%g (rtol=%g, atol=%g): loosen the tolerances", t, rtol, atol)
		}
		// As scipy: a step that would pass t1 lands on it exactly, so no sliver step follows.
		tNew := t + dir*h
		if dir*(tNew-t1) > 0 {
			tNew = t1
		}
		h = math.Abs(tNew - t)
		outs, err := step.Call(x, t, tNew-t, k1)
		if err != nil {
			return nil, fmt.Errorf("RK45 at t=%g: %w", t, err)
		}
		res.NFE += 6
		errNorm := scalar(outs[2])
		if math.IsNaN(errNorm) {
			return nil, fmt.Errorf("RK45: the solution became NaN at t=%g: check the score function", t)
		}
		if math.IsInf(errNorm, 0) {
			return nil, fmt.Errorf("RK45: the solution became infinite at t=%g: check the score function", t)
		}
		if errNorm < 1 {
			factor := maxFactor
			if errNorm > 0 {
				factor = math.Min(maxFactor, safety*math.Pow(errNorm, -0.2))
			}
			if rejected {
				factor = math.Min(1, factor) // as scipy: no growth right after a rejected step
			}
			rejected = false
			t = tNew
			x, k1 = outs[0], outs[1]
			h *= factor
			accepted++
			if run.RecordEvery > 0 && accepted%run.RecordEvery == 0 {
				res.Times = append(res.Times, t)
				res.Trajectory = append(res.Trajectory, toPoints(x))
			}
			if run.Progress != nil {
				run.Progress(int(math.Round(1000*math.Abs(t-t0)/span)), 1000)
			}
		} else {
			h *= math.Max(minFactor, safety*math.Pow(errNorm, -0.2))
			rejected = true
		}
	}
	if run.RecordEvery > 0 && (len(res.Times) == 0 || res.Times[len(res.Times)-1] != t) {
		res.Times = append(res.Times, t)
		res.Trajectory = append(res.Trajectory, toPoints(x))
	}
	return x, nil
}

// Solver names an ODE integration method for Solve.
type Solver struct {
	// Method is "rk45" (adaptive), "euler", "heun" or "rk4" (fixed steps).
	Method string
	// RTol and ATol are RK45's tolerances; N the number of fixed steps.
	RTol, ATol float64
	N          int
}

// Solve integrates dx/dt = f(x, t) from t0 to t1 (either direction) starting at x, with one compiled
// step, and returns the solution at t1. res (if not nil) receives the NFE and the trajectory. It is
// the integrator of the ODE sampler, exposed for the likelihood and latent computations.
func Solve(b compute.Backend, f func(x, t *Node) *Node, x *tensors.Tensor, t0, t1 float64, sv Solver, res *Result, run Run) (*tensors.Tensor, error) {
	if res == nil {
		res = &Result{}
	}
	switch method := normalize(sv.Method); method {
	case "rk45":
		if !(sv.RTol > 0) || !(sv.ATol > 0) {
			return nil, fmt.Errorf("rtol=%g atol=%g: RK45 tolerances must be > 0", sv.RTol, sv.ATol)
		}
		return rk45(b, f, x, t0, t1, sv.RTol, sv.ATol, res, run)
	case "euler", "heun", "rk4":
		if sv.N < 1 {
			return nil, fmt.Errorf("%s needs steps ≥ 1, got %d", method, sv.N)
		}
		return fixedStep(b, method, f, x, t0, t1, sv.N, res, run)
	}
	return nil, fmt.Errorf("unknown ODE method %q: use rk45, euler, heun or rk4", sv.Method)
}
