// Package likelihood computes exact log-likelihoods of score-based models through the
// probability-flow ODE (Song et al., ICLR 2021, §4.3 and appendix D.2; reference likelihood.py):
// the augmented ODE
//
//	d/dt [x, Δ] = [f̃(x, t), ∇·f̃(x, t)],   f̃ = f − ½g²s,
//
// integrated from ε to T gives the latent z = x(T) and log p_0(x) = log p_T(z) + Δ(T). The
// divergence is exact (d backward passes, for small d) or estimated by Hutchinson–Skilling with
// Rademacher or Gaussian probes held fixed for the whole solve; a score with a closed-form
// divergence (Options.ScoreDivergence) makes the exact divergence one evaluation. It also encodes points into latents,
// decodes latents, interpolates between latents and scales the prior's temperature.
package likelihood

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
)

// Options configures a likelihood computation. Start from Default.
type Options struct {
	// Solver integrates the augmented ODE (default RK45 with rtol = atol = 1e-5, as the references).
	sampling.Solver
	// Eps is the start time ε (default 1e-5).
	Eps float64
	// Divergence is "exact" (d backward passes) or "hutchinson".
	Divergence string
	// Probes is the number K of Hutchinson probes averaged per point (default 1); Gaussian selects
	// Gaussian probes instead of Rademacher ones.
	Probes   int
	Gaussian bool
	// Repeats averages the log-likelihood over this many passes with fresh probes (default 1).
	Repeats int
	// Seed draws the probes.
	Seed uint64
	// DType of the computation (default Float64, for accuracy).
	DType dtypes.DType
	// TerminalLogP, when set, replaces the prior's log-density log p_T(z) [B] (for example the exact
	// p_T of a toy mixture, which separates the integration error from the prior mismatch).
	TerminalLogP func(z *Node) *Node
	// ScoreDivergence, when set, returns the score s(x, t) [B, d] and its divergence ∇·s [B] in
	// closed form (for example toy.Mixture.ScoreDivFn for a mixture's exact score). The exact
	// divergence then costs one evaluation instead of d backward passes: with f(x, t) = a(t)·x,
	// ∇·(f − ½g²s) = d·a(t) − ½g²·∇·s. It must describe the same score as the one passed to
	// LogLikelihood; the Hutchinson estimator ignores it.
	ScoreDivergence func(x, t *Node) (score, div *Node)
}

// Default returns RK45 with rtol = atol = 1e-5 from ε = 1e-5, exact divergence, float64.
func Default() Options {
	return Options{Solver: sampling.Solver{Method: "rk45", RTol: 1e-5, ATol: 1e-5, N: 1000}, Eps: 1e-5,
		Divergence: "exact", Probes: 1, Repeats: 1, DType: dtypes.Float64}
}

// Validate reports a bad option.
func (o Options) Validate(s sde.SDE) error {
	switch o.Divergence {
	case "exact", "hutchinson":
	default:
		return fmt.Errorf("unknown divergence %q: use exact or hutchinson", o.Divergence)
	}
	switch {
	case o.Probes < 1:
		return fmt.Errorf("probes=%d, want ≥ 1", o.Probes)
	case o.Repeats < 1:
		return fmt.Errorf("repeats=%d, want ≥ 1", o.Repeats)
	case math.IsNaN(o.Eps) || o.Eps < 0 || o.Eps >= s.T():
		return fmt.Errorf("eps=%g, want 0 ≤ eps < T=%g", o.Eps, s.T())
	}
	return nil
}

// Result holds per-point log-likelihoods.
type Result struct {
	// LogP is log p(x) per point in nats, averaged over the repeats.
	LogP []float64
	// Latent is z = x(T) of the last pass, [n, d].
	Latent [][]float64
	// NFE counts the drift evaluations of all passes (each costs a score evaluation plus the
	// divergence's backward passes, or one evaluation with Options.ScoreDivergence).
	NFE int
}

// MeanNLL is the mean negative log-likelihood in nats.
func (r *Result) MeanNLL() float64 {
	s := 0.0
	for _, v := range r.LogP {
		s -= v
	}
	return s / float64(len(r.LogP))
}

// BitsPerDim converts a mean NLL in nats over d dimensions to bits per dimension, adding offset
// (the references add 8 for 8-bit data scaled to [0, 1] and 7 for data in [−1, 1]; 0 for toys).
func BitsPerDim(nll float64, d int, offset float64) float64 {
	return nll/(float64(d)*math.Ln2) + offset
}

// divergence returns ∇·f at x [B, d] as [B]: exact with d backward passes, or Hutchinson's
// mean over probes v [K, B, d] of vᵀ∇(f·v).
func divergence(f func(x *Node) *Node, x *Node, exact bool, probes *Node) (fx, div *Node) {
	fx = f(x)
	d := x.Shape().Dimensions[1]
	if exact {
		var terms []*Node
		for i := range d {
			gi := Gradient(ReduceAllSum(Slice(fx, AxisRange(), AxisElem(i))), x)[0] // ∂f_i/∂x, [B, d]
			terms = append(terms, Slice(gi, AxisRange(), AxisElem(i)))
		}
		return fx, ReduceSum(Concatenate(terms, 1), 1)
	}
	k := probes.Shape().Dimensions[0]
	acc := ZerosLike(ReduceSum(fx, 1)) // [B]
	for j := range k {
		v := Reshape(Slice(probes, AxisElem(j)), x.Shape().Dimensions...)
		g := Gradient(ReduceAllSum(Mul(fx, v)), x)[0]
		acc = Add(acc, ReduceSum(Mul(g, v), 1))
	}
	return fx, DivScalar(acc, float64(k))
}

// closedFormDrift returns the probability-flow drift f − ½g²s at x [B, d] and its exact divergence
// [B] from a score with a closed-form divergence: the drift is affine, f(x, t) = a(t)·x, so its
// divergence is Σ_i f_i(1, t) = d·a(t), and ∇·(½g²s) = ½g²·∇·s.
func closedFormDrift(s sde.SDE, scoreDiv func(x, t *Node) (score, div *Node), x, t *Node) (drift, div *Node) {
	score, sdiv := scoreDiv(x, t)
	b, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
	if !score.Shape().Equal(x.Shape()) || sdiv.Rank() != 1 || sdiv.Shape().Dimensions[0] != b {
		exceptions.Panicf("likelihood: ScoreDivergence returned a score %s and a divergence %s for x %s: want [%d, %d] and [%d]",
			score.Shape(), sdiv.Shape(), x.Shape(), b, d, b)
	}
	halfG2 := MulScalar(Square(s.Diffusion(t)), 0.5) // shaped like t
	drift = Sub(s.Drift(x, t), Mul(sde.PerSample(halfG2, x), score))
	divF := ReduceSum(s.Drift(OnesLike(x), t), 1)
	return drift, Sub(divF, Mul(halfG2, sdiv))
}

// drawProbes returns K Rademacher or Gaussian probe batches [K, n, d].
func drawProbes(r *rand.Rand, k, n, d int, gaussian bool, dt dtypes.DType) *tensors.Tensor {
	v := make([]float64, k*n*d)
	for i := range v {
		if gaussian {
			v[i] = r.NormFloat64()
		} else if r.IntN(2) == 0 {
			v[i] = -1
		} else {
			v[i] = 1
		}
	}
	t := tensors.FromFlatDataAndDimensions(v, k, n, d)
	if dt == dtypes.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		t = tensors.FromFlatDataAndDimensions(f, k, n, d)
	}
	return t
}

// LogLikelihood computes log p(x) per point for x [n][d] under the model (SDE and score) by the
// probability-flow ODE.
func LogLikelihood(b compute.Backend, s sde.SDE, score sde.ScoreFn, x [][]float64, o Options) (*Result, error) {
	if err := o.Validate(s); err != nil {
		return nil, err
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("no points")
	}
	dt := o.DType
	if dt == dtypes.InvalidDType {
		dt = dtypes.Float64
	}
	n, d := len(x), len(x[0])
	flow := sde.ReverseOf(s, score, true)
	r := rand.New(rand.NewPCG(o.Seed, 0x11ce))
	res := &Result{LogP: make([]float64, n)}
	for pass := range o.Repeats {
		var probes *tensors.Tensor
		if o.Divergence == "hutchinson" {
			probes = drawProbes(r, o.Probes, n, d, o.Gaussian, dt)
		}
		// The augmented state [x, Δ] is one [n, d+1] tensor, as the references integrate it.
		aug := func(y, t *Node) *Node {
			xs := Slice(y, AxisRange(), AxisRange(0, d))
			var pr *Node
			if probes != nil {
				pr = ConvertDType(Const(y.Graph(), probes), y.DType())
			}
			var fx, div *Node
			if o.Divergence == "exact" && o.ScoreDivergence != nil {
				fx, div = closedFormDrift(s, o.ScoreDivergence, xs, t)
			} else {
				fx, div = divergence(func(x *Node) *Node { return flow.Drift(x, t) }, xs, o.Divergence == "exact", pr)
			}
			return Concatenate([]*Node{fx, Reshape(div, n, 1)}, 1)
		}
		y0 := make([][]float64, n)
		for i, p := range x {
			if len(p) != d {
				return nil, fmt.Errorf("point %d has %d values, want %d", i, len(p), d)
			}
			y0[i] = append(append([]float64(nil), p...), 0)
		}
		yt, err := sampling.FromPoints(y0, dt)
		if err != nil {
			return nil, err
		}
		pr := &sampling.Result{}
		yT, err := sampling.Solve(b, aug, yt, o.Eps, s.T(), o.Solver, pr, sampling.Run{})
		if err != nil {
			return nil, fmt.Errorf("likelihood pass %d: %w", pass+1, err)
		}
		res.NFE += pr.NFE
		terminal := o.TerminalLogP
		if terminal == nil {
			terminal = s.PriorLogP
		}
		outs, err := ExecOnceN(b, func(y *Node) []*Node {
			z := Slice(y, AxisRange(), AxisRange(0, d))
			delta := Reshape(Slice(y, AxisRange(), AxisElem(d)), n)
			return []*Node{z, Add(terminal(z), delta)}
		}, yT)
		if err != nil {
			return nil, err
		}
		res.Latent = pointsOf(outs[0])
		lp := floats(outs[1])
		for i, v := range lp {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("log-likelihood of point %d is %v: check the score function and the points", i, v)
			}
			res.LogP[i] += v / float64(o.Repeats)
		}
	}
	return res, nil
}

func floats(t *tensors.Tensor) []float64 {
	if t.DType() == dtypes.Float32 {
		v := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	return tensors.MustCopyFlatData[float64](t)
}

func pointsOf(t *tensors.Tensor) [][]float64 {
	flat := floats(t)
	n, d := t.Shape().Dimensions[0], t.Shape().Dimensions[1]
	out := make([][]float64, n)
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}
	return out
}

// flowBetween integrates the probability-flow ODE from t0 to t1 for points [n][d].
func flowBetween(b compute.Backend, s sde.SDE, score sde.ScoreFn, x [][]float64, t0, t1 float64, sv sampling.Solver, dt dtypes.DType) ([][]float64, int, error) {
	if len(x) == 0 {
		return nil, 0, fmt.Errorf("no points")
	}
	xt, err := sampling.FromPoints(x, dt)
	if err != nil {
		return nil, 0, err
	}
	res := &sampling.Result{}
	out, err := sampling.Solve(b, sde.ReverseOf(s, score, true).Drift, xt, t0, t1, sv, res, sampling.Run{})
	if err != nil {
		return nil, 0, err
	}
	return pointsOf(out), res.NFE, nil
}

// Encode maps data points to their latents z = x(T) along the probability-flow ODE from eps to T.
func Encode(b compute.Backend, s sde.SDE, score sde.ScoreFn, x [][]float64, o Options) (z [][]float64, nfe int, err error) {
	return flowBetween(b, s, score, x, o.Eps, s.T(), o.Solver, orF64(o.DType))
}

// Decode maps latents to data points x(eps) along the probability-flow ODE from T to eps.
func Decode(b compute.Backend, s sde.SDE, score sde.ScoreFn, z [][]float64, o Options) (x [][]float64, nfe int, err error) {
	return flowBetween(b, s, score, z, s.T(), o.Eps, o.Solver, orF64(o.DType))
}

func orF64(dt dtypes.DType) dtypes.DType {
	if dt == dtypes.InvalidDType {
		return dtypes.Float64
	}
	return dt
}

// Slerp interpolates spherically between latents a and b at fractions ts ∈ [0, 1]: the path keeps
// the norm of Gaussian latents, unlike a straight line, which passes through low-density shells.
func Slerp(a, b []float64, ts []float64) ([][]float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return nil, fmt.Errorf("slerp: latents of dimensions %d and %d", len(a), len(b))
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	cos := dot / math.Sqrt(na*nb)
	omega := math.Acos(math.Max(-1, math.Min(1, cos)))
	out := make([][]float64, len(ts))
	for k, t := range ts {
		wa, wb := 1-t, t
		if s := math.Sin(omega); s > 1e-8 {
			wa, wb = math.Sin((1-t)*omega)/s, math.Sin(t*omega)/s
		}
		p := make([]float64, len(a))
		for i := range a {
			p[i] = wa*a[i] + wb*b[i]
		}
		out[k] = p
	}
	return out, nil
}

// TemperatureSamples draws n latents from the prior scaled by temperature τ (z = τ·σ_T·ε) and
// decodes them: τ < 1 concentrates samples near the modes, τ > 1 spreads them (paper Fig. 6).
func TemperatureSamples(b compute.Backend, s sde.SDE, score sde.ScoreFn, n, d int, tau float64, seed uint64, o Options) ([][]float64, error) {
	if !(tau > 0) {
		return nil, fmt.Errorf("temperature %g, want > 0", tau)
	}
	r := rand.New(rand.NewPCG(seed, 0x7e3))
	z := make([][]float64, n)
	for i := range z {
		z[i] = make([]float64, d)
		for j := range z[i] {
			z[i][j] = tau * s.PriorStd() * r.NormFloat64()
		}
	}
	x, _, err := Decode(b, s, score, z, o)
	return x, err
}

// UniformDequantize turns 8-bit data scaled to [0, 1] (x = k/255) into continuous values
// (255·x + u)/256 with u ~ U[0, 1), the references' uniform dequantization: the continuous density's
// bits/dim then bound the discrete data's, and BitsPerDim's offset (8 for [0, 1]) converts units.
func UniformDequantize(x [][]float64, r *rand.Rand) [][]float64 {
	out := make([][]float64, len(x))
	for i, p := range x {
		out[i] = make([]float64, len(p))
		for j, v := range p {
			out[i][j] = (255*v + r.Float64()) / 256
		}
	}
	return out
}

// Offset8Bit is the references' bits/dim offset for 8-bit data: 8 when the model sees [0, 1] and 7
// when it sees [−1, 1] (the log2 of the inverse scaler's slope, plus 8).
func Offset8Bit(centered bool) float64 {
	if centered {
		return 7
	}
	return 8
}
