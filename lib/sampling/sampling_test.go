package sampling

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

const (
	testN       = 1000 // points per sample set
	projections = 200  // SW2 projections
)

func mixtures(t *testing.T) []*toy.Mixture {
	m2, err := toy.ParseSpec([]byte(`{"name":"2d","weights":[0.5,0.3,0.2],"means":[[0,0],[3,1],[-2,2]],"covs":[[[1,0.6],[0.6,0.8]],0.3,[0.2,1.5]]}`))
	if err != nil {
		t.Fatal(err)
	}
	m5, err := toy.ParseSpec([]byte(`{"name":"5d","weights":[0.3,0.7],"means":[[1,0,-1,2,0],[-2,1,0,0,1]],
	"covs":[[[1,0.3,0,0,0],[0.3,0.5,0.1,0,0],[0,0.1,2,0.2,0],[0,0,0.2,1,0],[0,0,0,0,0.4]], [0.3,0.6,0.9,1.2,1.5]]}`))
	if err != nil {
		t.Fatal(err)
	}
	return []*toy.Mixture{m2, m5}
}

// floor is the SW2 between two independent data samples of size testN (averaged over four
// pairs by metrics.SW2Floor): what a perfect sampler scores.
func floor(t *testing.T, m *toy.Mixture) float64 {
	f, err := metrics.SW2Floor(m, testN, projections, 7)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSamplersMatchData: for each SDE and sampler, samples drawn with the exact score match the
// data: their SW2 to a fresh data sample is within 3× the floor between two data samples.
func TestSamplersMatchData(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs 28 samplers")
	}
	b := backend.MustNew()
	type sampler struct {
		name string
		run  func(s sde.SDE, m *toy.Mixture) (*Result, error)
	}
	pc := func(pred, corr string) func(s sde.SDE, m *toy.Mixture) (*Result, error) {
		return func(s sde.SDE, m *toy.Mixture) (*Result, error) {
			o := DefaultPC()
			o.Predictor, o.Corrector = pred, corr
			return PC(b, s, m.ScoreFn(s), []int{testN, m.Dim()}, o, Run{Seed: 11, DType: dtypes.Float64})
		}
	}
	samplers := []sampler{
		{"pc reverse_diffusion+langevin", pc("reverse_diffusion", "langevin")},
		{"euler_maruyama", pc("euler_maruyama", "none")},
		{"ancestral_sampling", pc("ancestral_sampling", "none")},
		{"ode rk45", func(s sde.SDE, m *toy.Mixture) (*Result, error) {
			return ODE(b, s, m.ScoreFn(s), []int{testN, m.Dim()}, DefaultODE(), Run{Seed: 11, DType: dtypes.Float64})
		}},
		{"ode dpm3 (30 steps)", func(s sde.SDE, m *toy.Mixture) (*Result, error) {
			o := DefaultODE()
			o.Method, o.N = "dpm3", 30
			return ODE(b, s, m.ScoreFn(s), []int{testN, m.Dim()}, o, Run{Seed: 11, DType: dtypes.Float64})
		}},
	}
	for _, m := range mixtures(t) {
		fl := floor(t, m)
		ref := m.Sample(toy.NewRand(303), testN)
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			for _, smp := range samplers {
				if s.Name() == "subvp" && smp.name == "ancestral_sampling" {
					continue
				}
				name := fmt.Sprintf("%s/%s/%s", m.Name(), s.Name(), smp.name)
				res, err := smp.run(s, m)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				sw, err := metrics.SlicedW2(res.Points(), ref, projections, 7)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%-45s SW2 %.4f (floor %.4f, ratio %.2f) NFE %d in %v", name, sw, fl, sw/fl, res.NFE, res.Elapsed.Round(1e6))
				if sw > 3*fl {
					t.Errorf("%s: SW2 %.4f exceeds 3× the data floor %.4f", name, sw, fl)
				}
			}
		}
	}
}

// TestNCSNToy reproduces the NCSN toy: plain Langevin with the exact data score gets the
// 0.8/0.2 mode weights wrong; annealed Langevin recovers 0.8 within 0.03 on 2,000 samples
// (3.3 standard errors of a binomial proportion: √(0.16/2000) = 0.009).
func TestNCSNToy(t *testing.T) {
	b := backend.MustNew()
	m, err := toy.LoadMixture("ncsn")
	if err != nil {
		t.Fatal(err)
	}
	ve := sde.NewVE()
	lang, err := Langevin(b, m.ScoreFn(ve), []int{2000, 2}, DefaultLangevin(), Run{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	wl, err := metrics.ModeWeights(m, lang.Points())
	if err != nil {
		t.Fatal(err)
	}
	ald, err := AnnealedLangevin(b, ve, m.ScoreFn(ve), []int{2000, 2}, DefaultAnnealed(), Run{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	wa, err := metrics.ModeWeights(m, ald.Points())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Langevin weights %.3f, annealed Langevin weights %.3f", wl, wa)
	if math.Abs(wl[0]-0.8) <= 0.1 {
		t.Errorf("plain Langevin weight %.3f is within 0.1 of 0.8: the NCSN failure did not show", wl[0])
	}
	if math.Abs(wa[0]-0.8) > 0.03 {
		t.Errorf("annealed Langevin weight %.3f, want 0.8 ± 0.03", wa[0])
	}
}

// TestRK45NFEFallsWithTolerance: a looser tolerance needs fewer score evaluations.
func TestRK45NFEFallsWithTolerance(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	prev := math.MaxInt
	for _, tol := range []float64{1e-5, 1e-3, 1e-1} {
		o := DefaultODE()
		o.RTol, o.ATol = tol, tol
		res, err := ODE(b, s, m.ScoreFn(s), []int{500, 2}, o, Run{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("tol %g: NFE %d", tol, res.NFE)
		if res.NFE >= prev {
			t.Errorf("tol %g: NFE %d did not fall below %d", tol, res.NFE, prev)
		}
		prev = res.NFE
	}
}

// TestSameSeedSameSamples: every random draw flows from the seed.
func TestSameSeedSameSamples(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("ncsn")
	s := sde.NewVE()
	o := DefaultPC()
	o.N = 50
	draw := func(seed int64) [][]float64 {
		r, err := PC(b, s, m.ScoreFn(s), []int{20, 2}, o, Run{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return r.Points()
	}
	a, a2, c := draw(5), draw(5), draw(6)
	if fmt.Sprint(a) != fmt.Sprint(a2) {
		t.Error("same seed gave different samples")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different seeds gave the same samples")
	}
}

// TestNFECount: the true NFE counts score evaluations; the reference count is N(M+1).
func TestNFECount(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("ncsn")
	s := sde.NewVP()
	cases := []struct {
		pred, corr string
		steps      int
		nfe, ref   int
	}{
		{"reverse_diffusion", "langevin", 2, 50 * 3, 50 * 3},
		{"euler_maruyama", "none", 1, 50, 100},
		{"none", "langevin", 1, 50, 100},
	}
	for _, c := range cases {
		o := DefaultPC()
		o.N, o.Predictor, o.Corrector, o.Steps = 50, c.pred, c.corr, c.steps
		r, err := PC(b, s, m.ScoreFn(s), []int{10, 2}, o, Run{Seed: 1, RecordEvery: 10})
		if err != nil {
			t.Fatal(err)
		}
		if r.NFE != c.nfe || r.ReferenceNFE != c.ref {
			t.Errorf("%s+%s M=%d: NFE %d (reference %d), want %d (%d)", c.pred, c.corr, c.steps, r.NFE, r.ReferenceNFE, c.nfe, c.ref)
		}
		if len(r.Trajectory) != 6 || len(r.Trajectory[0]) != 10 {
			t.Errorf("trajectory has %d snapshots, want 6", len(r.Trajectory))
		}
	}
}

// TestBadOptions: each bad option gives its own clear error.
func TestBadOptions(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("ncsn")
	sub := sde.NewSubVP()
	cases := []struct {
		name string
		s    sde.SDE
		mod  func(*PCOptions)
		want string
	}{
		{"unknown predictor", sub, func(o *PCOptions) { o.Predictor = "magic" }, `unknown predictor "magic"`},
		{"unknown corrector", sub, func(o *PCOptions) { o.Corrector = "gibbs" }, `unknown corrector "gibbs"`},
		{"negative snr", sub, func(o *PCOptions) { o.SNR = -1 }, "snr=-1, want ≥ 0"},
		{"steps", sub, func(o *PCOptions) { o.N = -3 }, "steps=-3"},
		{"ancestral subvp", sub, func(o *PCOptions) { o.Predictor = "ancestral_sampling" }, "ve and vp SDEs only"},
		{"ancestral ode", sde.NewVE(), func(o *PCOptions) { o.Predictor, o.ProbabilityFlow = "ancestral_sampling", true }, "no probability-flow form"},
		{"eps", sub, func(o *PCOptions) { o.Eps = 2 }, "eps=2"},
	}
	for _, c := range cases {
		o := DefaultPC()
		c.mod(&o)
		_, err := PC(b, c.s, m.ScoreFn(c.s), []int{4, 2}, o, Run{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ODE(b, sub, m.ScoreFn(sub), []int{4, 2}, ODEOptions{Method: "rk99"}, Run{}); err == nil || !strings.Contains(err.Error(), "unknown ODE method") {
		t.Errorf("bad ODE method: %v", err)
	}
}

// TestSubVPWithCorrectors: sub-VP runs with every corrector (the references raise an error).
func TestSubVPWithCorrectors(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewSubVP()
	for _, corr := range CorrectorNames {
		o := DefaultPC()
		o.N, o.Corrector = 100, corr
		r, err := PC(b, s, m.ScoreFn(s), []int{200, 2}, o, Run{Seed: 2})
		if err != nil {
			t.Fatalf("%s: %v", corr, err)
		}
		for _, p := range r.Points() {
			if math.IsNaN(p[0]) || math.Abs(p[0]) > 20 {
				t.Fatalf("%s: sample %v", corr, p)
			}
		}
	}
}

// TestProbabilityFlowPredictorsAndOrder: every predictor's probability-flow form runs (the PyTorch
// reference crashes with Euler–Maruyama), and the paper's predictor-first order matches the data.
func TestProbabilityFlowPredictorsAndOrder(t *testing.T) {
	b := backend.MustNew()
	m := mixtures(t)[0]
	fl := floor(t, m)
	ref := m.Sample(toy.NewRand(303), testN)
	s := sde.NewVP()
	for _, c := range []struct {
		pred            string
		flow, predFirst bool
	}{{"euler_maruyama", true, false}, {"reverse_diffusion", true, false}, {"reverse_diffusion", false, true}} {
		o := DefaultPC()
		o.Predictor, o.ProbabilityFlow, o.PredictorFirst = c.pred, c.flow, c.predFirst
		if c.flow {
			o.Corrector = "none"
		}
		res, err := PC(b, s, m.ScoreFn(s), []int{testN, 2}, o, Run{Seed: 5, DType: dtypes.Float64})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		sw, _ := metrics.SlicedW2(res.Points(), ref, projections, 7)
		t.Logf("%+v: SW2 %.4f (floor %.4f)", c, sw, fl)
		if sw > 3*fl {
			t.Errorf("%+v: SW2 %.4f exceeds 3× the floor %.4f", c, sw, fl)
		}
	}
}

// TestODEFromLatent: decoding a given latent equals sampling from the prior draw of the same seed.
func TestODEFromLatent(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	run := Run{Seed: 9, DType: dtypes.Float64}
	fromPrior, err := ODE(b, s, m.ScoreFn(s), []int{50, 2}, DefaultODE(), run)
	if err != nil {
		t.Fatal(err)
	}
	z, _, err := priorSample(b, s, []int{50, 2}, run)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultODE()
	o.Latent = z
	fromLatent, err := ODE(b, s, m.ScoreFn(s), nil, o, run)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fromPrior.Points()) != fmt.Sprint(fromLatent.Points()) {
		t.Error("decoding the prior draw as a latent gave other samples")
	}
}
