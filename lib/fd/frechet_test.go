package fd

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// TestFrechetDiagonal: for diagonal covariances the distance is ‖μ1−μ2‖² + Σ(√a−√b)².
func TestFrechetDiagonal(t *testing.T) {
	a := []float64{1, 4, 0.25, 9, 2}
	b := []float64{4, 1, 1, 0.5, 2}
	mu1 := []float64{0, 1, 2, 3, 4}
	mu2 := []float64{1, 1, 0, 3, 5}
	want := 1.0 + 0 + 4 + 0 + 1
	for i := range a {
		want += (math.Sqrt(a[i]) - math.Sqrt(b[i])) * (math.Sqrt(a[i]) - math.Sqrt(b[i]))
	}
	got, err := FrechetDistance(mu1, diag(a), mu2, diag(b))
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, want, 1e-12) {
		t.Errorf("diagonal: got %.15g, want %.15g", got, want)
	}
	// The same covariances rotated by one orthogonal matrix commute and keep the distance.
	q := randomOrthogonal(len(a), 7)
	got, err = FrechetDistance(mu1, rotate(q, a), mu2, rotate(q, b))
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, want, 1e-10) {
		t.Errorf("rotated diagonal: got %.15g, want %.15g", got, want)
	}
}

// TestFrechetOneDimensional: in 1-D the distance is (m1−m2)² + (s1−s2)².
func TestFrechetOneDimensional(t *testing.T) {
	got, err := FrechetDistance([]float64{0.5}, diag([]float64{9}), []float64{-1.5}, diag([]float64{0.25}))
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 + (3-0.5)*(3-0.5); !near(got, want, 1e-13) {
		t.Errorf("1-D: got %.15g, want %.15g", got, want)
	}
}

// TestFrechetNonCommuting checks two 2×2 covariances that do not commute against the closed form
// tr √M = √(tr M + 2√det M) for a 2×2 matrix M = C1 C2 with non-negative eigenvalues.
func TestFrechetNonCommuting(t *testing.T) {
	c1 := mat.NewSymDense(2, []float64{2, 0.9, 0.9, 1})
	c2 := mat.NewSymDense(2, []float64{0.5, -0.3, -0.3, 3})
	var m mat.Dense
	m.Mul(c1, c2)
	trM := m.At(0, 0) + m.At(1, 1)
	detM := mat.Det(&m)
	want := 2 + 1 + 0.5 + 3 - 2*math.Sqrt(trM+2*math.Sqrt(detM))
	mu := []float64{0, 0}
	got, err := FrechetDistance(mu, c1, mu, c2)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, want, 1e-12) {
		t.Errorf("non-commuting 2×2: got %.15g, want %.15g", got, want)
	}
	rev, _ := FrechetDistance(mu, c2, mu, c1)
	if !near(rev, got, 1e-12) {
		t.Errorf("not symmetric: %.15g vs %.15g", got, rev)
	}
}

// TestFrechetIdentical: identical statistics give 0, also for a rank-deficient covariance.
func TestFrechetIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	feats := make([][]float64, 40) // 40 points in 64-D: the covariance has rank ≤ 39
	for i := range feats {
		feats[i] = make([]float64, 64)
		for j := range feats[i] {
			feats[i][j] = r.NormFloat64() * float64(1+j%5)
		}
	}
	mu, cov, err := Stats(feats)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FrechetDistance(mu, cov, mu, cov)
	if err != nil {
		t.Fatal(err)
	}
	tr := 0.0
	for i := range 64 {
		tr += cov.At(i, i)
	}
	if got > 1e-6*tr {
		t.Errorf("identical statistics: distance %g, want ≈ 0 (trace %g)", got, tr)
	}
}

func TestFrechetErrors(t *testing.T) {
	if _, err := FrechetDistance([]float64{0, 0}, diag([]float64{1, 1}), []float64{0}, diag([]float64{1})); err == nil {
		t.Error("mismatched dimensions: no error")
	}
	if _, err := FrechetDistance([]float64{math.NaN()}, diag([]float64{1}), []float64{0}, diag([]float64{1})); err == nil {
		t.Error("NaN mean: no error")
	}
	if _, _, err := Stats([][]float64{{1, 2}}); err == nil {
		t.Error("Stats of one vector: no error")
	}
	if _, _, err := Stats([][]float64{{1, 2}, {3}}); err == nil {
		t.Error("Stats of ragged vectors: no error")
	}
}

// TestStats compares the mean and the unbiased covariance with hand-computed values.
func TestStats(t *testing.T) {
	mu, cov, err := Stats([][]float64{{1, 2}, {3, 6}, {5, 4}})
	if err != nil {
		t.Fatal(err)
	}
	// Centered rows: (−2, −2), (0, 2), (2, 0); divisor n − 1 = 2.
	want := [][]float64{{4, 2}, {2, 4}}
	if mu[0] != 3 || mu[1] != 4 {
		t.Errorf("mean %v, want [3 4]", mu)
	}
	for i := range 2 {
		for j := range 2 {
			if !near(cov.At(i, j), want[i][j], 1e-14) {
				t.Errorf("cov[%d][%d] = %g, want %g", i, j, cov.At(i, j), want[i][j])
			}
		}
	}
}

func diag(v []float64) *mat.SymDense {
	s := mat.NewSymDense(len(v), nil)
	for i, x := range v {
		s.SetSym(i, i, x)
	}
	return s
}

// randomOrthogonal returns the Q factor of a random Gaussian d×d matrix.
func randomOrthogonal(d int, seed uint64) *mat.Dense {
	r := rand.New(rand.NewPCG(seed, 1))
	a := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			a.Set(i, j, r.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// rotate returns Q diag(v) Qᵀ.
func rotate(q *mat.Dense, v []float64) *mat.SymDense {
	var m mat.Dense
	m.Product(q, diag(v), q.T())
	return symmetrize(&m)
}
