package sde

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
)

var testTimes = []float64{1e-5, 1e-3, 0.5, 1}

func all() []SDE { return []SDE{NewVE(), NewVP(), NewSubVP()} }

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g (tol %g)", what, got, want, tol)
	}
}

// TestClosedForms checks the host formulas against values written out from the paper's table.
func TestClosedForms(t *testing.T) {
	ve, vp, sub := NewVE(), NewVP(), NewSubVP()
	for _, tt := range testTimes {
		sigma := 0.01 * math.Pow(5000, tt)
		near(t, "VE std", ve.Std(tt), sigma, 1e-12)
		near(t, "VE g", ve.DiffusionAt(tt), sigma*math.Sqrt(2*math.Log(5000)), 1e-12)
		logm := -0.25*tt*tt*19.9 - 0.5*tt*0.1
		beta := 0.1 + tt*19.9
		near(t, "VP mean", vp.MeanCoeff(tt), math.Exp(logm), 1e-12)
		near(t, "VP std", vp.Std(tt), math.Sqrt(1-math.Exp(2*logm)), 1e-9)
		near(t, "VP g", vp.DiffusionAt(tt), math.Sqrt(beta), 1e-12)
		near(t, "subVP std", sub.Std(tt), 1-math.Exp(2*logm), 1e-9)
		near(t, "subVP g", sub.DiffusionAt(tt), math.Sqrt(beta*(1-math.Exp(-2*0.1*tt-19.9*tt*tt))), 1e-9)
	}
	near(t, "VP std(1)", vp.Std(1), 0.9999784069, 1e-9) // √(1 − e^{−10.05})
}

// TestKernelSolvesMomentODEs checks that m(t) and s(t) solve the moment equations of the affine SDE,
// m' = a(t)·m and (s²)' = 2a(t)·s² + g(t)², by central finite differences.
func TestKernelSolvesMomentODEs(t *testing.T) {
	const h = 1e-6
	for _, s := range all() {
		for _, tt := range []float64{0.01, 0.25, 0.5, 0.75, 0.99} {
			dm := (s.MeanCoeff(tt+h) - s.MeanCoeff(tt-h)) / (2 * h)
			near(t, s.Name()+" m'", dm, s.DriftCoeff(tt)*s.MeanCoeff(tt), 1e-6)
			v := func(t float64) float64 { return s.Std(t) * s.Std(t) }
			dv := (v(tt+h) - v(tt-h)) / (2 * h)
			g := s.DiffusionAt(tt)
			near(t, s.Name()+" (s²)'", dv, 2*s.DriftCoeff(tt)*v(tt)+g*g, 1e-5)
		}
	}
}

// TestGraphMatchesHost evaluates every graph function at t ∈ {ε, 0.5, 1} and compares with the host forms.
func TestGraphMatchesHost(t *testing.T) {
	b := backend.MustNew()
	x0 := [][]float64{{1, -2}, {0.5, 3}, {-1, 0}, {2, 2}}
	for _, s := range all() {
		outs := MustExecOnceN(b, func(x, tt *Node) []*Node {
			mean, std := s.MarginalProb(x, tt)
			return []*Node{mean, std, s.Drift(x, tt), s.Diffusion(tt), s.PriorLogP(x)}
		}, x0, testTimes)
		mean := outs[0].Value().([][]float64)
		std := outs[1].Value().([]float64)
		drift := outs[2].Value().([][]float64)
		diff := outs[3].Value().([]float64)
		logp := outs[4].Value().([]float64)
		for i, tt := range testTimes {
			near(t, s.Name()+" std", std[i], s.Std(tt), 1e-9)
			near(t, s.Name()+" g", diff[i], s.DiffusionAt(tt), 1e-9)
			sig := s.PriorStd()
			wantLogp := -math.Log(2*math.Pi*sig*sig) - (x0[i][0]*x0[i][0]+x0[i][1]*x0[i][1])/(2*sig*sig)
			near(t, s.Name()+" prior logp", logp[i], wantLogp, 1e-12)
			for j := range 2 {
				near(t, s.Name()+" mean", mean[i][j], s.MeanCoeff(tt)*x0[i][j], 1e-9)
				near(t, s.Name()+" drift", drift[i][j], s.DriftCoeff(tt)*x0[i][j], 1e-9)
			}
		}
	}
}

// TestPriorSample checks the prior's sample std within 5 standard errors (σ/√(2n), n = 20,000).
func TestPriorSample(t *testing.T) {
	b := backend.MustNew()
	const n = 20000
	for _, s := range all() {
		rng := must(RNGStateFromSeed(1))
		x := MustExecOnce(b, func(rng *Node) *Node {
			_, x := s.PriorSample(rng, shapes.Make(dtypes.Float64, n, 1))
			return x
		}, rng)
		v := tensors.MustCopyFlatData[float64](x)
		var sum, sq float64
		for _, xi := range v {
			sum += xi
			sq += xi * xi
		}
		mean := sum / n
		std := math.Sqrt(sq/n - mean*mean)
		sig := s.PriorStd()
		if math.Abs(std-sig) > 5*sig/math.Sqrt(2*n) || math.Abs(mean) > 5*sig/math.Sqrt(n) {
			t.Errorf("%s prior: mean %.4f std %.4f, want 0 and %g", s.Name(), mean, std, sig)
		}
	}
}

// TestDiscretize compares the discrete chains with the reference formulas at a few times.
func TestDiscretize(t *testing.T) {
	b := backend.MustNew()
	ts := []float64{0, 0.0005, 0.5, 1}
	for _, s := range all() {
		outs := MustExecOnceN(b, func(tt *Node) []*Node {
			x := OnesLike(ExpandAxes(tt, -1))
			f, G := s.Discretize(x, tt)
			return []*Node{Reshape(f, len(ts)), G}
		}, ts)
		f := outs[0].Value().([]float64)
		G := outs[1].Value().([]float64)
		for k, tt := range ts {
			i := int(math.Floor(tt * 999))
			var wantF, wantG float64
			switch s := s.(type) {
			case *VE:
				sig := math.Exp(math.Log(0.01) + float64(i)/999*(math.Log(50)-math.Log(0.01)))
				prev := 0.0
				if i > 0 {
					prev = math.Exp(math.Log(0.01) + float64(i-1)/999*(math.Log(50)-math.Log(0.01)))
				}
				wantF, wantG = 0, math.Sqrt(sig*sig-prev*prev)
			case *VP:
				beta := 0.1/1000 + float64(i)/999*(20-0.1)/1000
				wantF, wantG = math.Sqrt(1-beta)-1, math.Sqrt(beta)
			case *SubVP:
				wantF, wantG = s.DriftCoeff(tt)/1000, s.DiffusionAt(tt)/math.Sqrt(1000)
			}
			near(t, s.Name()+" discrete f", f[k], wantF, 1e-9)
			near(t, s.Name()+" discrete G", G[k], wantG, 1e-9)
		}
	}
}

// TestDiscreteChainsConverge is the paper's Figure 5 check in closed form: the kernels of the SMLD,
// DDPM and Euler–Maruyama chains approach the continuous SDE kernels as N grows.
func TestDiscreteChainsConverge(t *testing.T) {
	b := backend.MustNew()
	for _, name := range Names {
		var prevErr float64 = math.Inf(1)
		for _, n := range []int{25, 100, 1000} {
			s := must(New(name))
			switch s := s.(type) {
			case *VE:
				s.NumScales = n
			case *VP:
				s.NumScales = n
			case *SubVP:
				s.NumScales = n
			}
			d := must(DiscreteKernel(b, s))
			c := ContinuousKernel(s, d.Times)
			em, es := MaxAbsDiff(d, c)
			// Compare std errors relative to the prior scale.
			err := math.Max(em, es/s.PriorStd())
			t.Logf("%s N=%d: max |Δmean|=%.2e, max |Δstd|/σ_T=%.2e", name, n, em, es/s.PriorStd())
			if err >= prevErr {
				t.Errorf("%s: error %.3g at N=%d did not fall below %.3g", name, err, n, prevErr)
			}
			prevErr = err
		}
		if prevErr > 0.01 {
			t.Errorf("%s: error %.3g at N=1000, want < 0.01", name, prevErr)
		}
	}
}

// TestReverse checks the reverse drift with the exact score of a Gaussian: for x0 ~ N(0, v0),
// ∇log p_t(x) = −x/(m²v0 + s²).
func TestReverse(t *testing.T) {
	b := backend.MustNew()
	const v0 = 0.3
	x := [][]float64{{1.5}, {-0.7}}
	ts := []float64{0.2, 0.9}
	for _, s := range all() {
		score := func(x, tt *Node) *Node {
			_, std := s.MarginalProb(x, tt)
			mean, _ := s.MarginalProb(OnesLike(tt), tt)
			variance := Add(MulScalar(Square(mean), v0), Square(std))
			return Neg(Div(x, PerSample(variance, x)))
		}
		for _, pf := range []bool{false, true} {
			outs := MustExecOnceN(b, func(x, tt *Node) []*Node {
				r := ReverseOf(s, score, pf)
				return []*Node{r.Drift(x, tt), r.Diffusion(tt)}
			}, x, ts)
			drift := outs[0].Value().([][]float64)
			diff := outs[1].Value().([]float64)
			w := 1.0
			if pf {
				w = 0.5
			}
			for i, tt := range ts {
				m, sd, g := s.MeanCoeff(tt), s.Std(tt), s.DiffusionAt(tt)
				sc := -x[i][0] / (m*m*v0 + sd*sd)
				near(t, s.Name()+" reverse drift", drift[i][0], s.DriftCoeff(tt)*x[i][0]-w*g*g*sc, 1e-9)
				wantG := g
				if pf {
					wantG = 0
				}
				near(t, s.Name()+" reverse diffusion", diff[i], wantG, 1e-12)
			}
		}
	}
}

func TestNewAndValidate(t *testing.T) {
	if _, err := New("foo"); err == nil {
		t.Error("New(foo) gave no error")
	}
	bad := []SDE{
		&VE{SigmaMin: 0, SigmaMax: 50, NumScales: 10, EndTime: 1},
		&VE{SigmaMin: 1, SigmaMax: 0.5, NumScales: 10, EndTime: 1},
		&VP{Beta0: 0.1, Beta1: 20, NumScales: 0, EndTime: 1},
		&VP{Beta0: 0.1, Beta1: 20, NumScales: 10, EndTime: 1},
		&SubVP{Beta0: -1, Beta1: 20, NumScales: 1000, EndTime: 1},
		&SubVP{Beta0: 0.1, Beta1: 20, NumScales: 1000, EndTime: 0},
	}
	for _, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%v: Validate accepted it", s)
		} else {
			t.Log(err)
		}
	}
	for _, s := range all() {
		if err := s.Validate(); err != nil {
			t.Errorf("defaults rejected: %v", err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPaperAndChainNames(t *testing.T) {
	for _, c := range []struct {
		s            SDE
		paper, chain string
	}{
		{NewVE(), "VE", "SMLD"},
		{NewVP(), "VP", "DDPM"},
		{NewSubVP(), "sub-VP", "Euler–Maruyama"},
	} {
		t.Run(c.s.Name(), func(t *testing.T) {
			if got := PaperName(c.s); got != c.paper {
				t.Errorf("PaperName = %q, want %q", got, c.paper)
			}
			if got := ChainName(c.s); got != c.chain {
				t.Errorf("ChainName = %q, want %q", got, c.chain)
			}
		})
	}
}
