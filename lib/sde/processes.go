package sde

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// VE is the variance-exploding SDE dx = σ(t)·√(2 ln(σmax/σmin)) dw with
// σ(t) = σmin·(σmax/σmin)^t: the continuous limit of SMLD / NCSN noise scales.
// Its kernel has mean x0 and std σ(t) (the references' convention, not √(σ(t)²−σmin²)).
type VE struct {
	// SigmaMin and SigmaMax are the smallest and largest noise scales (data units); defaults 0.01 and 50.
	SigmaMin, SigmaMax float64
	// NumScales is N, the number of discrete noise scales (default 1000).
	NumScales int
	// EndTime is T (default 1).
	EndTime float64
}

// NewVE returns a VE SDE with the reference defaults σmin=0.01, σmax=50, N=1000, T=1.
func NewVE() *VE { return &VE{SigmaMin: 0.01, SigmaMax: 50, NumScales: 1000, EndTime: 1} }

// Validate reports an invalid hyperparameter, naming it and the fix.
func (s *VE) Validate() error {
	switch {
	case !(s.SigmaMin > 0):
		return fmt.Errorf("ve SDE: sigma-min=%g, want > 0", s.SigmaMin)
	case !(s.SigmaMax > s.SigmaMin):
		return fmt.Errorf("ve SDE: sigma-max=%g must exceed sigma-min=%g", s.SigmaMax, s.SigmaMin)
	case s.NumScales < 1:
		return fmt.Errorf("ve SDE: N=%d, want ≥ 1", s.NumScales)
	case !(s.EndTime > 0):
		return fmt.Errorf("ve SDE: T=%g, want > 0", s.EndTime)
	}
	return nil
}

func (s *VE) Name() string { return "ve" }
func (s *VE) T() float64   { return s.EndTime }
func (s *VE) N() int       { return s.NumScales }
func (s *VE) String() string {
	return fmt.Sprintf("VE(σmin=%g, σmax=%g, N=%d, T=%g)", s.SigmaMin, s.SigmaMax, s.NumScales, s.EndTime)
}
func (s *VE) PriorStd() float64 { return s.SigmaMax }

// Sigma is σ(t) = σmin·(σmax/σmin)^t.
func (s *VE) Sigma(t float64) float64 { return s.SigmaMin * math.Pow(s.SigmaMax/s.SigmaMin, t) }

func (s *VE) DriftCoeff(float64) float64 { return 0 }
func (s *VE) DiffusionAt(t float64) float64 {
	return s.Sigma(t) * math.Sqrt(2*math.Log(s.SigmaMax/s.SigmaMin))
}
func (s *VE) MeanCoeff(float64) float64 { return 1 }
func (s *VE) Std(t float64) float64     { return s.Sigma(t) }

// sigmaNode is σ(t) in the graph.
func (s *VE) sigmaNode(t *Node) *Node {
	return MulScalar(Exp(MulScalar(t, math.Log(s.SigmaMax/s.SigmaMin))), s.SigmaMin)
}

func (s *VE) Drift(x, t *Node) *Node { return ZerosLike(x) }
func (s *VE) Diffusion(t *Node) *Node {
	return MulScalar(s.sigmaNode(t), math.Sqrt(2*math.Log(s.SigmaMax/s.SigmaMin)))
}
func (s *VE) MarginalProb(x0, t *Node) (mean, std *Node) { return x0, s.sigmaNode(t) }
func (s *VE) PriorSample(rng *Node, shape shapes.Shape) (newRng, x *Node) {
	newRng, x = RandomNormal(rng, shape)
	return newRng, MulScalar(x, s.SigmaMax)
}
func (s *VE) PriorLogP(z *Node) *Node { return gaussianPriorLogP(z, s.SigmaMax) }

// DiscreteSigma is σ_i of the SMLD ladder exp(linspace(log σmin, log σmax, N)), i in [0, N).
func (s *VE) DiscreteSigma(i int) float64 {
	if s.NumScales == 1 {
		return s.SigmaMin
	}
	return s.Sigma(float64(i) / float64(s.NumScales-1))
}

// discreteSigmaNode is σ_i for a float index node i; σ_{−1} = 0.
func (s *VE) discreteSigmaNode(i *Node) *Node {
	frac := i
	if s.NumScales > 1 {
		frac = MulScalar(i, 1/float64(s.NumScales-1))
	} else {
		frac = ZerosLike(i)
	}
	sig := s.sigmaNode(frac)
	return Where(LessThan(i, ZerosLike(i)), ZerosLike(sig), sig)
}

// SMLDSigmas returns σ_i and σ_{i−1} (0 for i = 0) of the SMLD ladder at index i = ⌊t(N−1)/T⌋,
// shaped like t. Ancestral sampling and the Langevin corrector use them.
func (s *VE) SMLDSigmas(t *Node) (sigma, prev *Node) {
	i := stepIndex(t, s.NumScales, s.EndTime)
	return s.discreteSigmaNode(i), s.discreteSigmaNode(AddScalar(i, -1))
}

// Discretize is the SMLD chain: f = 0 and G = √(σ_i² − σ_{i−1}²) with i = ⌊t(N−1)/T⌋, σ_{−1} = 0.
func (s *VE) Discretize(x, t *Node) (f, G *Node) {
	checkSteps("ve", s.NumScales, s.EndTime)
	sig, prev := s.SMLDSigmas(t)
	return ZerosLike(x), Sqrt(Sub(Square(sig), Square(prev)))
}

// linearBeta holds the linear noise schedule β(t) = β0 + t(β1 − β0) shared by VP and sub-VP.
type linearBeta struct{ beta0, beta1 float64 }

func (b linearBeta) beta(t float64) float64 { return b.beta0 + t*(b.beta1-b.beta0) }
func (b linearBeta) betaNode(t *Node) *Node {
	return AddScalar(MulScalar(t, b.beta1-b.beta0), b.beta0)
}

// logMean is log m(t) = −¼t²(β1−β0) − ½tβ0.
func (b linearBeta) logMean(t float64) float64 {
	return -0.25*t*t*(b.beta1-b.beta0) - 0.5*t*b.beta0
}
func (b linearBeta) logMeanNode(t *Node) *Node {
	return Mul(t, AddScalar(MulScalar(t, -0.25*(b.beta1-b.beta0)), -0.5*b.beta0))
}

func validateBeta(name string, b0, b1 float64, n int, tEnd float64, ddpm bool) error {
	switch {
	case !(b0 > 0):
		return fmt.Errorf("%s SDE: beta-min=%g, want > 0", name, b0)
	case !(b1 >= b0):
		return fmt.Errorf("%s SDE: beta-max=%g must be ≥ beta-min=%g", name, b1, b0)
	case n < 1:
		return fmt.Errorf("%s SDE: N=%d, want ≥ 1", name, n)
	case !(tEnd > 0):
		return fmt.Errorf("%s SDE: T=%g, want > 0", name, tEnd)
	case ddpm && b1/float64(n) >= 1:
		return fmt.Errorf("%s SDE: beta-max/N=%g must be < 1 for the DDPM chain: raise N", name, b1/float64(n))
	}
	return nil
}

// VP is the variance-preserving SDE dx = −½β(t)x dt + √β(t) dw with β(t) = β0 + t(β1 − β0):
// the continuous limit of DDPM. Its kernel has mean e^{m(t)}x0 and std √(1 − e^{2m(t)}).
type VP struct {
	// Beta0 and Beta1 are β(0) and β(1) (defaults 0.1 and 20).
	Beta0, Beta1 float64
	// NumScales is N, the number of DDPM steps (default 1000).
	NumScales int
	// EndTime is T (default 1).
	EndTime float64
}

// NewVP returns a VP SDE with the reference defaults β0=0.1, β1=20, N=1000, T=1.
func NewVP() *VP { return &VP{Beta0: 0.1, Beta1: 20, NumScales: 1000, EndTime: 1} }

// Validate reports an invalid hyperparameter, naming it and the fix.
func (s *VP) Validate() error {
	return validateBeta("vp", s.Beta0, s.Beta1, s.NumScales, s.EndTime, true)
}

func (s *VP) lb() linearBeta { return linearBeta{s.Beta0, s.Beta1} }
func (s *VP) Name() string   { return "vp" }
func (s *VP) T() float64     { return s.EndTime }
func (s *VP) N() int         { return s.NumScales }
func (s *VP) String() string {
	return fmt.Sprintf("VP(β0=%g, β1=%g, N=%d, T=%g)", s.Beta0, s.Beta1, s.NumScales, s.EndTime)
}
func (s *VP) PriorStd() float64      { return 1 }
func (s *VP) Beta(t float64) float64 { return s.lb().beta(t) }

func (s *VP) DriftCoeff(t float64) float64  { return -0.5 * s.lb().beta(t) }
func (s *VP) DiffusionAt(t float64) float64 { return math.Sqrt(s.lb().beta(t)) }
func (s *VP) MeanCoeff(t float64) float64   { return math.Exp(s.lb().logMean(t)) }
func (s *VP) Std(t float64) float64         { return math.Sqrt(-math.Expm1(2 * s.lb().logMean(t))) }

func (s *VP) Drift(x, t *Node) *Node {
	return Mul(PerSample(MulScalar(s.lb().betaNode(t), -0.5), x), x)
}
func (s *VP) Diffusion(t *Node) *Node { return Sqrt(s.lb().betaNode(t)) }
func (s *VP) MarginalProb(x0, t *Node) (mean, std *Node) {
	lm := s.lb().logMeanNode(t)
	return Mul(PerSample(Exp(lm), x0), x0), Sqrt(Neg(Expm1(MulScalar(lm, 2))))
}
func (s *VP) PriorSample(rng *Node, shape shapes.Shape) (newRng, x *Node) {
	return RandomNormal(rng, shape)
}
func (s *VP) PriorLogP(z *Node) *Node { return gaussianPriorLogP(z, 1) }

// DiscreteBeta is β_i of the DDPM chain, linspace(β0/N, β1/N, N)[i].
func (s *VP) DiscreteBeta(i int) float64 {
	n := float64(s.NumScales)
	if s.NumScales == 1 {
		return s.Beta0 / n
	}
	return s.Beta0/n + float64(i)/(n-1)*(s.Beta1-s.Beta0)/n
}

// DDPMBeta returns β_i of the DDPM chain at index i = ⌊t(N−1)/T⌋, shaped like t.
func (s *VP) DDPMBeta(t *Node) *Node { return ddpmBeta(t, s.Beta0, s.Beta1, s.NumScales, s.EndTime) }

func ddpmBeta(t *Node, b0, b1 float64, steps int, tEnd float64) *Node {
	n := float64(steps)
	i := stepIndex(t, steps, tEnd)
	if steps == 1 {
		return AddScalar(ZerosLike(i), b0/n)
	}
	return AddScalar(MulScalar(i, (b1-b0)/(n*(n-1))), b0/n)
}

// Discretize is the DDPM chain: f = (√(1−β_i) − 1)·x and G = √β_i with i = ⌊t(N−1)/T⌋.
func (s *VP) Discretize(x, t *Node) (f, G *Node) {
	checkSteps("vp", s.NumScales, s.EndTime)
	beta := s.DDPMBeta(t)
	coeff := AddScalar(Sqrt(OneMinus(beta)), -1)
	return Mul(PerSample(coeff, x), x), Sqrt(beta)
}

// SubVP is the sub-VP SDE dx = −½β(t)x dt + √(β(t)(1 − e^{−2β0t − (β1−β0)t²})) dw, whose
// kernel has the VP mean and std 1 − e^{2m(t)} (the variance is the square of VP's, hence "sub").
type SubVP struct {
	// Beta0 and Beta1 are β(0) and β(1) (defaults 0.1 and 20).
	Beta0, Beta1 float64
	// NumScales is N, the number of Euler–Maruyama steps of Discretize (default 1000).
	NumScales int
	// EndTime is T (default 1).
	EndTime float64
}

// NewSubVP returns a sub-VP SDE with the reference defaults β0=0.1, β1=20, N=1000, T=1.
func NewSubVP() *SubVP { return &SubVP{Beta0: 0.1, Beta1: 20, NumScales: 1000, EndTime: 1} }

// Validate reports an invalid hyperparameter, naming it and the fix.
func (s *SubVP) Validate() error {
	return validateBeta("subvp", s.Beta0, s.Beta1, s.NumScales, s.EndTime, false)
}

func (s *SubVP) lb() linearBeta { return linearBeta{s.Beta0, s.Beta1} }
func (s *SubVP) Name() string   { return "subvp" }
func (s *SubVP) T() float64     { return s.EndTime }
func (s *SubVP) N() int         { return s.NumScales }
func (s *SubVP) String() string {
	return fmt.Sprintf("subVP(β0=%g, β1=%g, N=%d, T=%g)", s.Beta0, s.Beta1, s.NumScales, s.EndTime)
}
func (s *SubVP) PriorStd() float64      { return 1 }
func (s *SubVP) Beta(t float64) float64 { return s.lb().beta(t) }

func (s *SubVP) DriftCoeff(t float64) float64 { return -0.5 * s.lb().beta(t) }
func (s *SubVP) DiffusionAt(t float64) float64 {
	// 1 − e^{−2β0t − (β1−β0)t²} = −expm1(4·logMean(t)).
	return math.Sqrt(s.lb().beta(t) * -math.Expm1(4*s.lb().logMean(t)))
}
func (s *SubVP) MeanCoeff(t float64) float64 { return math.Exp(s.lb().logMean(t)) }
func (s *SubVP) Std(t float64) float64       { return -math.Expm1(2 * s.lb().logMean(t)) }

func (s *SubVP) Drift(x, t *Node) *Node {
	return Mul(PerSample(MulScalar(s.lb().betaNode(t), -0.5), x), x)
}
func (s *SubVP) Diffusion(t *Node) *Node {
	lm := s.lb().logMeanNode(t)
	return Sqrt(Mul(s.lb().betaNode(t), Neg(Expm1(MulScalar(lm, 4)))))
}
func (s *SubVP) MarginalProb(x0, t *Node) (mean, std *Node) {
	lm := s.lb().logMeanNode(t)
	return Mul(PerSample(Exp(lm), x0), x0), Neg(Expm1(MulScalar(lm, 2)))
}
func (s *SubVP) PriorSample(rng *Node, shape shapes.Shape) (newRng, x *Node) {
	return RandomNormal(rng, shape)
}
func (s *SubVP) PriorLogP(z *Node) *Node { return gaussianPriorLogP(z, 1) }

// DDPMBeta returns β_i = linspace(β0/N, β1/N, N)[⌊t(N−1)/T⌋] for sub-VP's linear schedule, shaped
// like t. Sub-VP has no discrete chain of its own; this is the VP chain's β_i with the same β0, β1
// and N, and it defines the corrector's α_i = 1 − β_i for sub-VP (the references have none and fail).
func (s *SubVP) DDPMBeta(t *Node) *Node {
	return ddpmBeta(t, s.Beta0, s.Beta1, s.NumScales, s.EndTime)
}

// Discretize is Euler–Maruyama with dt = T/N: f = drift·dt and G = g(t)·√dt (sub-VP has no
// discrete chain of its own).
func (s *SubVP) Discretize(x, t *Node) (f, G *Node) {
	checkSteps("subvp", s.NumScales, s.EndTime)
	dt := s.EndTime / float64(s.NumScales)
	return MulScalar(s.Drift(x, t), dt), MulScalar(s.Diffusion(t), math.Sqrt(dt))
}

// TimeOf is t = log(σ/σmin)/log(σmax/σmin), clamped to [0, T].
func (s *VE) TimeOf(sigma float64) float64 {
	return clampTime(math.Log(sigma/s.SigmaMin)/math.Log(s.SigmaMax/s.SigmaMin), s.EndTime)
}

// DefaultEps is 1e-5, the references' VE sampling cut-off.
func (s *VE) DefaultEps() float64 { return 1e-5 }

// LangevinAlpha is 1 for VE.
func (s *VE) LangevinAlpha(t *Node) *Node { return OnesLike(t) }

// Parameterization is PredictScore: VE networks output the score (NCSN family).
func (s *VE) Parameterization() Parameterization { return PredictScore }

// AncestralStep is SMLD's ancestral step: mean x + (σ_i² − σ_{i−1}²)·s and std
// √(σ_{i−1}²(σ_i² − σ_{i−1}²)/σ_i²).
func (s *VE) AncestralStep(x, t, score *Node) (mean, std *Node) {
	sig, prev := s.SMLDSigmas(t)
	v, pv := Square(sig), Square(prev)
	mean = Add(x, Mul(PerSample(Sub(v, pv), x), score))
	return mean, Sqrt(Div(Mul(pv, Sub(v, pv)), v))
}

// Sigma is σ(t) = s(t)/m(t) = √(e^{−2 log m(t)} − 1).
func (s *VP) Sigma(t float64) float64 { return math.Sqrt(math.Expm1(-2 * s.lb().logMean(t))) }

// TimeOf inverts Sigma in closed form (log m(t) is quadratic in t).
func (s *VP) TimeOf(sigma float64) float64 {
	return clampTime(s.lb().timeOfLogMean(-0.5*math.Log1p(sigma*sigma)), s.EndTime)
}

// DefaultEps is 1e-3, the references' VP sampling cut-off.
func (s *VP) DefaultEps() float64 { return 1e-3 }

// LangevinAlpha is 1 − β_i of the DDPM chain (the references' code; the paper's Algorithm 5
// writes the cumulative product).
func (s *VP) LangevinAlpha(t *Node) *Node { return OneMinus(s.DDPMBeta(t)) }

// Parameterization is PredictNoise: VP networks predict ε (DDPM).
func (s *VP) Parameterization() Parameterization { return PredictNoise }

// AncestralStep is DDPM's ancestral step: mean (x + β_i·s)/√(1 − β_i) and std √β_i.
func (s *VP) AncestralStep(x, t, score *Node) (mean, std *Node) {
	beta := s.DDPMBeta(t)
	mean = Div(Add(x, Mul(PerSample(beta, x), score)), PerSample(Sqrt(OneMinus(beta)), x))
	return mean, Sqrt(beta)
}

// Sigma is σ(t) = s(t)/m(t) = (1 − m(t)²)/m(t).
func (s *SubVP) Sigma(t float64) float64 {
	lm := s.lb().logMean(t)
	return -math.Expm1(2*lm) / math.Exp(lm)
}

// TimeOf inverts Sigma: m = 2/(σ + √(σ² + 4)), then log m(t) is quadratic in t.
func (s *SubVP) TimeOf(sigma float64) float64 {
	// log m = −log1p((σ + √(σ²+4) − 2)/2), with √(σ²+4) − 2 = σ²/(√(σ²+4) + 2) for accuracy at small σ.
	r := math.Sqrt(sigma*sigma + 4)
	lm := -math.Log1p((sigma + sigma*sigma/(r+2)) / 2)
	return clampTime(s.lb().timeOfLogMean(lm), s.EndTime)
}

// DefaultEps is 1e-3, the references' sub-VP sampling cut-off.
func (s *SubVP) DefaultEps() float64 { return 1e-3 }

// LangevinAlpha is 1 − β_i of the VP chain with the same schedule (the references define none
// for sub-VP and fail).
func (s *SubVP) LangevinAlpha(t *Node) *Node { return OneMinus(s.DDPMBeta(t)) }

// Parameterization is PredictNoise: sub-VP networks predict ε, as VP ones.
func (s *SubVP) Parameterization() Parameterization { return PredictNoise }

// timeOfLogMean solves log m(t) = lm (lm ≤ 0) for t ≥ 0: ¼Δt² + ½β0·t + lm = 0 with Δ = β1 − β0,
// written without cancellation: t = −2·lm/(½β0 + √(¼β0² − Δ·lm)).
func (b linearBeta) timeOfLogMean(lm float64) float64 {
	if lm >= 0 {
		return 0
	}
	return -2 * lm / (0.5*b.beta0 + math.Sqrt(0.25*b.beta0*b.beta0-(b.beta1-b.beta0)*lm))
}

// clampTime clamps t to [0, T] (NaN to T).
func clampTime(t, tEnd float64) float64 {
	switch {
	case t < 0:
		return 0
	case t > tEnd || math.IsNaN(t):
		return tEnd
	}
	return t
}
