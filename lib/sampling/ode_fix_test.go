package sampling

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
)

// TestODEDenoiseIsReverseDiffusion: the ODE sampler's final denoising is the reverse-diffusion
// predictor of the reverse SDE, x + G²·s for VE (G² = σ_0² at the chain's first index), as the
// references' ODE sampler (probability_flow=False there), not the probability-flow half step.
func TestODEDenoiseIsReverseDiffusion(t *testing.T) {
	b := backend.MustNew()
	g := gaussian{mu: 1, c: 0.5}
	s := sde.NewVE()
	z := tensors.FromFlatDataAndDimensions([]float64{-40, -3, 0, 5, 30}, 5, 1)
	run := Run{DType: dtypes.Float64}
	o := DefaultODE()
	o.Denoise = false
	o.Latent = z
	plain, err := ODE(b, s, g.score(s), nil, o, run)
	if err != nil {
		t.Fatal(err)
	}
	o.Denoise = true
	den, err := ODE(b, s, g.score(s), nil, o, run)
	if err != nil {
		t.Fatal(err)
	}
	eps := s.DefaultEps()
	g2 := math.Pow(s.DiscreteSigma(0), 2)
	v := g.c*g.c + s.Sigma(eps)*s.Sigma(eps)
	for i, p := range plain.Points() {
		want := p[0] + g2*(-(p[0]-g.mu)/v)
		if got := den.Points()[i][0]; math.Abs(got-want) > 1e-12 {
			t.Errorf("point %d: denoised %.12g, want x + G²s = %.12g", i, got, want)
		}
	}
	if den.NFE != plain.NFE+1 {
		t.Errorf("NFE %d with denoising, %d without: want one more", den.NFE, plain.NFE)
	}
}

// TestRK45LandsOnTheEnd: accepted steps end exactly at eps and no sliver step is taken, over
// several tolerances and SDEs.
func TestRK45LandsOnTheEnd(t *testing.T) {
	b := backend.MustNew()
	g := gaussian{mu: 1, c: 0.5}
	for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
		for _, tol := range []float64{1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7} {
			z := tensors.FromFlatDataAndDimensions([]float64{-2, -0.5, 0.3, 1.7}, 4, 1)
			res := &Result{}
			_, err := rk45(b, sde.ReverseOf(s, g.score(s), true).Drift, z, s.T(), s.DefaultEps(), tol, tol, res, Run{RecordEvery: 1})
			if err != nil {
				t.Fatal(err)
			}
			ts := res.Times
			if ts[len(ts)-1] != s.DefaultEps() {
				t.Errorf("%s tol %g: last time %.17g, want eps %g exactly", s.Name(), tol, ts[len(ts)-1], s.DefaultEps())
			}
			for i := 1; i < len(ts); i++ {
				if h := ts[i-1] - ts[i]; h < 1e-9 {
					t.Errorf("%s tol %g: sliver step of %g at t=%g", s.Name(), tol, h, ts[i])
				}
			}
		}
	}
}

// TestODEStateInFloat64: with a float32 score, RK45 keeps its state in float64 (as scipy), so the
// float32 run agrees with the float64 run far below float32 RK45's own round-off growth, and the
// samples come back as float32.
func TestODEStateInFloat64(t *testing.T) {
	b := backend.MustNew()
	g := gaussian{mu: 1, c: 0.5}
	s := sde.NewVP()
	o := DefaultODE()
	o.Denoise = false
	pts := make([][]float64, 200)
	for i := range pts {
		pts[i] = []float64{3 * math.Sin(float64(i)), 2 * math.Cos(float64(3*i))}
	}
	z64, _ := FromPoints(pts, dtypes.Float64)
	z32, _ := FromPoints(pts, dtypes.Float32)
	o.Latent = z64
	r64, err := ODE(b, s, g.score(s), nil, o, Run{DType: dtypes.Float64})
	if err != nil {
		t.Fatal(err)
	}
	o.Latent = z32
	r32, err := ODE(b, s, g.score(s), nil, o, Run{DType: dtypes.Float32})
	if err != nil {
		t.Fatal(err)
	}
	if r32.Samples.DType() != dtypes.Float32 {
		t.Errorf("samples of a float32 run are %s", r32.Samples.DType())
	}
	var worst float64
	p64 := r64.Points()
	for i, p := range r32.Points() {
		for j := range p {
			worst = math.Max(worst, math.Abs(p[j]-p64[i][j]))
		}
	}
	t.Logf("float32 score, float64 state: max deviation from the float64 run %.3g (NFE %d vs %d)", worst, r32.NFE, r64.NFE)
	if worst > 1e-4 {
		t.Errorf("max deviation %.3g from the float64 run", worst)
	}
}
