package likelihood

import (
	"fmt"
	"math"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// TestScoreDivergenceHook: with the mixture's closed-form divergence (Options.ScoreDivergence) the
// exact-divergence log-likelihood and latents equal those of d backward passes to 1e-8, under VE, VP
// and sub-VP, with RK45 (default tolerances) and with a fixed-step RK4.
func TestScoreDivergenceHook(t *testing.T) {
	b := backend.MustNew()
	for _, m := range mixtures(t) {
		x := m.Sample(toy.NewRand(8), 30)
		for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
			for _, method := range []string{"rk45", "rk4"} {
				t.Run(fmt.Sprintf("%s/%s/%s", m.Name(), s.Name(), method), func(t *testing.T) {
					o := Default()
					o.Method, o.N = method, 40
					auto, err := LogLikelihood(b, s, m.ScoreFn(s), x, o)
					if err != nil {
						t.Fatal(err)
					}
					o.ScoreDivergence = m.ScoreDivFn(s)
					closed, err := LogLikelihood(b, s, m.ScoreFn(s), x, o)
					if err != nil {
						t.Fatal(err)
					}
					if closed.NFE != auto.NFE {
						t.Errorf("NFE %d with the closed form, %d with backward passes", closed.NFE, auto.NFE)
					}
					for i := range x {
						if d := math.Abs(closed.LogP[i] - auto.LogP[i]); d > 1e-8 {
							t.Errorf("point %d: log p %.12f with the closed form, %.12f with backward passes (|Δ| = %.2g)", i, closed.LogP[i], auto.LogP[i], d)
						}
						for j := range x[i] {
							if d := math.Abs(closed.Latent[i][j] - auto.Latent[i][j]); d > 1e-8 {
								t.Errorf("point %d: latent[%d] %.12f with the closed form, %.12f with backward passes", i, j, closed.Latent[i][j], auto.Latent[i][j])
							}
						}
					}
				})
			}
		}
	}
}

// TestScoreDivergenceHookShapes: a ScoreDivergence whose outputs have the wrong shapes is an error
// naming both shapes, not a panic.
func TestScoreDivergenceHookShapes(t *testing.T) {
	b := backend.MustNew()
	m := mixtures(t)[0]
	s := sde.NewVP()
	o := Default()
	o.ScoreDivergence = func(x, t *Node) (*Node, *Node) {
		score, div := m.ScoreDivFn(s)(x, t)
		return score, Reshape(div, 1, -1) // [1, B] instead of [B]
	}
	_, err := LogLikelihood(b, s, m.ScoreFn(s), m.Sample(toy.NewRand(1), 4), o)
	if err == nil || !strings.Contains(err.Error(), "ScoreDivergence returned") {
		t.Fatalf("error %v, want one naming the ScoreDivergence shapes", err)
	}
}
