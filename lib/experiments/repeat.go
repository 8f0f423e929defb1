package experiments

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/toy"
)

// Repeats sets how many points each run draws and how many independent runs every table cell
// averages over. Every run of every cell has its own sampler seed and its own fresh reference
// sample from the mixture, all derived from Seed, so cells are independent of each other and a
// table is reproducible whatever Workers is (ODETolerance shares a run's latent and reference
// across its tolerances on purpose).
type Repeats struct {
	// Samples is the number of points each run draws, scored against as many fresh data points
	// (default 1000).
	Samples int
	// Seeds is the number of independent runs per cell (default 5, as the paper's tables).
	Seeds int
	// Seed is the base seed every run's sampler and reference seeds derive from (default 1).
	Seed int64
	// Projections is the number of directions of the sliced Wasserstein distance (0 selects
	// metrics.DefaultProjections).
	Projections int
	// Workers is the number of runs executed at once (0 selects GOMAXPROCS). A PC run on a toy
	// is bound by per-step latency more than by arithmetic, so a few at once fill the cores.
	Workers int
	// Progress, when set, is called after each finished run with the runs done and the total.
	Progress func(done, total int)
}

// DefaultRepeats returns 1000 points per run, 5 seeds, base seed 1.
func DefaultRepeats() Repeats { return Repeats{Samples: 1000, Seeds: 5, Seed: 1} }

// validate reports a bad setting, naming it and the fix.
func (r Repeats) validate() error {
	if r.Samples < 2 {
		return fmt.Errorf("samples=%d: use at least 2 points per run (default 1000)", r.Samples)
	}
	if r.Seeds < 1 {
		return fmt.Errorf("seeds=%d: use at least 1 run per cell (5 or more to see the spread)", r.Seeds)
	}
	if r.Projections < 0 {
		return fmt.Errorf("projections=%d: use ≥ 1, or 0 for metrics.DefaultProjections", r.Projections)
	}
	return nil
}

func (r Repeats) projections() int {
	if r.Projections == 0 {
		return metrics.DefaultProjections
	}
	return r.Projections
}

// Purposes of a derived seed, so that no two draws of a table share a random stream.
const (
	seedSampler uint64 = iota + 1
	seedReference
	seedFloor
)

// runSeed derives the seed for a purpose, cell and run from the base seed (splitmix64 steps).
func runSeed(base int64, purpose uint64, cell, run int) uint64 {
	h := uint64(base)
	for _, v := range []uint64{purpose, uint64(cell), uint64(run)} {
		h += v + 0x9e3779b97f4a7c15
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// forEach calls job(i) for i in [0, total) on r's workers and returns the error of the lowest
// failing i, if any.
func (r Repeats) forEach(total int, job func(i int) error) error {
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, total))
	errs := make([]error, total)
	next, done := 0, 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= total {
					return
				}
				errs[i] = job(i)
				mu.Lock()
				done++
				if r.Progress != nil {
					r.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// score is one run's SW2 to a fresh reference sample and its mode-weight error; a run with
// non-finite points scores +Inf and 1 (diverged).
func (r Repeats) score(m *toy.Mixture, pts [][]float64, cell, run int) (sw2, modeErr float64, err error) {
	pts, dropped := metrics.Finite(pts)
	if dropped > 0 || len(pts) == 0 {
		return math.Inf(1), 1, nil
	}
	seed := runSeed(r.Seed, seedReference, cell, run)
	ref := m.Sample(toy.NewRand(seed), len(pts))
	if sw2, err = metrics.SlicedW2(pts, ref, r.projections(), seed); err != nil {
		return 0, 0, fmt.Errorf("SW2: %w", err)
	}
	if modeErr, err = metrics.ModeWeightError(m, pts); err != nil {
		return 0, 0, fmt.Errorf("mode weights: %w", err)
	}
	return sw2, modeErr, nil
}

// floor returns, over r.Seeds independent runs, the SW2 between two independent data samples of
// r.Samples points and the mode-weight error of one of them: what a perfect sampler scores.
func (r Repeats) floor(m *toy.Mixture) (sw2, modeErr Stat, err error) {
	sws, mes := make([]float64, r.Seeds), make([]float64, r.Seeds)
	for k := range r.Seeds {
		seed := runSeed(r.Seed, seedFloor, 0, k)
		rng := toy.NewRand(seed)
		a, b := m.Sample(rng, r.Samples), m.Sample(rng, r.Samples)
		if sws[k], err = metrics.SlicedW2(a, b, r.projections(), seed); err != nil {
			return Stat{}, Stat{}, fmt.Errorf("floor run %d: %w", k, err)
		}
		if mes[k], err = metrics.ModeWeightError(m, a); err != nil {
			return Stat{}, Stat{}, fmt.Errorf("floor run %d: %w", k, err)
		}
	}
	return Summarize(sws), Summarize(mes), nil
}
