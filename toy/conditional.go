package toy

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Conditional returns the law of the free coordinates given x[known[i]] = values[i]: again a
// Gaussian mixture, with component k becoming N(μ_f + Σ_fk Σ_kk⁻¹(v − μ_k), Σ_ff − Σ_fk Σ_kk⁻¹ Σ_kf)
// and weight ∝ w_k N(v; μ_k, Σ_kk); components whose weight underflows to 0 are dropped, and
// diagonal components stay diagonal. Its dimension is Dim − len(known), coordinates in increasing order.
func (m *Mixture) Conditional(known []int, values []float64) (*Mixture, error) {
	d := m.Dim()
	if len(known) != len(values) || len(known) == 0 || len(known) >= d {
		return nil, fmt.Errorf("conditional: %d known coordinates with %d values in dimension %d: give 1 to %d of each", len(known), len(values), d, d-1)
	}
	isKnown := map[int]bool{}
	for _, k := range known {
		if k < 0 || k >= d || isKnown[k] {
			return nil, fmt.Errorf("conditional: known coordinate %d is out of range or repeated (dimension %d)", k, d)
		}
		isKnown[k] = true
	}
	var free []int
	for i := range d {
		if !isKnown[i] {
			free = append(free, i)
		}
	}
	sort.Ints(free)
	nk, nf := len(known), len(free)
	var weights []float64
	var means [][]float64
	var covs []covariance
	logw := make([]float64, m.K())
	for c := range m.weights {
		if m.diagonal(c) {
			// Independent coordinates: the free ones keep their means and variances.
			quad, logdet := 0.0, 0.0
			for i, a := range known {
				y := values[i] - m.means[c][a]
				quad += y * y / m.eigval[c][a]
				logdet += math.Log(m.eigval[c][a])
			}
			logw[c] = math.Log(m.weights[c]) - 0.5*(quad+logdet+float64(nk)*math.Log(2*math.Pi))
			mu, v := make([]float64, nf), make([]float64, nf)
			for i, a := range free {
				mu[i], v[i] = m.means[c][a], m.eigval[c][a]
			}
			means = append(means, mu)
			covs = append(covs, covariance{diag: v})
			continue
		}
		skk := mat.NewSymDense(nk, nil)
		for i, a := range known {
			for j, b := range known {
				skk.SetSym(i, j, m.covAt(c, a, b))
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(skk) {
			return nil, fmt.Errorf("conditional: component %d's covariance of the known coordinates is singular", c)
		}
		diff := mat.NewVecDense(nk, nil)
		for i, a := range known {
			diff.SetVec(i, values[i]-m.means[c][a])
		}
		var sol mat.VecDense // Σ_kk⁻¹ (v − μ_k)
		if err := chol.SolveVecTo(&sol, diff); err != nil {
			return nil, err
		}
		quad := mat.Dot(diff, &sol)
		logw[c] = math.Log(m.weights[c]) - 0.5*(quad+chol.LogDet()+float64(nk)*math.Log(2*math.Pi))
		sfk := mat.NewDense(nf, nk, nil)
		for i, a := range free {
			for j, b := range known {
				sfk.Set(i, j, m.covAt(c, a, b))
			}
		}
		mu := make([]float64, nf)
		for i, a := range free {
			mu[i] = m.means[c][a]
			for j := range nk {
				mu[i] += sfk.At(i, j) * sol.AtVec(j)
			}
		}
		var x mat.Dense // Σ_kk⁻¹ Σ_kf
		if err := chol.SolveTo(&x, sfk.T()); err != nil {
			return nil, err
		}
		cov := make([][]float64, nf)
		for i, a := range free {
			cov[i] = make([]float64, nf)
			for j, b := range free {
				v := m.covAt(c, a, b)
				for l := range nk {
					v -= sfk.At(i, l) * x.At(l, j)
				}
				cov[i][j] = v
			}
		}
		for i := range nf { // symmetrize rounding
			for j := i + 1; j < nf; j++ {
				avg := 0.5 * (cov[i][j] + cov[j][i])
				cov[i][j], cov[j][i] = avg, avg
			}
		}
		means = append(means, mu)
		covs = append(covs, covariance{full: cov})
	}
	// Components whose weight underflows to 0 carry no mass given the values: drop them.
	lse := logSumExp(logw)
	var keptMeans [][]float64
	var keptCovs []covariance
	for c, l := range logw {
		if w := math.Exp(l - lse); w > 0 {
			weights = append(weights, w)
			keptMeans = append(keptMeans, means[c])
			keptCovs = append(keptCovs, covs[c])
		}
	}
	out, err := newMixture(weights, keptMeans, keptCovs)
	if err != nil {
		return nil, fmt.Errorf("conditional: %w", err)
	}
	return out.WithName(fmt.Sprintf("%s | x%v=%v", m.name, known, values)), nil
}
