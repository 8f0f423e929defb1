package train

import (
	"math/rand/v2"
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
	benchSteps(b, tr)
}

// benchSteps runs the trainer's first step (compilation) outside the timer, then b.N timed steps,
// and reports steps/s.
func benchSteps(b *testing.B, tr *Trainer) {
	if err := tr.Run(nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	tr.Config.Steps += b.N
	if err := tr.Run(nil); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkMNISTTrainStep times one training step of the CPU preset for MNIST: the half-width
// tutorial U-Net (nets.NewSmallUNet, 374 k parameters), batch 64 of 28×28 images, VP DSM loss, Adam,
// clipping and EMA, batch drawing included. The images are random pixels (the cost does not depend
// on their values).
func BenchmarkMNISTTrainStep(b *testing.B) {
	be := backend.MustNew()
	s := sde.NewVP()
	cfg := Default(s)
	cfg.Steps, cfg.Batch = 1, 64
	r := rand.New(rand.NewPCG(1, 2))
	imgs := make([][]float64, 256)
	for i := range imgs {
		imgs[i] = make([]float64, 784)
		for j := range imgs[i] {
			imgs[i][j] = 2*r.Float64() - 1
		}
	}
	tr, err := New(be, nets.NewSmallUNet(), s, Points{X: imgs}, cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	benchSteps(b, tr)
	b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
