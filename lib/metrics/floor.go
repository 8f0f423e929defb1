package metrics

import (
	"fmt"
	"math/rand/v2"

	"github.com/scoresde/scoresde/toy"
)

// floorRepeats is the number of independent sample pairs Floor averages over.
const floorRepeats = 4

// Sampler draws n points [n][d] using r; every toy.Distribution is one.
type Sampler interface {
	Sample(r *rand.Rand, n int) [][]float64
}

// Floor is the typical value of metric between two independent samples of size n drawn from
// d: the noise floor that a sampler's value (n samples against n reference points) is
// compared with, since even a perfect sampler scores about this much. It is the mean over 4
// independent pairs, drawn from generators seeded from seed, so it is deterministic; its own
// relative spread is about that of one value divided by 2. metric is, e.g.,
//
//	func(a, b [][]float64) (float64, error) { return metrics.MMD(a, b, 0) }
func Floor(d Sampler, n int, seed uint64, metric func(a, b [][]float64) (float64, error)) (float64, error) {
	if d == nil {
		return 0, fmt.Errorf("sampler d is nil: pass a distribution (e.g. from toy.Preset)")
	}
	if metric == nil {
		return 0, fmt.Errorf("metric is nil: pass a function such as metrics.EnergyDistance")
	}
	if n < 1 {
		return 0, fmt.Errorf("n is %d: use a sample size of at least 1", n)
	}
	total := 0.0
	for rep := range uint64(floorRepeats) {
		r := toy.NewRand(seed ^ (rep+1)*0x9e3779b97f4a7c15)
		a := d.Sample(r, n)
		b := d.Sample(r, n)
		v, err := metric(a, b)
		if err != nil {
			return 0, fmt.Errorf("floor sample pair %d: %w", rep, err)
		}
		total += v
	}
	return total / floorRepeats, nil
}

// SW2Floor is Floor for SlicedW2 with the given number of projections: the typical sliced
// Wasserstein-2 distance, in the units of the points, between two independent samples of size
// n of d. It shrinks like 1/√n for a unimodal d, and more slowly (about n^(−1/4)) when mass
// must move between distant modes, as the share of each mode fluctuates by O(1/√n). The
// projections come from seed as well.
func SW2Floor(d Sampler, n, projections int, seed uint64) (float64, error) {
	if projections < 1 {
		return 0, fmt.Errorf("projections is %d: use at least 1 (e.g. metrics.DefaultProjections = %d)", projections, DefaultProjections)
	}
	return Floor(d, n, seed, func(a, b [][]float64) (float64, error) {
		return SlicedW2(a, b, projections, seed)
	})
}
