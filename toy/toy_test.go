package toy

import (
	"fmt"
	"math"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
)

// fiveD is a 5-D mixture with full, correlated covariances.
func fiveD(t *testing.T) *Mixture {
	spec := `{"weights":[0.3,0.7],"means":[[1,0,-1,2,0],[-2,1,0,0,1]],
	"covs":[[[1,0.3,0,0,0],[0.3,0.5,0.1,0,0],[0,0.1,2,0.2,0],[0,0,0.2,1,0],[0,0,0,0,0.4]], [0.3,0.6,0.9,1.2,1.5]]}`
	m, err := ParseSpec([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func twoD(t *testing.T) *Mixture {
	m, err := ParseSpec([]byte(`{"weights":[0.5,0.3,0.2],"means":[[0,0],[3,1],[-2,2]],"covs":[[[1,0.6],[0.6,0.8]],0.3,[0.2,1.5]]}`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestScoreMatchesFiniteDifferences compares the exact score of p_t with central differences of log p_t.
func TestScoreMatchesFiniteDifferences(t *testing.T) {
	r := NewRand(1)
	for _, m := range []*Mixture{twoD(t), fiveD(t), mustPreset(t, "ncsn")} {
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			for _, tt := range []float64{0, 1e-3, 0.3, 1} {
				p := m
				if tt > 0 {
					p = m.Perturb(s, tt)
				}
				for _, x := range p.Sample(r, 5) {
					score := p.Score(x)
					for i := range x {
						h := 1e-5 * math.Max(1, math.Abs(x[i]))
						xp := append([]float64(nil), x...)
						xm := append([]float64(nil), x...)
						xp[i] += h
						xm[i] -= h
						fd := (p.LogProb(xp) - p.LogProb(xm)) / (2 * h)
						if math.Abs(fd-score[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
							t.Errorf("%s %s t=%g: score[%d]=%g, finite difference %g", m.Name(), s.Name(), tt, i, score[i], fd)
						}
					}
				}
			}
		}
	}
}

// TestDensityIntegratesToOne integrates 2-D densities (data and perturbed) on a grid.
func TestDensityIntegratesToOne(t *testing.T) {
	vp := sde.NewVP()
	for _, m := range []*Mixture{twoD(t), mustPreset(t, "ncsn"), mustPreset(t, "8gaussians"), twoD(t).Perturb(vp, 0.5)} {
		const n, lo, hi = 400, -12.0, 12.0
		h := (hi - lo) / n
		sum := 0.0
		for i := range n {
			for j := range n {
				x := []float64{lo + (float64(i)+0.5)*h, lo + (float64(j)+0.5)*h}
				sum += math.Exp(m.LogProb(x)) * h * h
			}
		}
		if math.Abs(sum-1) > 1e-3 {
			t.Errorf("%s: density integrates to %.6f, want 1", m.Name(), sum)
		}
	}
}

// TestSampleMoments compares the sample mean and covariance with the closed forms, within 5
// standard errors computed from the closed-form moments and n.
func TestSampleMoments(t *testing.T) {
	const n = 40000
	for _, m := range []*Mixture{twoD(t), fiveD(t), mustPreset(t, "ncsn")} {
		xs := m.Sample(NewRand(7), n)
		d := m.Dim()
		mean, cov := m.Mean(), m.Cov()
		got := make([]float64, d)
		for _, x := range xs {
			for i := range d {
				got[i] += x[i] / n
			}
		}
		for i := range d {
			if se := math.Sqrt(cov[i][i] / n); math.Abs(got[i]-mean[i]) > 5*se {
				t.Errorf("%s: mean[%d]=%.4f, want %.4f ± %.4f", m.Name(), i, got[i], mean[i], 5*se)
			}
			for j := range d {
				c := 0.0
				for _, x := range xs {
					c += (x[i] - got[i]) * (x[j] - got[j]) / n
				}
				// Var of a product estimate ≈ E[(xi−μi)²(xj−μj)²]/n; bound it with the 4th moment of a mixture
				// via a conservative factor on Σii·Σjj + Σij².
				se := math.Sqrt((cov[i][i]*cov[j][j]+cov[i][j]*cov[i][j])*3/n) + 1e-12
				if math.Abs(c-cov[i][j]) > 5*se {
					t.Errorf("%s: cov[%d][%d]=%.4f, want %.4f ± %.4f", m.Name(), i, j, c, cov[i][j], 5*se)
				}
			}
		}
	}
}

// TestGraphMatchesHost checks the graph log-density, posterior and score against the host forms.
func TestGraphMatchesHost(t *testing.T) {
	b := backend.MustNew()
	for _, m := range []*Mixture{twoD(t), fiveD(t)} {
		xs := m.Sample(NewRand(3), 6)
		ts := []float64{1e-5, 0.01, 0.2, 0.5, 0.8, 1}
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			outs := MustExecOnceN(b, func(x, tt *Node) []*Node {
				return []*Node{m.LogProbFn(s)(x, tt), m.PosteriorFn(s)(x, tt), m.ScoreFn(s)(x, tt)}
			}, xs, ts)
			logp := outs[0].Value().([]float64)
			post := outs[1].Value().([][]float64)
			score := outs[2].Value().([][]float64)
			for i, x := range xs {
				p := m.Perturb(s, ts[i])
				check := func(what string, got, want float64) {
					if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Errorf("%s %s t=%g %s: graph %.12g, host %.12g", m.Name(), s.Name(), ts[i], what, got, want)
					}
				}
				check("log p", logp[i], p.LogProb(x))
				for k, v := range p.Posterior(x) {
					check(fmt.Sprintf("posterior[%d]", k), post[i][k], v)
				}
				for j, v := range p.Score(x) {
					check(fmt.Sprintf("score[%d]", j), score[i][j], v)
				}
			}
		}
	}
}

// TestScoreFarFromData checks that the graph score stays finite where every component's density
// underflows (the log-sum-exp is stable), in float32 too.
func TestScoreFarFromData(t *testing.T) {
	b := backend.MustNew()
	m := mustPreset(t, "ncsn")
	x := [][]float32{{200, -300}, {-1000, 1000}}
	out := MustExecOnce(b, func(x *Node) *Node {
		return m.ScoreFn(sde.NewVP())(x, ScalarZero(x.Graph(), x.DType()))
	}, x)
	for _, row := range out.Value().([][]float32) {
		for _, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("score far from the data is %v", out)
			}
		}
	}
}

func TestPosteriorSumsToOne(t *testing.T) {
	m := mustPreset(t, "25gaussians")
	for _, x := range m.Sample(NewRand(2), 20) {
		sum := 0.0
		for _, p := range m.Posterior(x) {
			sum += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("posterior sums to %g", sum)
		}
	}
}

// TestBadSpecs: each invalid spec gives its own message naming the field.
func TestBadSpecs(t *testing.T) {
	cases := []struct{ name, spec, want string }{
		{"empty", `{}`, "spec is empty"},
		{"empty weights", `{"weights":[],"means":[[0]],"covs":[1]}`, "weights is missing or empty"},
		{"no means", `{"weights":[1],"covs":[1]}`, "means is missing"},
		{"no covs", `{"weights":[1],"means":[[0]]}`, "covs is missing"},
		{"sum", `{"weights":[0.5,0.2],"means":[[0],[1]],"covs":[1,1]}`, "weights sum to 0.7, want 1"},
		{"negative", `{"weights":[1.2,-0.2],"means":[[0],[1]],"covs":[1,1]}`, "weights[1] is -0.2"},
		{"count", `{"weights":[0.5,0.5],"means":[[0]],"covs":[1,1]}`, "means has 1 entries but weights has 2"},
		{"cov count", `{"weights":[0.5,0.5],"means":[[0],[1]],"covs":[1]}`, "covs has 1 entries"},
		{"dim", `{"weights":[0.5,0.5],"means":[[0,0],[1]],"covs":[1,1]}`, "means[1] has 1 values, want 2"},
		{"diag dim", `{"weights":[1],"means":[[0,0]],"covs":[[1,2,3]]}`, "covs[0]: diagonal has 3 variances, want 2"},
		{"matrix dim", `{"weights":[1],"means":[[0,0]],"covs":[[[1,0],[0,1],[0,0]]]}`, "covs[0] has 3 rows, want 2"},
		{"not PD", `{"weights":[1],"means":[[0,0]],"covs":[[[1,2],[2,1]]]}`, "covs[0] is not positive definite"},
		{"asym", `{"weights":[1],"means":[[0,0]],"covs":[[[1,0.5],[0,1]]]}`, "covs[0] is not symmetric"},
		{"zero var", `{"weights":[1],"means":[[0,0]],"covs":[0]}`, "covs[0]: variance 0 must be > 0"},
		{"NaN", `{"weights":[1],"means":[[NaN,0]],"covs":[1]}`, "NaN and Infinity are not JSON numbers"},
		{"NaN string", `{"weights":[1],"means":[["NaN",0]],"covs":[1]}`, `field "means`},
		{"bad cov", `{"weights":[1],"means":[[0]],"covs":["big"]}`, "covs[0]: \"big\" is not a number"},
		{"unknown", `{"weights":[1],"means":[[0]],"covs":[1],"cov":[1]}`, "the fields are name, weights, means and covs"},
		{"empty mean", `{"weights":[1],"means":[[]],"covs":[[]]}`, "means[0] is empty"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		_, err := ParseSpec([]byte(c.spec))
		if err == nil {
			t.Errorf("%s: accepted %s", c.name, c.spec)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
		if prev, ok := seen[err.Error()]; ok {
			t.Errorf("%s and %s give the same message %q", c.name, prev, err)
		}
		seen[err.Error()] = c.name
	}
}

func TestPresetsAndLoad(t *testing.T) {
	for _, name := range PresetNames() {
		d, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		xs := d.Sample(NewRand(1), 100)
		if len(xs) != 100 || len(xs[0]) != d.Dim() {
			t.Errorf("%s: bad sample shape", name)
		}
	}
	if _, err := Load("nope"); err == nil || !strings.Contains(err.Error(), "ncsn") {
		t.Errorf("Load(nope) = %v, want a list of presets", err)
	}
	if _, err := LoadMixture("moons"); err == nil || !strings.Contains(err.Error(), "no exact score") {
		t.Errorf("LoadMixture(moons) = %v", err)
	}
	m := mustPreset(t, "ncsn")
	if w := m.Weights(); w[0] != 0.8 || m.Means()[1][0] != -5 {
		t.Errorf("ncsn preset = %v %v", w, m.Means())
	}
}

func mustPreset(t *testing.T, name string) *Mixture {
	m, err := LoadMixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGraphScalarTime checks the scalar-t paths (one time for the batch, as samplers pass it)
// against the host forms, for axis-aligned and rotated mixtures, in float64 and float32.
func TestGraphScalarTime(t *testing.T) {
	b := backend.MustNew()
	for _, m := range []*Mixture{mustPreset(t, "8gaussians"), mustPreset(t, "ncsn"), twoD(t), fiveD(t)} {
		xs := m.Sample(NewRand(4), 5)
		xs[0][0] += 30 // a point far from the data
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			for _, tt := range []float64{1e-5, 0.3, 1} {
				outs := MustExecOnceN(b, func(x, t *Node) []*Node {
					return []*Node{m.LogProbFn(s)(x, t), m.ScoreFn(s)(x, t)}
				}, xs, tt)
				logp := outs[0].Value().([]float64)
				score := outs[1].Value().([][]float64)
				p := m.Perturb(s, tt)
				for i, x := range xs {
					if got, want := logp[i], p.LogProb(x); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Errorf("%s %s t=%g: log p %.12g, host %.12g", m.Name(), s.Name(), tt, got, want)
					}
					for j, want := range p.Score(x) {
						if math.Abs(score[i][j]-want) > 1e-8*math.Max(1, math.Abs(want)) {
							t.Errorf("%s %s t=%g: score[%d] %.12g, host %.12g", m.Name(), s.Name(), tt, j, score[i][j], want)
						}
					}
				}
				// float32: within single-precision rounding of the float64 result.
				x32 := make([][]float32, len(xs))
				for i, x := range xs {
					for _, v := range x {
						x32[i] = append(x32[i], float32(v))
					}
				}
				out := MustExecOnce(b, func(x, t *Node) *Node { return m.ScoreFn(s)(x, t) }, x32, float32(tt))
				for i, row := range out.Value().([][]float32) {
					for j, v := range row {
						if want := score[i][j]; math.Abs(float64(v)-want) > 2e-3*math.Max(1, math.Abs(want)) {
							t.Errorf("%s %s t=%g float32: score[%d][%d] %g, float64 %g", m.Name(), s.Name(), tt, i, j, v, want)
						}
					}
				}
			}
		}
	}
}

// TestConditional checks the conditional mixture against the joint density: for fixed x1,
// log p(x2 | x1) = log p(x1, x2) − log p(x1), with p(x1) by quadrature over x2.
func TestConditional(t *testing.T) {
	m := twoD(t)
	const x1 = 0.5
	c, err := m.Conditional([]int{0}, []float64{x1})
	if err != nil {
		t.Fatal(err)
	}
	if c.Dim() != 1 {
		t.Fatalf("dimension %d", c.Dim())
	}
	// p(x1) = ∫ p(x1, x2) dx2.
	const n, lo, hi = 20000, -20.0, 20.0
	h := (hi - lo) / n
	px1 := 0.0
	for i := range n {
		px1 += math.Exp(m.LogProb([]float64{x1, lo + (float64(i)+0.5)*h})) * h
	}
	for _, x2 := range []float64{-3, 0, 1.2, 4} {
		want := m.LogProb([]float64{x1, x2}) - math.Log(px1)
		if got := c.LogProb([]float64{x2}); math.Abs(got-want) > 1e-6 {
			t.Errorf("log p(x2=%g | x1) = %.8f, want %.8f", x2, got, want)
		}
	}
	if _, err := m.Conditional([]int{0, 1}, []float64{1, 2}); err == nil {
		t.Error("conditioning on every coordinate accepted")
	}
	if _, err := m.Conditional([]int{5}, []float64{1}); err == nil {
		t.Error("out-of-range coordinate accepted")
	}
}
