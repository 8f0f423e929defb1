package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// medianSubsample is the most points the median heuristic looks at.
const medianSubsample = 2000

// medianSeed seeds the subsample of the median heuristic, so that MMD is deterministic.
const medianSeed = 0x6d656469616e

// MMD is the maximum mean discrepancy between the point sets a [n][d] and b [m][d] with the
// RBF kernel k(x, y) = exp(−‖x−y‖²/(2h²)). It returns MMD itself, not its square: the square
// root of the biased V-statistic
//
//	MMD² = (1/n²) Σ_ij k(a_i, a_j) + (1/m²) Σ_ij k(b_i, b_j) − (2/(n·m)) Σ_ij k(a_i, b_j),
//
// which is the exact MMD between the two empirical distributions: it is ≥ 0, 0 for identical
// sets (up to rounding, about 1e-8), symmetric, and unitless, in [0, √2]. Between two
// independent samples of one distribution it is of order 1/√n (see Floor).
//
// bandwidth is h, in the units of the points; when bandwidth ≤ 0, h is the median heuristic
// MedianBandwidth(a, b). Cost: O((n+m)²·d), parallel over rows (about a second for
// n = m = 10,000 in 2-D on two cores).
func MMD(a, b [][]float64, bandwidth float64) (float64, error) {
	if math.IsNaN(bandwidth) || math.IsInf(bandwidth, 0) {
		return 0, fmt.Errorf("bandwidth is %v: use a finite value (≤ 0 for the median heuristic)", bandwidth)
	}
	fa, fb, d, err := checkPair("a", a, "b", b)
	if err != nil {
		return 0, err
	}
	n, m := len(a), len(b)
	if bandwidth <= 0 {
		bandwidth = medianBandwidth(fa, n, fb, m, d)
	}
	return mmd(fa, n, fb, m, d, bandwidth), nil
}

// MedianBandwidth is the median heuristic for the RBF bandwidth of MMD, in the units of the
// points: the median distance between distinct pairs of points of the pooled sample a [n][d]
// ∪ b [m][d]. When n + m exceeds 2,000, the median is taken over a fixed-seed random
// subsample of 2,000 points, drawn from a and b in proportion to their sizes (so the result is
// deterministic and symmetric in a and b). If that median is 0 (mostly repeated points), the
// largest pairwise distance is used instead, and 1 if all points coincide.
func MedianBandwidth(a, b [][]float64) (float64, error) {
	fa, fb, d, err := checkPair("a", a, "b", b)
	if err != nil {
		return 0, err
	}
	return medianBandwidth(fa, len(a), fb, len(b), d), nil
}

// EnergyDistance is Székely's energy distance between the point sets a [n][d] and b [m][d],
//
//	E = 2·E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖,
//
// the quantity that is the square of a metric between distributions (some authors call its
// square root the energy distance). The expectations are the means over all pairs, including
// i = j (the V-statistic), so E is the exact value between the two empirical distributions: it
// is ≥ 0, 0 for identical sets (up to rounding), symmetric, and in the units of the points.
// Between two independent samples of one distribution it is of order 1/n. Cost: O((n+m)²·d),
// parallel over rows.
func EnergyDistance(a, b [][]float64) (float64, error) {
	fa, fb, d, err := checkPair("a", a, "b", b)
	if err != nil {
		return 0, err
	}
	return energy(fa, len(a), fb, len(b), d), nil
}

// mmd is MMD on checked, flat inputs.
func mmd(a []float64, n int, b []float64, m int, d int, h float64) float64 {
	c := 1 / (2 * h * h)
	kaa := 2*pairSum(a, n, a, n, d, c, true, true) + float64(n) // k(x, x) = 1 on the diagonal
	kbb := 2*pairSum(b, m, b, m, d, c, true, true) + float64(m)
	kab := pairSum(a, n, b, m, d, c, true, false)
	fn, fm := float64(n), float64(m)
	v := kaa/(fn*fn) + kbb/(fm*fm) - 2*kab/(fn*fm)
	return math.Sqrt(max(v, 0))
}

// energy is EnergyDistance on checked, flat inputs.
func energy(a []float64, n int, b []float64, m int, d int) float64 {
	daa := 2 * pairSum(a, n, a, n, d, 0, false, true)
	dbb := 2 * pairSum(b, m, b, m, d, 0, false, true)
	dab := pairSum(a, n, b, m, d, 0, false, false)
	fn, fm := float64(n), float64(m)
	return max(2*dab/(fn*fm)-daa/(fn*fn)-dbb/(fm*fm), 0)
}

// pairSum is Σ_i Σ_j f(x_i, y_j) over the rows of x [n·d] and y [m·d], where f is the RBF
// kernel exp(−c·‖x−y‖²) when rbf, else the distance ‖x−y‖. With upper (x = y), only the pairs
// j > i are summed. Rows are spread over the CPUs; the row sums are added in row order.
func pairSum(x []float64, n int, y []float64, m int, d int, c float64, rbf, upper bool) float64 {
	rows := make([]float64, n)
	work := float64(n) * float64(m) * float64(d)
	if upper {
		work /= 2
	}
	parallelFor(n, 16, work, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			start := 0
			if upper {
				start = i + 1
			}
			rows[i] = rowSum(x[i*d:(i+1)*d], y[start*d:m*d], d, c, rbf)
		}
	})
	return sum(rows)
}

// rowSum is Σ_j f(p, y_j) over the rows of y [·d] (see pairSum).
func rowSum(p, y []float64, d int, c float64, rbf bool) float64 {
	s := 0.0
	switch {
	case d == 2 && rbf:
		p0, p1 := p[0], p[1]
		for j := 0; j+1 < len(y); j += 2 {
			dx, dy := p0-y[j], p1-y[j+1]
			s += math.Exp(-c * (dx*dx + dy*dy))
		}
	case d == 2:
		p0, p1 := p[0], p[1]
		for j := 0; j+1 < len(y); j += 2 {
			dx, dy := p0-y[j], p1-y[j+1]
			s += math.Sqrt(dx*dx + dy*dy)
		}
	case d == 1 && rbf:
		p0 := p[0]
		for _, v := range y {
			dx := p0 - v
			s += math.Exp(-c * dx * dx)
		}
	case d == 1:
		p0 := p[0]
		for _, v := range y {
			s += math.Abs(p0 - v)
		}
	default:
		for j := 0; j+d <= len(y); j += d {
			q := y[j : j+d]
			sq := 0.0
			for k, v := range p {
				dk := v - q[k]
				sq += dk * dk
			}
			if rbf {
				s += math.Exp(-c * sq)
			} else {
				s += math.Sqrt(sq)
			}
		}
	}
	return s
}

// medianBandwidth is MedianBandwidth on checked, flat inputs.
func medianBandwidth(a []float64, n int, b []float64, m int, d int) float64 {
	var pts []float64
	if n+m <= medianSubsample {
		pts = append(append(make([]float64, 0, (n+m)*d), a...), b...)
	} else {
		// Each set contributes a quota proportional to its size, drawn with a generator that
		// depends only on that set's size, so swapping a and b pools the same points.
		pick := func(x []float64, size int) {
			q := medianSubsample * size / (n + m)
			r := rand.New(rand.NewPCG(medianSeed, uint64(size)))
			for _, i := range r.Perm(size)[:q] {
				pts = append(pts, x[i*d:(i+1)*d]...)
			}
		}
		pts = make([]float64, 0, medianSubsample*d)
		pick(a, n)
		pick(b, m)
	}
	k := len(pts) / d
	if k < 2 {
		return 1
	}
	sq := make([]float64, 0, k*(k-1)/2)
	for i := range k {
		p := pts[i*d : (i+1)*d]
		for j := i + 1; j < k; j++ {
			q := pts[j*d : (j+1)*d]
			s := 0.0
			for t, v := range p {
				dt := v - q[t]
				s += dt * dt
			}
			sq = append(sq, s)
		}
	}
	med := median(sq)
	if med > 0 {
		return math.Sqrt(med)
	}
	mx := 0.0
	for _, v := range sq {
		mx = max(mx, v)
	}
	if mx > 0 {
		return math.Sqrt(mx)
	}
	return 1
}

// median is the median of x (the mean of the two middle values for an even count), found by
// selection in O(len(x)); x is reordered.
func median(x []float64) float64 {
	n := len(x)
	hi := selectKth(x, n/2)
	if n%2 == 1 {
		return hi
	}
	// After selection, x[:n/2] holds the n/2 smallest values: the lower middle is their maximum.
	lo := x[0]
	for _, v := range x[1 : n/2] {
		lo = max(lo, v)
	}
	return (lo + hi) / 2
}

// selectKth reorders x so that x[k] is the value it would have if x were sorted, x[:k] ≤ x[k]
// and x[k+1:] ≥ x[k], and returns x[k]. It uses three-way partitioning (fast with many equal
// values) around pivots drawn from a fixed-seed generator.
func selectKth(x []float64, k int) float64 {
	r := rand.New(rand.NewPCG(medianSeed, 1))
	lo, hi := 0, len(x) // the k-th value lies in x[lo:hi]
	for hi-lo > 1 {
		pivot := x[lo+r.IntN(hi-lo)]
		// Partition x[lo:hi] into < pivot, = pivot, > pivot.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch v := x[i]; {
			case v < pivot:
				x[lt], x[i] = x[i], x[lt]
				lt++
				i++
			case v > pivot:
				gt--
				x[gt], x[i] = x[i], x[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return pivot
		}
	}
	return x[k]
}
