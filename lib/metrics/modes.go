package metrics

import (
	"fmt"

	"github.com/scoresde/scoresde/toy"
)

// ModeWeights assigns each of the samples [n][d] to its most probable component of the
// mixture m, argmax_k p(k | x) (ties go to the lower k), and returns the fraction of samples
// per component, [K], summing to 1. For samples drawn from m it tends to m.Weights(), with a
// standard error of sqrt(w_k(1−w_k)/n) per component when the components barely overlap.
func ModeWeights(m *toy.Mixture, samples [][]float64) ([]float64, error) {
	fs, d, err := checkMixture(m, samples)
	if err != nil {
		return nil, err
	}
	return modeWeights(m, fs, len(samples), d), nil
}

// ModeWeightError is max_k |ModeWeights(m, samples)[k] − w_k| over the components of the
// mixture m with weights w [K]: a fraction in [0, 1], 0 when the samples share their mass
// between the modes exactly as m does.
func ModeWeightError(m *toy.Mixture, samples [][]float64) (float64, error) {
	mw, err := ModeWeights(m, samples)
	if err != nil {
		return 0, err
	}
	return maxAbsDiff(mw, m.Weights()), nil
}

func checkMixture(m *toy.Mixture, samples [][]float64) ([]float64, int, error) {
	if m == nil {
		return nil, 0, fmt.Errorf("mixture m is nil: pass a *toy.Mixture (e.g. from toy.Preset or toy.LoadMixture)")
	}
	fs, d, err := flatten("samples", samples)
	if err != nil {
		return nil, 0, err
	}
	if d != m.Dim() {
		return nil, 0, fmt.Errorf("samples have dimension %d but mixture m has dimension %d: pass samples of the mixture's dimension", d, m.Dim())
	}
	return fs, d, nil
}

// modeWeights is ModeWeights on checked, flat samples [n·d].
func modeWeights(m *toy.Mixture, x []float64, n, d int) []float64 {
	label := make([]int, n)
	parallelFor(n, 256, float64(n)*float64(m.K()*d*d), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			post := m.Posterior(x[i*d : (i+1)*d])
			best := 0
			for k, p := range post {
				if p > post[best] {
					best = k
				}
			}
			label[i] = best
		}
	})
	w := make([]float64, m.K())
	for _, k := range label {
		w[k]++
	}
	for k := range w {
		w[k] /= float64(n)
	}
	return w
}
