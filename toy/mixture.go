// Package toy holds toy distributions for score-based modeling: Gaussian mixtures in any
// dimension, whose density, score and posterior component probabilities are known exactly
// under every SDE of lib/sde, and sample-only 2-D shapes (moons, swiss roll, rings,
// checkerboard) for learned scores.
//
// Under an SDE with kernel p_0t(x_t | x_0) = N(m(t)·x_0, s(t)²·I), each mixture component
// N(μ_k, Σ_k) becomes N(m(t)·μ_k, m(t)²·Σ_k + s(t)²·I), so the perturbed marginal p_t is again a
// mixture (Mixture.Perturb). The exact score ∇x log p_t(x) is also available as a GoMLX graph
// function (Mixture.ScoreFn), so samplers consume it exactly as they consume a network.
package toy

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Distribution is anything that draws points of dimension Dim.
type Distribution interface {
	// Name is the preset name or a short description.
	Name() string
	// Dim is the dimension of a point.
	Dim() int
	// Sample draws n points, shaped [n][Dim], using r.
	Sample(r *rand.Rand, n int) [][]float64
}

// Mixture is a Gaussian mixture Σ_k w_k·N(μ_k, Σ_k) in dimension d.
// Build it with NewMixture (or ParseSpec, Preset), which validates it and caches the eigen
// decomposition Σ_k = U_k·diag(λ_k)·U_kᵀ used for densities, scores and sampling.
type Mixture struct {
	name    string
	weights []float64     // [K], sum 1
	means   [][]float64   // [K][d]
	covs    [][][]float64 // [K][d][d]
	eigval  [][]float64   // [K][d], λ_k > 0
	eigvec  [][][]float64 // [K][d][d], columns are eigenvectors: U_k[i][j] = (u_j)_i
}

// NewMixture validates and builds a mixture from weights [K], means [K][d] and full covariance
// matrices [K][d][d]. Errors name the bad field and the fix.
func NewMixture(weights []float64, means [][]float64, covs [][][]float64) (*Mixture, error) {
	k := len(weights)
	if k == 0 {
		return nil, fmt.Errorf("weights is empty: give at least one component")
	}
	if len(means) != k {
		return nil, fmt.Errorf("means has %d entries but weights has %d: give one mean per component", len(means), k)
	}
	if len(covs) != k {
		return nil, fmt.Errorf("covs has %d entries but weights has %d: give one covariance per component", len(covs), k)
	}
	sum := 0.0
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("weights[%d] is %v: use a finite number", i, w)
		}
		if w < 0 {
			return nil, fmt.Errorf("weights[%d] is %g: weights must be ≥ 0", i, w)
		}
		sum += w
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, fmt.Errorf("weights sum to %g, want 1: divide each weight by %g", sum, sum)
	}
	d := len(means[0])
	if d == 0 {
		return nil, fmt.Errorf("means[0] is empty: give a point with at least one coordinate")
	}
	m := &Mixture{name: "mixture", weights: append([]float64(nil), weights...)}
	for i, mu := range means {
		if len(mu) != d {
			return nil, fmt.Errorf("means[%d] has %d values, want %d (the dimension of means[0])", i, len(mu), d)
		}
		for j, v := range mu {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("means[%d][%d] is %v: use a finite number", i, j, v)
			}
		}
		m.means = append(m.means, append([]float64(nil), mu...))
	}
	for i, c := range covs {
		if len(c) != d {
			return nil, fmt.Errorf("covs[%d] has %d rows, want %d (the dimension)", i, len(c), d)
		}
		sym := mat.NewSymDense(d, nil)
		cc := make([][]float64, d)
		for r := range d {
			if len(c[r]) != d {
				return nil, fmt.Errorf("covs[%d][%d] has %d values, want %d (a %d×%d matrix)", i, r, len(c[r]), d, d, d)
			}
			for col := range d {
				v := c[r][col]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("covs[%d][%d][%d] is %v: use a finite number", i, r, col, v)
				}
				if math.Abs(v-c[col][r]) > 1e-9*math.Max(1, math.Abs(v)) {
					return nil, fmt.Errorf("covs[%d] is not symmetric ([%d][%d]=%g, [%d][%d]=%g): a covariance must equal its transpose", i, r, col, v, col, r, c[col][r])
				}
				sym.SetSym(r, col, v)
			}
			cc[r] = append([]float64(nil), c[r]...)
		}
		if isDiagonal(cc) {
			// Axis-aligned: U = I and λ = the diagonal, so scores need no rotation.
			vals := make([]float64, d)
			u := make([][]float64, d)
			for r := range d {
				vals[r] = cc[r][r]
				if !(vals[r] > 1e-12) {
					return nil, fmt.Errorf("covs[%d] is not positive definite (variance %g on the diagonal): use positive variances", i, vals[r])
				}
				u[r] = make([]float64, d)
				u[r][r] = 1
			}
			m.covs = append(m.covs, cc)
			m.eigval = append(m.eigval, vals)
			m.eigvec = append(m.eigvec, u)
			continue
		}
		var eig mat.EigenSym
		if !eig.Factorize(sym, true) {
			return nil, fmt.Errorf("covs[%d]: eigen decomposition failed: check the matrix", i)
		}
		vals := eig.Values(nil)
		for _, v := range vals {
			if !(v > 1e-12) {
				return nil, fmt.Errorf("covs[%d] is not positive definite (smallest eigenvalue %g): use a symmetric matrix with positive eigenvalues", i, v)
			}
		}
		var vecs mat.Dense
		eig.VectorsTo(&vecs)
		u := make([][]float64, d)
		for r := range d {
			u[r] = make([]float64, d)
			for col := range d {
				u[r][col] = vecs.At(r, col)
			}
		}
		m.covs = append(m.covs, cc)
		m.eigval = append(m.eigval, vals)
		m.eigvec = append(m.eigvec, u)
	}
	return m, nil
}

// Name is the preset name, or "mixture".
func (m *Mixture) Name() string { return m.name }

// WithName returns m renamed (a shallow copy).
func (m *Mixture) WithName(name string) *Mixture {
	c := *m
	c.name = name
	return &c
}

// Dim is the dimension d.
func (m *Mixture) Dim() int { return len(m.means[0]) }

// K is the number of components.
func (m *Mixture) K() int { return len(m.weights) }

// Weights returns a copy of the component weights [K].
func (m *Mixture) Weights() []float64 { return append([]float64(nil), m.weights...) }

// Means returns a copy of the component means [K][d].
func (m *Mixture) Means() [][]float64 { return copy2(m.means) }

// Covs returns a copy of the component covariances [K][d][d].
func (m *Mixture) Covs() [][][]float64 {
	out := make([][][]float64, len(m.covs))
	for i, c := range m.covs {
		out[i] = copy2(c)
	}
	return out
}

func copy2(a [][]float64) [][]float64 {
	out := make([][]float64, len(a))
	for i := range a {
		out[i] = append([]float64(nil), a[i]...)
	}
	return out
}

// Component returns component k alone as a one-component mixture.
func (m *Mixture) Component(k int) *Mixture {
	c := &Mixture{name: fmt.Sprintf("%s[%d]", m.name, k), weights: []float64{1},
		means: [][]float64{m.means[k]}, covs: [][][]float64{m.covs[k]},
		eigval: [][]float64{m.eigval[k]}, eigvec: [][][]float64{m.eigvec[k]}}
	return c
}

// Mean is the mixture mean Σ_k w_k μ_k, [d].
func (m *Mixture) Mean() []float64 {
	out := make([]float64, m.Dim())
	for k, w := range m.weights {
		for i, v := range m.means[k] {
			out[i] += w * v
		}
	}
	return out
}

// Cov is the mixture covariance Σ_k w_k(Σ_k + μ_kμ_kᵀ) − μμᵀ, [d][d].
func (m *Mixture) Cov() [][]float64 {
	d := m.Dim()
	mu := m.Mean()
	out := make([][]float64, d)
	for i := range d {
		out[i] = make([]float64, d)
		for j := range d {
			for k, w := range m.weights {
				out[i][j] += w * (m.covs[k][i][j] + m.means[k][i]*m.means[k][j])
			}
			out[i][j] -= mu[i] * mu[j]
		}
	}
	return out
}

// affine returns the law of a·x + √c·z for x ~ m and z ~ N(0, I): means a·μ_k and
// covariances a²·Σ_k + c·I (c ≥ 0).
func (m *Mixture) affine(a, c float64) *Mixture {
	out := &Mixture{name: m.name, weights: m.weights}
	d := m.Dim()
	for k := range m.weights {
		mu := make([]float64, d)
		for i, v := range m.means[k] {
			mu[i] = a * v
		}
		cov := make([][]float64, d)
		for i := range d {
			cov[i] = make([]float64, d)
			for j := range d {
				cov[i][j] = a * a * m.covs[k][i][j]
			}
			cov[i][i] += c
		}
		vals := make([]float64, d)
		for i, l := range m.eigval[k] {
			vals[i] = a*a*l + c
		}
		out.means = append(out.means, mu)
		out.covs = append(out.covs, cov)
		out.eigval = append(out.eigval, vals)
		out.eigvec = append(out.eigvec, m.eigvec[k])
	}
	return out
}

// Sample draws n points [n][d].
func (m *Mixture) Sample(r *rand.Rand, n int) [][]float64 {
	x, _ := m.SampleLabeled(r, n)
	return x
}

// SampleLabeled draws n points [n][d] and the component index of each.
func (m *Mixture) SampleLabeled(r *rand.Rand, n int) ([][]float64, []int) {
	d := m.Dim()
	xs := make([][]float64, n)
	labels := make([]int, n)
	z := make([]float64, d)
	for s := range n {
		u, k := r.Float64(), 0
		for acc := m.weights[0]; u > acc && k < m.K()-1; acc += m.weights[k] {
			k++
		}
		for i := range z {
			z[i] = r.NormFloat64() * math.Sqrt(m.eigval[k][i])
		}
		x := make([]float64, d)
		for i := range d {
			x[i] = m.means[k][i]
			for j := range d {
				x[i] += m.eigvec[k][i][j] * z[j]
			}
		}
		xs[s], labels[s] = x, k
	}
	return xs, labels
}

// componentLogits returns log w_k + log N(x; μ_k, Σ_k) for each k, and the whitened residuals
// v_k = U_k diag(1/λ_k) U_kᵀ (x − μ_k) = Σ_k⁻¹(x − μ_k) used by the score.
func (m *Mixture) componentLogits(x []float64) (logits []float64, prec [][]float64) {
	d := m.Dim()
	logits = make([]float64, m.K())
	prec = make([][]float64, m.K())
	proj := make([]float64, d)
	for k := range m.weights {
		quad, logdet := 0.0, 0.0
		for e := range d {
			p := 0.0
			for i := range d {
				p += (x[i] - m.means[k][i]) * m.eigvec[k][i][e]
			}
			proj[e] = p / m.eigval[k][e]
			quad += p * proj[e]
			logdet += math.Log(m.eigval[k][e])
		}
		logits[k] = math.Log(m.weights[k]) - 0.5*(quad+logdet+float64(d)*math.Log(2*math.Pi))
		v := make([]float64, d)
		for i := range d {
			for e := range d {
				v[i] += m.eigvec[k][i][e] * proj[e]
			}
		}
		prec[k] = v
	}
	return logits, prec
}

// logSumExp is log Σ exp(a_i), computed stably.
func logSumExp(a []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range a {
		mx = math.Max(mx, v)
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	s := 0.0
	for _, v := range a {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}

// LogProb is log p(x) in nats for one point x [d].
func (m *Mixture) LogProb(x []float64) float64 {
	l, _ := m.componentLogits(x)
	return logSumExp(l)
}

// Posterior is p(k | x) for each component, [K], summing to 1.
func (m *Mixture) Posterior(x []float64) []float64 {
	l, _ := m.componentLogits(x)
	lse := logSumExp(l)
	for k := range l {
		l[k] = math.Exp(l[k] - lse)
	}
	return l
}

// Score is ∇x log p(x) for one point x [d].
func (m *Mixture) Score(x []float64) []float64 {
	l, prec := m.componentLogits(x)
	lse := logSumExp(l)
	out := make([]float64, m.Dim())
	for k := range l {
		w := math.Exp(l[k] - lse)
		for i := range out {
			out[i] -= w * prec[k][i]
		}
	}
	return out
}

// isDiagonal reports whether a square matrix has zeros off the diagonal.
func isDiagonal(c [][]float64) bool {
	for i := range c {
		for j := range c[i] {
			if i != j && c[i][j] != 0 {
				return false
			}
		}
	}
	return true
}

// axisAligned reports whether every component has a diagonal covariance (U_k = I).
func (m *Mixture) axisAligned() bool {
	for _, c := range m.covs {
		if !isDiagonal(c) {
			return false
		}
	}
	return true
}

// Prob is the density p(x) for one point x [d].
func (m *Mixture) Prob(x []float64) float64 { return math.Exp(m.LogProb(x)) }
