package losses

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
)

const v0 = 0.5 // data N(0, v0) in 1-D

// gaussScore is the exact score of p_t for data N(0, v0), times c (c = 1: exact).
func gaussScore(s sde.SDE, c float64) sde.ScoreFn {
	return func(x, t *Node) *Node {
		m, std := s.MarginalProb(OnesLike(t), t)
		variance := Add(MulScalar(Square(m), v0), Square(std))
		return MulScalar(Neg(Div(x, sde.PerSample(variance, x))), c)
	}
}

// lossValue evaluates the loss on B draws of the data.
func lossValue(t *testing.T, s sde.SDE, score sde.ScoreFn, o Options) float64 {
	const b = 200000
	out := MustExecOnce(backend.MustNew(), func(rng *Node) *Node {
		rng, x0 := RandomNormal(rng, shapes.Make(dtypes.Float64, b, 1))
		l, _ := Loss(s, score, MulScalar(x0, math.Sqrt(v0)), rng, o)
		return l
	}, must(RNGStateFromSeed(3)))
	return out.Value().(float64)
}

// integrate averages f over t ∈ [eps, 1] (midpoint rule).
func integrate(f func(t float64) float64, eps float64) float64 {
	const n = 20000
	sum := 0.0
	for i := range n {
		sum += f(eps + (1-eps)*(float64(i)+0.5)/n)
	}
	return sum / n
}

// TestDSMClosedForm: with the exact score and λ = std², E‖std·s + z‖² = 1 − std²/var_t (1-D),
// averaged over t; the Monte Carlo tolerance is 5 standard errors of 200,000 draws.
func TestDSMClosedForm(t *testing.T) {
	for _, s := range []sde.SDE{sde.NewVP(), sde.NewSubVP(), sde.NewVE()} {
		o := Default(s)
		o.ReduceMean = true
		got := lossValue(t, s, gaussScore(s, 1), o)
		want := integrate(func(t float64) float64 {
			m, sd := s.MeanCoeff(t), s.Std(t)
			return 1 - sd*sd/(m*m*v0+sd*sd)
		}, o.Eps)
		if math.Abs(got-want) > 5*1.5/math.Sqrt(200000) {
			t.Errorf("%s: DSM loss %.5f, closed form %.5f", s.Name(), got, want)
		}
		if worse := lossValue(t, s, gaussScore(s, 1.3), o); worse <= got {
			t.Errorf("%s: a wrong score scored %.5f ≤ the exact score's %.5f", s.Name(), worse, got)
		}
	}
}

// TestSSMClosedForm: sliced score matching with the exact score has expectation
// E[std²(½s² + ∂s/∂x)] = −½·std²/var_t in 1-D (where v² = 1 for Rademacher v).
func TestSSMClosedForm(t *testing.T) {
	s := sde.NewVP()
	for _, vr := range []bool{false, true} {
		o := Default(s)
		o.Kind, o.VarianceReduced = "ssm", vr
		got := lossValue(t, s, gaussScore(s, 1), o)
		want := integrate(func(t float64) float64 {
			m, sd := s.MeanCoeff(t), s.Std(t)
			return -0.5 * sd * sd / (m*m*v0 + sd*sd)
		}, o.Eps)
		if math.Abs(got-want) > 0.01 {
			t.Errorf("SSM (variance reduced %v): %.5f, closed form %.5f", vr, got, want)
		}
		if worse := lossValue(t, s, gaussScore(s, 1.3), o); worse <= got {
			t.Errorf("SSM: a wrong score scored %.5f ≤ the exact score's %.5f", worse, got)
		}
	}
}

// TestDiscreteLosses: the exact score beats a wrong one under the SMLD and DDPM losses, and the
// DDPM loss with the exact score matches 1 − (1−ᾱ)/var averaged over the chain's indices.
func TestDiscreteLosses(t *testing.T) {
	ve, vp := sde.NewVE(), sde.NewVP()
	o := Default(ve)
	o.Kind = "smld"
	if a, b := lossValue(t, ve, gaussScore(ve, 1), o), lossValue(t, ve, gaussScore(ve, 1.3), o); b <= a {
		t.Errorf("smld: wrong score %.5f ≤ exact %.5f", b, a)
	}
	o = Default(vp)
	o.Kind = "ddpm"
	got := lossValue(t, vp, gaussScore(vp, 1), o)
	sa, s1m := ddpmCumulative(vp)
	want := 0.0
	for i := range sa {
		// ε_θ = −score(x_i, t_i)·s(t_i) with the exact score of the continuous p_t at t_i.
		ti := float64(i+1) / float64(vp.NumScales)
		m, sd := vp.MeanCoeff(ti), vp.Std(ti)
		vt := m*m*v0 + sd*sd
		// x_i = a x0 + c z; ε_θ = k x_i with k = sd/vt; E(kx − z)² = k²(a²v0 + c²) − 2kc + 1.
		a, c := sa[i], s1m[i]
		k := sd / vt
		want += (k*k*(a*a*v0+c*c) - 2*k*c + 1) / float64(len(sa))
	}
	if math.Abs(got-want) > 0.01 {
		t.Errorf("ddpm loss %.5f, closed form %.5f", got, want)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		s    sde.SDE
		kind string
		lw   bool
		want string
	}{
		{sde.NewVP(), "smld", false, "loss smld is NCSN's discrete loss for the ve SDE"},
		{sde.NewSubVP(), "ddpm", false, "loss ddpm is defined for the vp SDE only"},
		{sde.NewVE(), "mle", false, `unknown loss "mle"`},
		{sde.NewVE(), "ssm", true, "likelihood weighting applies to the dsm loss only"},
	}
	for _, c := range cases {
		o := Default(c.s)
		o.Kind, o.LikelihoodWeighting = c.kind, c.lw
		if err := o.Validate(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s/%s: %v, want %q", c.s.Name(), c.kind, err, c.want)
		}
	}
}

func must(v *tensors.Tensor, err error) *tensors.Tensor {
	if err != nil {
		panic(err)
	}
	return v
}
