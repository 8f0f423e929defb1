package likelihood

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

func mixtures(t *testing.T) []*toy.Mixture {
	var out []*toy.Mixture
	for _, spec := range []string{
		`{"name":"2d","weights":[0.5,0.3,0.2],"means":[[0,0],[3,1],[-2,2]],"covs":[[[1,0.6],[0.6,0.8]],0.3,[0.2,1.5]]}`,
		`{"name":"5d","weights":[0.3,0.7],"means":[[1,0,-1,2,0],[-2,1,0,0,1]],"covs":[[[1,0.3,0,0,0],[0.3,0.5,0.1,0,0],[0,0.1,2,0.2,0],[0,0,0.2,1,0],[0,0,0,0,0.4]],[0.3,0.6,0.9,1.2,1.5]]}`,
	} {
		m, err := toy.ParseSpec([]byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestMatchesClosedForm: with exact scores and exact divergence (float64), the ODE log-likelihood
// of 2-D and 5-D mixtures under VE, VP and sub-VP matches the closed-form log p_ε within 0.01 nats
// (mean absolute error). The terminal density is the exact p_T, so the test measures the
// integration alone; the prior mismatch log p_T − log N(0, σ_T²) is reported beside it.
func TestMatchesClosedForm(t *testing.T) {
	b := backend.MustNew()
	for _, m := range mixtures(t) {
		x := m.Sample(toy.NewRand(4), 200)
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			o := Default()
			exactT := m.LogProbFn(s)
			o.TerminalLogP = func(z *Node) *Node { return exactT(z, Scalar(z.Graph(), z.DType(), s.T())) }
			res, err := LogLikelihood(b, s, m.ScoreFn(s), x, o)
			if err != nil {
				t.Fatal(err)
			}
			want := m.Perturb(s, o.Eps)
			mae := 0.0
			for i, p := range x {
				mae += math.Abs(res.LogP[i]-want.LogProb(p)) / float64(len(x))
			}
			prior, err := LogLikelihood(b, s, m.ScoreFn(s), x, Default())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: MAE %.2e nats, NFE %d; with the N(0, σ_T²) prior: mean log p %.4f vs closed form %.4f", m.Name(), s.Name(), mae, res.NFE, -prior.MeanNLL(), -res.MeanNLL())
			if mae > 0.01 {
				t.Errorf("%s %s: mean |Δ log p| = %.4f nats, want ≤ 0.01", m.Name(), s.Name(), mae)
			}
		}
	}
}

// TestHutchinsonUnbiased: the Hutchinson estimate averaged over many probes matches the exact
// divergence's log-likelihood within 4 standard errors (per point, estimated from the passes).
func TestHutchinsonUnbiased(t *testing.T) {
	b := backend.MustNew()
	m := mixtures(t)[0]
	s := sde.NewVP()
	x := m.Sample(toy.NewRand(5), 20)
	exact, err := LogLikelihood(b, s, m.ScoreFn(s), x, Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, gaussian := range []bool{false, true} {
		const passes = 40
		var runs [][]float64
		for p := range passes {
			o := Default()
			o.Divergence, o.Gaussian, o.Seed = "hutchinson", gaussian, uint64(p+1)
			o.Solver.RTol, o.Solver.ATol = 1e-4, 1e-4
			r, err := LogLikelihood(b, s, m.ScoreFn(s), x, o)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r.LogP)
		}
		// Compare the mean over points and passes (the estimator's noise averages over both).
		var mean, sq float64
		for _, r := range runs {
			v := 0.0
			for i := range x {
				v += (r[i] - exact.LogP[i]) / float64(len(x))
			}
			mean += v / passes
			sq += v * v / passes
		}
		se := math.Sqrt((sq - mean*mean) / (passes - 1))
		t.Logf("gaussian=%v: mean bias %.4f nats, standard error %.4f", gaussian, mean, se)
		if math.Abs(mean) > 4*se+1e-3 {
			t.Errorf("gaussian=%v: Hutchinson bias %.4f exceeds 4 standard errors (%.4f)", gaussian, mean, se)
		}
	}
}

// TestEncodeDecode: decoding an encoded point returns it within 1e-3 (largest coordinate error,
// RK45 with rtol = atol = 1e-6).
func TestEncodeDecode(t *testing.T) {
	b := backend.MustNew()
	for _, m := range mixtures(t) {
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			x := m.Sample(toy.NewRand(6), 50)
			o := Default()
			o.Solver.RTol, o.Solver.ATol = 1e-6, 1e-6
			z, _, err := Encode(b, s, m.ScoreFn(s), x, o)
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := Decode(b, s, m.ScoreFn(s), z, o)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range x {
				for j := range x[i] {
					worst = math.Max(worst, math.Abs(back[i][j]-x[i][j]))
				}
			}
			if worst > 1e-3 {
				t.Errorf("%s %s: round trip error %.2e, want ≤ 1e-3", m.Name(), s.Name(), worst)
			}
		}
	}
}

func TestSlerp(t *testing.T) {
	path, err := Slerp([]float64{1, 0}, []float64{0, 1}, []float64{0, 0.5, 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(path[1][0]-math.Sqrt(0.5)) > 1e-12 || math.Abs(path[2][1]-1) > 1e-12 {
		t.Errorf("slerp = %v", path)
	}
}

// TestDequantizeAndBPD: dequantized 8-bit values stay in their bin [k/256, (k+1)/256), and the
// bits/dim conversion of a uniform density on [0, 1]^d is 0 + 8 (one 8-bit symbol per dimension).
func TestDequantizeAndBPD(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := [][]float64{{0, 1, 128.0 / 255}}
	for range 100 {
		y := UniformDequantize(x, r)
		for j, k := range []float64{0, 255, 128} {
			if y[0][j] < k/256 || y[0][j] >= (k+1)/256 {
				t.Fatalf("dequantized %v left its bin %v", y[0][j], k)
			}
		}
	}
	// log p = 0 for the uniform density on [0,1]^d: NLL 0 nats → 8 bits/dim after the offset.
	if got := BitsPerDim(0, 3, Offset8Bit(false)); got != 8 {
		t.Errorf("bits/dim %v, want 8", got)
	}
	if got := BitsPerDim(3*math.Ln2, 3, Offset8Bit(true)); math.Abs(got-8) > 1e-12 {
		t.Errorf("bits/dim %v, want 8", got)
	}
}
