package likelihood

import (
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// BenchmarkLikelihood1000 computes the ODE log-likelihood of 1,000 2-D points of 8 Gaussians
// (VP, exact score, exact divergence, RK45 rtol = atol = 1e-5, float64) and reports the NFE.
func BenchmarkLikelihood1000(b *testing.B) {
	be := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	x := m.Sample(toy.NewRand(1), 1000)
	var nfe int
	for range b.N {
		r, err := LogLikelihood(be, s, m.ScoreFn(s), x, Default())
		if err != nil {
			b.Fatal(err)
		}
		nfe = r.NFE
	}
	b.ReportMetric(float64(nfe), "NFE")
}
