package fd

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Stats returns the mean μ [d] and the unbiased sample covariance C [d, d] (divisor n − 1, as
// numpy.cov) of features [n][d]. It needs n ≥ 2 rows of equal length d ≥ 1.
func Stats(features [][]float64) (mu []float64, cov *mat.SymDense, err error) {
	n := len(features)
	if n < 2 {
		return nil, nil, fmt.Errorf("fd: %d feature vectors: a covariance needs at least 2", n)
	}
	d := len(features[0])
	if d == 0 {
		return nil, nil, fmt.Errorf("fd: feature vectors of dimension 0")
	}
	mu = make([]float64, d)
	for i, f := range features {
		if len(f) != d {
			return nil, nil, fmt.Errorf("fd: feature vector %d has %d values, want %d", i, len(f), d)
		}
		for j, v := range f {
			mu[j] += v
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	centered := mat.NewDense(n, d, nil)
	for i, f := range features {
		for j, v := range f {
			centered.Set(i, j, v-mu[j])
		}
	}
	cov = mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), centered.T())
	return mu, cov, nil
}

// FrechetDistance returns the squared Fréchet (2-Wasserstein) distance between the Gaussians
// N(μ1, C1) and N(μ2, C2):
//
//	‖μ1 − μ2‖² + tr(C1 + C2 − 2 (C1 C2)^{1/2}),
//
// in squared feature units. The trace of (C1 C2)^{1/2} is computed as that of the symmetric
// positive semi-definite (C1^{1/2} C2 C1^{1/2})^{1/2}, which has the same eigenvalues, through
// two symmetric eigendecompositions; eigenvalues below zero from rounding are clipped to zero.
// The means must have the length d of the d×d covariances. Small negative results from rounding
// are returned as 0.
func FrechetDistance(mu1 []float64, cov1 mat.Symmetric, mu2 []float64, cov2 mat.Symmetric) (float64, error) {
	d := len(mu1)
	if d == 0 || len(mu2) != d || cov1.SymmetricDim() != d || cov2.SymmetricDim() != d {
		return 0, fmt.Errorf("fd: mismatched statistics: means of length %d and %d, covariances %d×%d and %d×%d",
			len(mu1), len(mu2), cov1.SymmetricDim(), cov1.SymmetricDim(), cov2.SymmetricDim(), cov2.SymmetricDim())
	}
	dist := 0.0
	for i := range mu1 {
		dist += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i])
	}
	for i := 0; i < d; i++ {
		dist += cov1.At(i, i) + cov2.At(i, i)
	}
	s1, err := sqrtPSD(cov1)
	if err != nil {
		return 0, err
	}
	var m mat.Dense
	m.Product(s1, cov2, s1)
	inner := symmetrize(&m)
	var eig mat.EigenSym
	if !eig.Factorize(inner, false) {
		return 0, fmt.Errorf("fd: eigendecomposition of C1^½ C2 C1^½ did not converge: check the statistics for NaN or huge values")
	}
	tr := 0.0
	for _, l := range eig.Values(nil) {
		if l > 0 {
			tr += math.Sqrt(l)
		}
	}
	dist -= 2 * tr
	if math.IsNaN(dist) || math.IsInf(dist, 0) {
		return 0, fmt.Errorf("fd: the Fréchet distance is %v: check the statistics for NaN or huge values", dist)
	}
	return max(dist, 0), nil
}

// sqrtPSD returns the symmetric square root V diag(√max(λ, 0)) Vᵀ of the symmetric matrix a.
func sqrtPSD(a mat.Symmetric) (*mat.SymDense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		return nil, fmt.Errorf("fd: eigendecomposition of a covariance did not converge: check the features for NaN or huge values")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, l := range vals {
		s := math.Sqrt(max(l, 0))
		for i := 0; i < d; i++ {
			scaled.Set(i, j, vecs.At(i, j)*s)
		}
	}
	var out mat.Dense
	out.Mul(scaled, vecs.T())
	return symmetrize(&out), nil
}

// symmetrize returns (a + aᵀ)/2 of the square matrix a.
func symmetrize(a *mat.Dense) *mat.SymDense {
	d, _ := a.Dims()
	s := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			s.SetSym(i, j, (a.At(i, j)+a.At(j, i))/2)
		}
	}
	return s
}
