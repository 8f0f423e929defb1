package train

import (
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// BenchmarkTrainStep times one training step (batch 512 of 8 Gaussians, VP DSM loss, MLP with 3×128
// hidden units and 64 Fourier features, Adam, clipping and EMA), batch drawing included.
func BenchmarkTrainStep(b *testing.B) {
	be := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	cfg := Default(s)
	cfg.Steps = 1
	tr, err := New(be, nets.NewMLP(2), s, m, cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.Run(nil); err != nil { // compile outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	tr.Config.Steps += b.N
	if err := tr.Run(nil); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
