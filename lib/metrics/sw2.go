package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/scoresde/scoresde/toy"
)

// SlicedW2 is the sliced Wasserstein-2 distance between the point sets a [n][d] and b [m][d],
// in the units of the points:
//
//	SW2 = sqrt( (1/L) Σ_l W2²(θ_lᵀa, θ_lᵀb) )
//
// over L = projections unit directions θ_l drawn uniformly on the sphere from seed (the same
// seed and d give the same directions, hence the same value). The 1-D W2² between the
// empirical distributions of the projections, of sizes n and m, is computed exactly as the
// quantile-function integral ∫₀¹ (F_a⁻¹(u) − F_b⁻¹(u))² du, by merging the two sorted samples.
// For two shifted Gaussians N(μ_a, I) and N(μ_b, I) it tends to |μ_a − μ_b|/√d. Cost:
// O(L·(n+m)·(d + log(n+m))), parallel over directions. It is symmetric in a and b.
func SlicedW2(a, b [][]float64, projections int, seed uint64) (float64, error) {
	if projections < 1 {
		return 0, fmt.Errorf("projections is %d: use at least 1 (e.g. metrics.DefaultProjections = %d)", projections, DefaultProjections)
	}
	fa, fb, d, err := checkPair("a", a, "b", b)
	if err != nil {
		return 0, err
	}
	return slicedW2(fa, len(a), fb, len(b), d, projections, seed), nil
}

// directions draws l unit vectors of dimension d (flat [l·d]) from seed.
func directions(l, d int, seed uint64) []float64 {
	r := toy.NewRand(seed)
	dirs := make([]float64, l*d)
	for i := range l {
		th := dirs[i*d : (i+1)*d]
		for {
			norm := 0.0
			for k := range th {
				th[k] = r.NormFloat64()
				norm += th[k] * th[k]
			}
			if norm > 1e-300 {
				norm = math.Sqrt(norm)
				for k := range th {
					th[k] /= norm
				}
				break
			}
		}
	}
	return dirs
}

// slicedW2 is SlicedW2 on checked, flat inputs a [n·d], b [m·d].
func slicedW2(a []float64, n int, b []float64, m int, d, projections int, seed uint64) float64 {
	dirs := directions(projections, d, seed)
	w2 := make([]float64, projections)
	work := float64(projections) * float64(n+m) * (float64(d) + math.Log2(float64(n+m)))
	parallelFor(projections, 1, work, func(lo, hi int) {
		pa, pb := make([]float64, n), make([]float64, m)
		for l := lo; l < hi; l++ {
			th := dirs[l*d : (l+1)*d]
			project(a, d, th, pa)
			project(b, d, th, pb)
			slices.Sort(pa)
			slices.Sort(pb)
			w2[l] = w2Sorted(pa, pb)
		}
	})
	return math.Sqrt(sum(w2) / float64(projections))
}

// project sets out[i] = θ·x_i for the rows of x [len(out)·d].
func project(x []float64, d int, th, out []float64) {
	switch d {
	case 1:
		for i := range out {
			out[i] = th[0] * x[i]
		}
	case 2:
		t0, t1 := th[0], th[1]
		for i := range out {
			out[i] = t0*x[2*i] + t1*x[2*i+1]
		}
	default:
		for i := range out {
			row := x[i*d : (i+1)*d]
			s := 0.0
			for k, v := range row {
				s += th[k] * v
			}
			out[i] = s
		}
	}
}

// w2Sorted is the exact W2² between the empirical distributions of the sorted samples x [n]
// and y [m] (uniform weights 1/n and 1/m): the quantile functions are step functions with
// breaks at i/n and j/m, and the integral of their squared difference is a sum over the merged
// breaks. Positions are counted in integer units of 1/(n·m), so the merge is exact, and the
// result is symmetric in x and y to the bit.
func w2Sorted(x, y []float64) float64 {
	n, m := len(x), len(y)
	nm, mm := int64(n), int64(m)
	var prev int64
	i, j := 0, 0
	total := 0.0
	for i < n && j < m {
		pa, pb := int64(i+1)*mm, int64(j+1)*nm
		next := min(pa, pb)
		diff := x[i] - y[j]
		total += float64(next-prev) * diff * diff
		prev = next
		if pa == next {
			i++
		}
		if pb == next {
			j++
		}
	}
	return total / (float64(n) * float64(m))
}
