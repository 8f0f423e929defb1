// Package metrics compares point sets [n][d] (host-side [][]float64): generated samples against
// reference data, or against a Gaussian mixture of package toy whose component weights are
// known.
//
//   - SlicedW2: the sliced Wasserstein-2 distance, in the units of the points.
//   - MMD: the maximum mean discrepancy with an RBF kernel (unitless, in [0, √2]).
//   - EnergyDistance: Székely's energy distance 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖, in the units of
//     the points.
//   - ModeWeights, ModeWeightError: how a sampler shares its mass between mixture components.
//   - Floor, SW2Floor: the value a metric takes between two independent samples of the same
//     distribution, the noise floor against which a sampler's value is judged.
//   - Evaluate: all of them at once, as a Report.
//
// Every function checks its input and returns an error naming the argument and the fix for
// empty sets, points of different dimensions and non-finite coordinates (Finite drops the
// latter). Results are deterministic: the random projections of SlicedW2 come from a seed, and
// the parallel sums are combined in a fixed order, so the same input always gives the same bits.
package metrics

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scoresde/scoresde/toy"
)

// DefaultProjections is the number of random directions Evaluate and SW2 floors use for the
// sliced Wasserstein distance.
const DefaultProjections = 256

// Report bundles the metrics of one sample set against a reference sample and, when a mixture
// is known, its mode weights. The JSON field names are given in the tags.
type Report struct {
	// N is the number of samples and RefN the number of reference points.
	N    int `json:"n"`
	RefN int `json:"ref_n"`
	// SW2 is SlicedW2(samples, reference) with DefaultProjections directions, in the units of
	// the points.
	SW2 float64 `json:"sw2"`
	// MMD is MMD(samples, reference) with the median-heuristic bandwidth (unitless).
	MMD float64 `json:"mmd"`
	// Bandwidth is the RBF bandwidth h used by MMD, in the units of the points.
	Bandwidth float64 `json:"mmd_bandwidth"`
	// Energy is EnergyDistance(samples, reference), in the units of the points.
	Energy float64 `json:"energy"`
	// ModeWeights is the fraction of samples assigned to each mixture component, [K]; nil
	// without a mixture.
	ModeWeights []float64 `json:"mode_weights,omitempty"`
	// Weights is the mixture's component weights, [K]; nil without a mixture.
	Weights []float64 `json:"weights,omitempty"`
	// ModeWeightError is max_k |ModeWeights[k] − Weights[k]|; 0 (and left out of JSON) without
	// a mixture.
	ModeWeightError float64 `json:"mode_weight_error,omitempty"`
}

// String is a one-line summary, e.g.
// "n=2000 ref=2000 SW2=0.0412 MMD=0.0135 (h=5.21) energy=0.00118 modes=[0.803 0.197] (max err 0.003)".
func (r *Report) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "n=%d ref=%d SW2=%.3g MMD=%.3g (h=%.3g) energy=%.3g", r.N, r.RefN, r.SW2, r.MMD, r.Bandwidth, r.Energy)
	if len(r.ModeWeights) > 0 {
		sb.WriteString(" modes=[")
		for k, w := range r.ModeWeights {
			if k > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%.3f", w)
		}
		fmt.Fprintf(&sb, "] (max err %.3f)", r.ModeWeightError)
	}
	return sb.String()
}

// Evaluate compares samples [n][d] with reference [m][d]: SlicedW2 (DefaultProjections
// directions drawn from seed), MMD (median-heuristic bandwidth) and EnergyDistance; when m is
// not nil, also ModeWeights and ModeWeightError of samples under the mixture m (of dimension d).
func Evaluate(samples, reference [][]float64, m *toy.Mixture, seed uint64) (*Report, error) {
	fs, fr, d, err := checkPair("samples", samples, "reference", reference)
	if err != nil {
		return nil, err
	}
	n, nr := len(samples), len(reference)
	r := &Report{N: n, RefN: nr}
	r.SW2 = slicedW2(fs, n, fr, nr, d, DefaultProjections, seed)
	r.Bandwidth = medianBandwidth(fs, n, fr, nr, d)
	r.MMD = mmd(fs, n, fr, nr, d, r.Bandwidth)
	r.Energy = energy(fs, n, fr, nr, d)
	if m != nil {
		if m.Dim() != d {
			return nil, fmt.Errorf("mixture m has dimension %d but samples have dimension %d: pass the mixture the samples were drawn for, or nil", m.Dim(), d)
		}
		r.ModeWeights = modeWeights(m, fs, n, d)
		r.Weights = m.Weights()
		r.ModeWeightError = maxAbsDiff(r.ModeWeights, r.Weights)
	}
	return r, nil
}

// Finite returns the points of x [n][d] whose coordinates are all finite (neither NaN nor ±Inf),
// in their order, and how many were dropped, so that the metrics can score a sampler that
// diverged on a few points (report the dropped count alongside). The kept rows are shared
// with x, not copied.
func Finite(x [][]float64) (kept [][]float64, dropped int) {
	kept = make([][]float64, 0, len(x))
	for _, p := range x {
		ok := true
		for _, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, p)
		} else {
			dropped++
		}
	}
	return kept, dropped
}

// flatten checks x [n][d] (non-empty, d ≥ 1, every row of length d, finite) and returns a
// row-major copy [n·d] and d. name is the argument's name in error messages.
func flatten(name string, x [][]float64) ([]float64, int, error) {
	if len(x) == 0 {
		return nil, 0, fmt.Errorf("%s is empty: give at least one point", name)
	}
	d := len(x[0])
	if d == 0 {
		return nil, 0, fmt.Errorf("%s[0] has no coordinates: give points with at least one coordinate", name)
	}
	flat := make([]float64, 0, len(x)*d)
	for i, p := range x {
		if len(p) != d {
			return nil, 0, fmt.Errorf("%s[%d] has %d coordinates, want %d (the dimension of %s[0]): give points of one dimension", name, i, len(p), d, name)
		}
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, 0, fmt.Errorf("%s[%d][%d] is %v: use finite coordinates (metrics.Finite drops the points that are not)", name, i, j, v)
			}
		}
		flat = append(flat, p...)
	}
	return flat, d, nil
}

// checkPair flattens a and b and checks that they have the same dimension.
func checkPair(aName string, a [][]float64, bName string, b [][]float64) (fa, fb []float64, d int, err error) {
	fa, d, err = flatten(aName, a)
	if err != nil {
		return nil, nil, 0, err
	}
	fb, db, err := flatten(bName, b)
	if err != nil {
		return nil, nil, 0, err
	}
	if db != d {
		return nil, nil, 0, fmt.Errorf("%s has dimension %d but %s has dimension %d: compare point sets of the same dimension", bName, db, aName, d)
	}
	return fa, fb, d, nil
}

func maxAbsDiff(a, b []float64) float64 {
	mx := 0.0
	for k := range a {
		mx = math.Max(mx, math.Abs(a[k]-b[k]))
	}
	return mx
}

// parallelFor calls f(lo, hi) on consecutive chunks of [0, n), handed out dynamically to
// runtime.NumCPU() goroutines (uneven chunks, such as the rows of a triangle, balance
// themselves). work is the total cost in inner-loop steps: small jobs run on the caller's
// goroutine.
func parallelFor(n, chunk int, work float64, f func(lo, hi int)) {
	workers := min(runtime.NumCPU(), (n+chunk-1)/chunk)
	if workers <= 1 || work < 1e5 {
		f(0, n)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				f(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}

// sum adds x in order (the order is fixed so results do not depend on scheduling).
func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}
