package metrics

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/toy"
)

// ncsn is the preset 0.8·N((5,5), I) + 0.2·N((−5,−5), I).
func ncsn(t testing.TB) *toy.Mixture {
	t.Helper()
	d, err := toy.Preset("ncsn")
	if err != nil {
		t.Fatal(err)
	}
	return d.(*toy.Mixture)
}

// gaussian is N(mean, I) as a one-component mixture.
func gaussian(t testing.TB, mean []float64) *toy.Mixture {
	t.Helper()
	d := len(mean)
	cov := make([][]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
		cov[i][i] = 1
	}
	m, err := toy.NewMixture([]float64{1}, [][]float64{mean}, [][][]float64{cov})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func shift(x [][]float64, delta []float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, p := range x {
		out[i] = make([]float64, len(p))
		for k := range p {
			out[i][k] = p[k] + delta[k]
		}
	}
	return out
}

func TestIdenticalSetsGiveZero(t *testing.T) {
	for _, d := range []int{1, 2, 3} {
		a := gaussian(t, make([]float64, d)).Sample(toy.NewRand(1), 700)
		b := slices.Clone(a)
		sw, err := SlicedW2(a, b, 64, 3)
		if err != nil {
			t.Fatal(err)
		}
		if sw != 0 {
			t.Errorf("d=%d: SlicedW2(a, a) = %g, want exactly 0", d, sw)
		}
		// MMD² of identical sets is 0 up to rounding of sums of O(1) terms (~1e-16); MMD is its
		// square root, so up to ~1e-8.
		mm, err := MMD(a, b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if mm > 1e-7 {
			t.Errorf("d=%d: MMD(a, a) = %g, want 0 (up to rounding, 1e-7)", d, mm)
		}
		// Energy: sums of distances of order 1, rounding ~1e-15.
		e, err := EnergyDistance(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if e > 1e-12 {
			t.Errorf("d=%d: EnergyDistance(a, a) = %g, want 0 (up to rounding, 1e-12)", d, e)
		}
	}
}

func TestSymmetric(t *testing.T) {
	m := ncsn(t)
	for _, sizes := range [][2]int{{300, 450}, {1500, 1200}} { // the second pools > 2,000 points
		a := m.Sample(toy.NewRand(1), sizes[0])
		b := shift(m.Sample(toy.NewRand(2), sizes[1]), []float64{0.3, -0.2})
		sab, _ := SlicedW2(a, b, 100, 7)
		sba, _ := SlicedW2(b, a, 100, 7)
		if sab != sba || sab == 0 {
			t.Errorf("sizes %v: SlicedW2(a, b) = %v, SlicedW2(b, a) = %v: want equal (and > 0)", sizes, sab, sba)
		}
		hab, _ := MedianBandwidth(a, b)
		hba, _ := MedianBandwidth(b, a)
		if hab != hba {
			t.Errorf("sizes %v: MedianBandwidth(a, b) = %v, (b, a) = %v: want equal", sizes, hab, hba)
		}
		// MMD and energy add the cross term in a different order when swapped: equal up to
		// rounding (relative 1e-12).
		mab, _ := MMD(a, b, 0)
		mba, _ := MMD(b, a, 0)
		if math.Abs(mab-mba) > 1e-12*mab || mab == 0 {
			t.Errorf("sizes %v: MMD(a, b) = %v, MMD(b, a) = %v: want equal", sizes, mab, mba)
		}
		eab, _ := EnergyDistance(a, b)
		eba, _ := EnergyDistance(b, a)
		if math.Abs(eab-eba) > 1e-12*eab || eab == 0 {
			t.Errorf("sizes %v: EnergyDistance(a, b) = %v, (b, a) = %v: want equal", sizes, eab, eba)
		}
	}
}

func TestSlicedW2Deterministic(t *testing.T) {
	m := ncsn(t)
	a, b := m.Sample(toy.NewRand(1), 400), m.Sample(toy.NewRand(2), 300)
	v1, _ := SlicedW2(a, b, 50, 11)
	v2, _ := SlicedW2(a, b, 50, 11)
	v3, _ := SlicedW2(a, b, 50, 12)
	if v1 != v2 {
		t.Errorf("same seed gave %v and %v", v1, v2)
	}
	if v1 == v3 {
		t.Errorf("seeds 11 and 12 gave the same value %v: the directions should differ", v1)
	}
}

// TestW2SortedExact checks the merge against the quantile integral evaluated at the midpoints
// of the n·m cells of the common refinement, where both quantile functions are constant.
func TestW2SortedExact(t *testing.T) {
	if got := w2Sorted([]float64{0}, []float64{0, 1}); got != 0.5 {
		t.Errorf("W2²({0}, {0,1}) = %v, want 0.5", got)
	}
	r := toy.NewRand(5)
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 4}, {6, 9}, {10, 10}, {13, 1}} {
		x, y := make([]float64, sz[0]), make([]float64, sz[1])
		for i := range x {
			x[i] = r.NormFloat64()
		}
		for i := range y {
			y[i] = 2 + 3*r.NormFloat64()
		}
		slices.Sort(x)
		slices.Sort(y)
		n, m := len(x), len(y)
		want := 0.0
		for c := range n * m {
			u := (float64(c) + 0.5) / float64(n*m)
			d := x[int(u*float64(n))] - y[int(u*float64(m))]
			want += d * d
		}
		want /= float64(n * m)
		got := w2Sorted(x, y)
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("sizes %v: w2Sorted = %v, quantile integral = %v", sz, got, want)
		}
		if back := w2Sorted(y, x); back != got {
			t.Errorf("sizes %v: w2Sorted not symmetric: %v vs %v", sz, got, back)
		}
	}
}

func TestSlicedW2ShiftedGaussians1D(t *testing.T) {
	// In 1-D the only directions are ±1, so SW2 = W2(N(0,1), N(μ,1)) = |μ|. With n = 20,000
	// points each, the sample means differ from 0 and μ by sqrt(2/n) = 0.01 (one standard
	// error of the difference), the dominant error; the tolerance is 4 of those.
	const n, mu = 20000, 2.0
	a := gaussian(t, []float64{0}).Sample(toy.NewRand(1), n)
	b := gaussian(t, []float64{mu}).Sample(toy.NewRand(2), n)
	got, err := SlicedW2(a, b, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1-D SW2 = %.4f, want %g", got, mu)
	if math.Abs(got-mu) > 4*math.Sqrt(2.0/n) {
		t.Errorf("SW2(N(0,1), N(%g,1)) = %.4f, want %g ± %.3f", mu, got, mu, 4*math.Sqrt(2.0/n))
	}
}

func TestSlicedW2ShiftedGaussiansND(t *testing.T) {
	// Between N(0, I) and N(μ·e1, I) in d dims, W2²(θᵀa, θᵀb) = (θ·μe1)² = μ²θ1², and
	// E_θ[θ1²] = 1/d on the unit sphere, so SW2 = μ/√d = 2 for μ = 4, d = 4.
	// Errors, relative to SW2² = μ²/d:
	//   - directions: θ1² has standard deviation sqrt(2(d−1)/(d²(d+2))) = 1/4 around 1/4, so
	//     with L = 4,000 the mean has relative error (1/4)/(1/4)/√L = 1.6%;
	//   - samples: the mean difference is off by sqrt(2/n) = 0.032 per coordinate (n = 2,000),
	//     moving μ² by 2μ·0.032, a relative 1.6%.
	// Together 2.2% on SW2², 1.1% on SW2; the tolerance is 3.5 of those, 4% of 2 = 0.08.
	const n, d, mu, L = 2000, 4, 4.0, 4000
	mean := make([]float64, d)
	a := gaussian(t, mean).Sample(toy.NewRand(1), n)
	mean[0] = mu
	b := gaussian(t, mean).Sample(toy.NewRand(2), n)
	got, err := SlicedW2(a, b, L, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := mu / math.Sqrt(d)
	t.Logf("%d-D SW2 = %.4f, want %g", d, got, want)
	if math.Abs(got-want) > 0.04*want {
		t.Errorf("SW2(N(0,I), N(%g·e1,I)) in %d-D = %.4f, want μ/√d = %g ± 4%%", mu, d, got, want)
	}
}

func TestSW2FloorShrinks(t *testing.T) {
	// For a Gaussian the sliced W2 between two samples shrinks like 1/√n: 16× the points should
	// divide the floor by about 4; asking for at least 2 leaves room for the spread of the 4
	// pairs averaged. For ncsn, mass moves between modes 10√2 apart, the fraction moved
	// shrinks like 1/√n and W2 like its square root, n^(−1/4): 16× the points about halve it,
	// and asking for 1.4 leaves room.
	g := gaussian(t, []float64{0, 0})
	small, err := SW2Floor(g, 500, 128, 1)
	if err != nil {
		t.Fatal(err)
	}
	large, err := SW2Floor(g, 8000, 128, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("N(0,I): SW2 floor n=500: %.4f, n=8000: %.4f", small, large)
	if !(small < 0.15 && large < small/2) {
		t.Errorf("N(0,I): SW2 floor n=500: %.4f, n=8000: %.4f: want < 0.15 and shrinking at least 2×", small, large)
	}
	m := ncsn(t)
	small, _ = SW2Floor(m, 500, 128, 1)
	large, _ = SW2Floor(m, 8000, 128, 1)
	t.Logf("ncsn: SW2 floor n=500: %.4f, n=8000: %.4f", small, large)
	if !(small < 2 && large < small/1.4) {
		t.Errorf("ncsn: SW2 floor n=500: %.4f, n=8000: %.4f: want < 2 and shrinking at least 1.4×", small, large)
	}
}

func TestShiftIsDetected(t *testing.T) {
	// Two independent ncsn samples of 1,000 differ by MMD ~ 1/√n ≈ 0.03 and energy ~ 1/n;
	// shifting one by 0.5 (half a component standard deviation) must stand far above that.
	m := ncsn(t)
	ref := m.Sample(toy.NewRand(1), 1000)
	same := m.Sample(toy.NewRand(2), 1000)
	shifted := shift(m.Sample(toy.NewRand(3), 1000), []float64{0.5, 0})
	m0, _ := MMD(same, ref, 0)
	m1, _ := MMD(shifted, ref, 0)
	e0, _ := EnergyDistance(same, ref)
	e1, _ := EnergyDistance(shifted, ref)
	s0, _ := SlicedW2(same, ref, 128, 1)
	s1, _ := SlicedW2(shifted, ref, 128, 1)
	t.Logf("same: MMD %.4f energy %.5f SW2 %.4f; shifted: MMD %.4f energy %.5f SW2 %.4f", m0, e0, s0, m1, e1, s1)
	if !(m1 > 2*m0) {
		t.Errorf("MMD: shifted %.4f, same %.4f: want shifted > 2× same", m1, m0)
	}
	if !(e1 > 2*e0) {
		t.Errorf("energy: shifted %.5f, same %.5f: want shifted > 2× same", e1, e0)
	}
	if !(s1 > s0) {
		t.Errorf("SW2: shifted %.4f, same %.4f: want shifted > same", s1, s0)
	}
}

// naive computes MMD (bandwidth h) and energy by the definitions, pair by pair.
func naive(a, b [][]float64, h float64) (mmd, energy float64) {
	dist := func(x, y []float64) float64 {
		s := 0.0
		for k := range x {
			s += (x[k] - y[k]) * (x[k] - y[k])
		}
		return math.Sqrt(s)
	}
	mean := func(x, y [][]float64, f func(float64) float64) float64 {
		s := 0.0
		for _, p := range x {
			for _, q := range y {
				s += f(dist(p, q))
			}
		}
		return s / float64(len(x)*len(y))
	}
	k := func(r float64) float64 { return math.Exp(-r * r / (2 * h * h)) }
	id := func(r float64) float64 { return r }
	mmd = math.Sqrt(max(0, mean(a, a, k)+mean(b, b, k)-2*mean(a, b, k)))
	energy = 2*mean(a, b, id) - mean(a, a, id) - mean(b, b, id)
	return mmd, energy
}

func TestAgainstDefinitions(t *testing.T) {
	// Exact small cases: one point each, at distance 1.
	m, _ := MMD([][]float64{{0}}, [][]float64{{1}}, 1)
	if want := math.Sqrt(2 - 2*math.Exp(-0.5)); math.Abs(m-want) > 1e-15 {
		t.Errorf("MMD({0}, {1}, h=1) = %v, want %v", m, want)
	}
	if e, _ := EnergyDistance([][]float64{{0}}, [][]float64{{1}}); e != 2 {
		t.Errorf("EnergyDistance({0}, {1}) = %v, want 2", e)
	}
	// Every code path (d = 1, 2 and general) against the pairwise definitions (large enough to
	// run in parallel); the sums agree up to rounding.
	for _, d := range []int{1, 2, 3} {
		mean := make([]float64, d)
		a := gaussian(t, mean).Sample(toy.NewRand(1), 400)
		mean[0] = 0.7
		b := gaussian(t, mean).Sample(toy.NewRand(2), 350)
		h, _ := MedianBandwidth(a, b)
		wantM, wantE := naive(a, b, h)
		gotM, _ := MMD(a, b, 0)
		gotE, _ := EnergyDistance(a, b)
		if math.Abs(gotM-wantM) > 1e-10*wantM || math.Abs(gotE-wantE) > 1e-10*wantE {
			t.Errorf("d=%d: MMD %v, energy %v; definitions give %v, %v", d, gotM, gotE, wantM, wantE)
		}
		// The median heuristic against a sort of all pooled pairwise distances (750 points).
		pool := append(slices.Clone(a), b...)
		var dists []float64
		for i := range pool {
			for j := i + 1; j < len(pool); j++ {
				s := 0.0
				for k := range d {
					s += (pool[i][k] - pool[j][k]) * (pool[i][k] - pool[j][k])
				}
				dists = append(dists, math.Sqrt(s))
			}
		}
		slices.Sort(dists)
		nd := len(dists)
		wantH := dists[nd/2]
		if nd%2 == 0 {
			wantH = (dists[nd/2-1] + dists[nd/2]) / 2
		}
		if math.Abs(h-wantH) > 1e-12*wantH {
			t.Errorf("d=%d: MedianBandwidth = %v, sorted pairwise distances give %v", d, h, wantH)
		}
	}
}

func TestMedian(t *testing.T) {
	r := toy.NewRand(3)
	for _, n := range []int{1, 2, 3, 10, 101, 1000} {
		for _, distinct := range []int{2, 1000000} { // many ties, then few
			x := make([]float64, n)
			for i := range x {
				x[i] = float64(r.IntN(distinct))
			}
			s := slices.Clone(x)
			slices.Sort(s)
			want := s[n/2]
			if n%2 == 0 {
				want = (s[n/2-1] + s[n/2]) / 2
			}
			if got := median(x); got != want {
				t.Errorf("n=%d, %d distinct: median %v, want %v", n, distinct, got, want)
			}
		}
	}
	// Coinciding points fall back to bandwidth 1.
	if h, _ := MedianBandwidth([][]float64{{1, 1}, {1, 1}}, [][]float64{{1, 1}}); h != 1 {
		t.Errorf("MedianBandwidth of coinciding points = %v, want 1", h)
	}
}

func TestModeWeights(t *testing.T) {
	m := ncsn(t)
	const n = 2000
	w, err := ModeWeights(m, m.Sample(toy.NewRand(1), n))
	if err != nil {
		t.Fatal(err)
	}
	// The components are 10√2 apart with unit variance, so misassignment is negligible and w[0]
	// is a binomial fraction: standard error sqrt(0.8·0.2/2000) ≈ 0.009, 3 of them ≈ 0.03.
	if len(w) != 2 || math.Abs(w[0]-0.8) > 0.03 || math.Abs(w[0]+w[1]-1) > 1e-12 {
		t.Errorf("ModeWeights(ncsn samples) = %v, want [0.8 0.2] ± 0.03", w)
	}
	e, _ := ModeWeightError(m, m.Sample(toy.NewRand(1), n))
	if math.Abs(e-math.Abs(w[0]-0.8)) > 1e-12 {
		t.Errorf("ModeWeightError = %v, want |%v − 0.8|", e, w[0])
	}
	// Samples of one component: crossing the decision boundary takes ~7 standard deviations.
	for k, want := range [][]float64{{1, 0}, {0, 1}} {
		x := m.Component(k).Sample(toy.NewRand(2), n)
		w, _ := ModeWeights(m, x)
		if !slices.Equal(w, want) {
			t.Errorf("ModeWeights(component %d samples) = %v, want %v", k, w, want)
		}
		e, _ := ModeWeightError(m, x)
		if math.Abs(e-0.8) > 1e-12 && k == 1 || math.Abs(e-0.2) > 1e-12 && k == 0 {
			t.Errorf("ModeWeightError(component %d samples) = %v", k, e)
		}
	}
}

func TestEvaluate(t *testing.T) {
	m := ncsn(t)
	x, ref := m.Sample(toy.NewRand(1), 1000), m.Sample(toy.NewRand(2), 1500)
	r, err := Evaluate(x, ref, m, 9)
	if err != nil {
		t.Fatal(err)
	}
	sw, _ := SlicedW2(x, ref, DefaultProjections, 9)
	mm, _ := MMD(x, ref, 0)
	e, _ := EnergyDistance(x, ref)
	w, _ := ModeWeights(m, x)
	we, _ := ModeWeightError(m, x)
	if r.N != 1000 || r.RefN != 1500 || r.SW2 != sw || r.MMD != mm || r.Energy != e ||
		!slices.Equal(r.ModeWeights, w) || r.ModeWeightError != we || !slices.Equal(r.Weights, []float64{0.8, 0.2}) {
		t.Errorf("Evaluate = %+v, want the single metrics %v %v %v %v %v", r, sw, mm, e, w, we)
	}
	s := r.String()
	t.Log(s)
	for _, part := range []string{"n=1000", "ref=1500", "SW2=", "MMD=", "energy=", "modes=[0.", "max err"} {
		if !strings.Contains(s, part) || strings.Contains(s, "\n") {
			t.Errorf("String() = %q: want one line with %q", s, part)
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil || back.SW2 != r.SW2 || !slices.Equal(back.ModeWeights, r.ModeWeights) {
		t.Errorf("JSON round trip: %s gave %+v (%v)", js, back, err)
	}
	if !strings.Contains(string(js), `"sw2":`) || !strings.Contains(string(js), `"mode_weights":`) {
		t.Errorf("JSON %s: want keys sw2 and mode_weights", js)
	}

	r, err = Evaluate(x, ref, nil, 9)
	if err != nil {
		t.Fatal(err)
	}
	js, _ = json.Marshal(r)
	if r.ModeWeights != nil || strings.Contains(r.String(), "modes") || strings.Contains(string(js), "mode") {
		t.Errorf("without a mixture: %s, JSON %s: want no mode weights", r, js)
	}
}

func TestFinite(t *testing.T) {
	x := [][]float64{{1, 2}, {math.NaN(), 0}, {3, math.Inf(-1)}, {4, 5}}
	kept, dropped := Finite(x)
	if dropped != 2 || len(kept) != 2 || kept[0][0] != 1 || kept[1][0] != 4 {
		t.Errorf("Finite = %v, %d; want [[1 2] [4 5]], 2", kept, dropped)
	}
}

func TestErrors(t *testing.T) {
	m := ncsn(t)
	ok := [][]float64{{0, 0}, {1, 1}}
	nan := [][]float64{{0, 0}, {1, math.NaN()}}
	inf := [][]float64{{math.Inf(1), 0}}
	ragged := [][]float64{{0, 0}, {1}}
	threeD := [][]float64{{0, 0, 0}}
	sw := func(a, b [][]float64) error { _, err := SlicedW2(a, b, 8, 1); return err }
	mmd := func(a, b [][]float64) error { _, err := MMD(a, b, 0); return err }
	en := func(a, b [][]float64) error { _, err := EnergyDistance(a, b); return err }
	bw := func(a, b [][]float64) error { _, err := MedianBandwidth(a, b); return err }
	ev := func(a, b [][]float64) error { _, err := Evaluate(a, b, nil, 1); return err }
	for name, f := range map[string]func(a, b [][]float64) error{"SlicedW2": sw, "MMD": mmd, "EnergyDistance": en, "MedianBandwidth": bw, "Evaluate": ev} {
		aName, bName := "a", "b"
		if name == "Evaluate" {
			aName, bName = "samples", "reference"
		}
		for _, c := range []struct {
			a, b [][]float64
			want string
		}{
			{nil, ok, aName + " is empty"},
			{ok, [][]float64{}, bName + " is empty"},
			{[][]float64{{}}, ok, aName + "[0] has no coordinates"},
			{ok, threeD, bName + " has dimension 3 but " + aName + " has dimension 2"},
			{ragged, ok, aName + "[1] has 1 coordinates, want 2"},
			{ok, nan, bName + "[1][1] is NaN"},
			{inf, ok, aName + "[0][0] is +Inf"},
		} {
			err := f(c.a, c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
			}
		}
	}
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", what, err, want)
		}
	}
	_, err := SlicedW2(ok, ok, 0, 1)
	check("SlicedW2 projections 0", err, "projections is 0")
	_, err = MMD(ok, ok, math.NaN())
	check("MMD bandwidth NaN", err, "bandwidth is NaN")
	_, err = ModeWeights(nil, ok)
	check("ModeWeights nil mixture", err, "mixture m is nil")
	_, err = ModeWeights(m, threeD)
	check("ModeWeights 3-D samples", err, "samples have dimension 3 but mixture m has dimension 2")
	_, err = ModeWeightError(m, nan)
	check("ModeWeightError NaN", err, "samples[1][1] is NaN")
	_, err = ModeWeights(m, nil)
	check("ModeWeights empty", err, "samples is empty")
	_, err = Evaluate(threeD, threeD, m, 1)
	check("Evaluate mixture dimension", err, "mixture m has dimension 2 but samples have dimension 3")
	_, err = SW2Floor(m, 0, 8, 1)
	check("SW2Floor n 0", err, "n is 0")
	_, err = SW2Floor(m, 10, -1, 1)
	check("SW2Floor projections", err, "projections is -1")
	_, err = Floor(nil, 10, 1, EnergyDistance)
	check("Floor nil sampler", err, "sampler d is nil")
	_, err = Floor(m, 10, 1, nil)
	check("Floor nil metric", err, "metric is nil")
}
