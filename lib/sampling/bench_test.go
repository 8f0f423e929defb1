package sampling

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// benchPoints is the batch of the sampler benchmarks: 10,000 2-D points.
const benchPoints = 10000

// BenchmarkPCStep times one compiled PC step (reverse diffusion + one Langevin corrector step,
// VE SDE, exact score of the 8-Gaussians mixture) on 10,000 2-D points, tensors kept on the backend.
func BenchmarkPCStep(b *testing.B) {
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVE()
	benchPCStep(b, s, m.ScoreFn(s), []int{benchPoints, 2}, dtypes.Float32, "points·steps/s")
}

// benchPCStep times one compiled PC step (reverse diffusion + one Langevin corrector step, snr
// 0.16) of score on a prior sample of the given shape at t = 0.5, tensors kept on the backend, and
// reports shape[0]·steps/s under unit.
func benchPCStep(b *testing.B, s sde.SDE, score sde.ScoreFn, shape []int, dt dtypes.DType, unit string) {
	be := backend.MustNew()
	pred, _ := NewPredictor("reverse_diffusion", s, score, false)
	corr, _ := NewCorrector("langevin", s, score, CorrectorOptions{SNR: 0.16, Steps: 1})
	step, err := stepExec(be, func(x, t, rng *graph.Node) (*graph.Node, *graph.Node, *graph.Node) {
		x, _, rng = corr.Update(x, t, rng)
		return pred.Update(x, t, rng)
	})
	if err != nil {
		b.Fatal(err)
	}
	x, rng, err := priorSample(be, s, shape, Run{Seed: 1, DType: dt})
	if err != nil {
		b.Fatal(err)
	}
	outs := step.MustCall(x, 0.5, rng) // compile outside the timer
	x, rng = outs[0], outs[2]
	b.ResetTimer()
	for range b.N {
		outs := step.MustCall(x, 0.5, rng)
		x, rng = outs[0], outs[2]
	}
	b.StopTimer()
	b.ReportMetric(float64(shape[0])*float64(b.N)/b.Elapsed().Seconds(), unit)
}

// BenchmarkPC1000 times a whole 1000-step PC run (reverse diffusion + Langevin, snr 0.16, VE) over
// 10,000 2-D points with the exact 8-Gaussians score, compilation and prior sampling included.
func BenchmarkPC1000(b *testing.B) {
	be := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVE()
	for range b.N {
		if _, err := PC(be, s, m.ScoreFn(s), []int{benchPoints, 2}, DefaultPC(), Run{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchPoints)*1000*float64(b.N)/b.Elapsed().Seconds(), "points·steps/s")
}

// BenchmarkODERK45 times the adaptive probability-flow ODE sampler (VP, rtol = atol = 1e-5) on
// 10,000 2-D points with the exact 8-Gaussians score.
func BenchmarkODERK45(b *testing.B) {
	be := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	var nfe int
	for range b.N {
		r, err := ODE(be, s, m.ScoreFn(s), []int{benchPoints, 2}, DefaultODE(), Run{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		nfe = r.NFE
	}
	b.ReportMetric(float64(nfe), "NFE")
}

// BenchmarkMNISTPCStep times one compiled PC step (reverse diffusion + one Langevin corrector step,
// VP SDE, two network evaluations) on a batch of 64 28×28 images with the CPU preset's score network
// (the half-width tutorial U-Net, randomly initialized: the cost does not depend on the weights).
func BenchmarkMNISTPCStep(b *testing.B) {
	s := sde.NewVP()
	u := nets.NewSmallUNet()
	p, err := u.Init(1)
	if err != nil {
		b.Fatal(err)
	}
	score := func(x, t *graph.Node) *graph.Node {
		params := make([]*graph.Node, len(p.Values))
		for i, v := range p.Values {
			params[i] = graph.ConvertDType(graph.Const(x.Graph(), v), x.DType())
		}
		return nets.ScoreFn(u, params, s, false)(x, t)
	}
	benchPCStep(b, s, score, []int{64, 784}, dtypes.Float32, "images·steps/s")
}
