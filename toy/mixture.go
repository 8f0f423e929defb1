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

// Bounds on a mixture, checked by NewMixture and ParseSpec. The exact score runs in float32 on
// accelerators (largest finite value ≈ 3.4e38); its largest terms are sums over the d coordinates
// of x²/v and μ²/v, with v ≥ MinVariance the variance of a component under the SDE. With
// |μ| ≤ MaxAbsMean, MinVariance ≤ λ ≤ MaxVariance and d ≤ MaxDim each sum stays below
// 1e12/1e-12·1e6 = 1e30, eight orders of magnitude inside float32's range (a mean of 1e20
// alone squares to 1e40, which is +Inf in float32 and turns the score into NaN). Data on a
// larger scale must be rescaled first.
const (
	// MaxDim is the largest dimension d (a 1024×1024 gray image).
	MaxDim = 1 << 20
	// MaxFullDim is the largest dimension of a full (non-diagonal) covariance matrix: it costs
	// d² numbers and an O(d³) eigendecomposition. Give larger covariances as diagonals or variances.
	MaxFullDim = 2048
	// MaxComponents is the largest number of components K.
	MaxComponents = 1 << 14
	// MaxAbsMean bounds every coordinate of every mean.
	MaxAbsMean = 1e6
	// MaxVariance bounds every variance and covariance eigenvalue (a standard deviation of 1e6).
	MaxVariance = 1e12
	// MinVariance is the smallest variance or covariance eigenvalue: below it a matrix counts as
	// singular.
	MinVariance = 1e-12
)

// Mixture is a Gaussian mixture Σ_k w_k·N(μ_k, Σ_k) in dimension d.
// Build it with NewMixture (or ParseSpec, Preset), which validates it. Diagonal (and isotropic)
// covariances are kept as their d variances, so densities, scores and sampling cost O(d) per
// point and component; a full covariance keeps its matrix and the eigen decomposition
// Σ_k = U_k·diag(λ_k)·U_kᵀ, costing O(d²).
type Mixture struct {
	name    string
	weights []float64     // [K], each > 0, sum 1
	means   [][]float64   // [K][d]
	eigval  [][]float64   // [K][d], λ_k > 0: the variances of a diagonal component
	covs    [][][]float64 // [K]: the d×d matrix of a full component; nil for a diagonal one
	eigvec  [][][]float64 // [K]: for a full component, columns are eigenvectors (U_k[i][j] = (u_j)_i); nil for a diagonal one (U_k = I)
}

// covariance is one component's covariance as given: exactly one of diag (d variances; a scalar
// variance is d copies) and full (a d×d matrix) is set.
type covariance struct {
	diag []float64
	full [][]float64
}

// NewMixture validates and builds a mixture from weights [K], means [K][d] and full covariance
// matrices [K][d][d] (diagonal matrices are stored as their diagonals). Errors name the bad
// field and the fix.
func NewMixture(weights []float64, means [][]float64, covs [][][]float64) (*Mixture, error) {
	cs := make([]covariance, len(covs))
	for i, c := range covs {
		cs[i] = covariance{full: c}
	}
	return newMixture(weights, means, cs)
}

// checkHead validates the weights and means and the number of covariances, and returns the dimension.
func checkHead(weights []float64, means [][]float64, ncovs int) (int, error) {
	k := len(weights)
	if k == 0 {
		return 0, fmt.Errorf("weights is empty: give at least one component")
	}
	if k > MaxComponents {
		return 0, fmt.Errorf("weights has %d components, more than the %d allowed: merge components", k, MaxComponents)
	}
	if len(means) != k {
		return 0, fmt.Errorf("means has %d entries but weights has %d: give one mean per component", len(means), k)
	}
	if ncovs != k {
		return 0, fmt.Errorf("covs has %d entries but weights has %d: give one covariance per component", ncovs, k)
	}
	sum := 0.0
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return 0, fmt.Errorf("weights[%d] is %v: use a finite number", i, w)
		}
		if w < 0 {
			return 0, fmt.Errorf("weights[%d] is %g: weights must be > 0", i, w)
		}
		if w == 0 {
			return 0, fmt.Errorf("weights[%d] is 0: weights must be > 0 (drop the component instead)", i)
		}
		sum += w
	}
	if math.Abs(sum-1) > 1e-6 {
		return 0, fmt.Errorf("weights sum to %g, want 1: divide each weight by %g", sum, sum)
	}
	d := len(means[0])
	if d == 0 {
		return 0, fmt.Errorf("means[0] is empty: give a point with at least one coordinate")
	}
	if d > MaxDim {
		return 0, fmt.Errorf("means[0] has %d coordinates, more than the %d allowed (MaxDim): reduce the dimension", d, MaxDim)
	}
	for i, mu := range means {
		if len(mu) != d {
			return 0, fmt.Errorf("means[%d] has %d values, want %d (the dimension of means[0])", i, len(mu), d)
		}
		for j, v := range mu {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("means[%d][%d] is %v: use a finite number", i, j, v)
			}
			if math.Abs(v) > MaxAbsMean {
				return 0, fmt.Errorf("means[%d][%d] is %g, beyond ±%g (the bound that keeps the float32 exact score finite): rescale the data", i, j, v, float64(MaxAbsMean))
			}
		}
	}
	return d, nil
}

// checkVariance validates one variance (or eigenvalue) v; what names it in the message.
func checkVariance(what string, v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%s is %v: use a finite number", what, v)
	case v <= 0:
		return fmt.Errorf("%s is %g: variances must be > 0", what, v)
	case v < MinVariance:
		return fmt.Errorf("%s is %g, below %g: the covariance is numerically singular; use a larger variance", what, v, float64(MinVariance))
	case v > MaxVariance:
		return fmt.Errorf("%s is %g, beyond %g (a standard deviation of 1e6, the bound that keeps the float32 exact score finite): rescale the data", what, v, float64(MaxVariance))
	}
	return nil
}

// newMixture validates and builds a mixture; diagonal covariances stay O(d).
func newMixture(weights []float64, means [][]float64, covs []covariance) (*Mixture, error) {
	d, err := checkHead(weights, means, len(covs))
	if err != nil {
		return nil, err
	}
	m := &Mixture{name: "mixture", weights: append([]float64(nil), weights...)}
	for _, mu := range means {
		m.means = append(m.means, append([]float64(nil), mu...))
	}
	for i, c := range covs {
		vals, full, vecs, err := checkCov(i, c, d)
		if err != nil {
			return nil, err
		}
		m.eigval = append(m.eigval, vals)
		m.covs = append(m.covs, full)
		m.eigvec = append(m.eigvec, vecs)
	}
	return m, nil
}

// checkCov validates covariance i of dimension d and returns its eigenvalues and, for a
// non-diagonal matrix, a copy of it and its eigenvectors.
func checkCov(i int, c covariance, d int) (vals []float64, full, vecs [][]float64, err error) {
	if c.full == nil {
		if len(c.diag) != d {
			return nil, nil, nil, fmt.Errorf("covs[%d]: diagonal has %d variances, want %d (the dimension of means[0])", i, len(c.diag), d)
		}
		for j, v := range c.diag {
			if err := checkVariance(fmt.Sprintf("covs[%d]: variance [%d]", i, j), v); err != nil {
				return nil, nil, nil, err
			}
		}
		return append([]float64(nil), c.diag...), nil, nil, nil
	}
	a := c.full
	if len(a) != d {
		return nil, nil, nil, fmt.Errorf("covs[%d] has %d rows, want %d (the dimension)", i, len(a), d)
	}
	for r := range d { // every row's length before any a[col][r]
		if len(a[r]) != d {
			return nil, nil, nil, fmt.Errorf("covs[%d][%d] has %d values, want %d (row %d of a %d×%d matrix)", i, r, len(a[r]), d, r, d, d)
		}
	}
	diagonal := true
	for r := range d {
		for col := range d {
			v := a[r][col]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, nil, fmt.Errorf("covs[%d][%d][%d] is %v: use a finite number", i, r, col, v)
			}
			if math.Abs(v-a[col][r]) > 1e-9*math.Max(1, math.Abs(v)) {
				return nil, nil, nil, fmt.Errorf("covs[%d] is not symmetric ([%d][%d]=%g, [%d][%d]=%g): a covariance must equal its transpose", i, r, col, v, col, r, a[col][r])
			}
			if r != col && v != 0 {
				diagonal = false
			}
		}
	}
	if diagonal {
		// Axis-aligned: U = I and λ = the diagonal, so scores need no rotation.
		vals = make([]float64, d)
		for r := range d {
			vals[r] = a[r][r]
			if !(vals[r] > 0) {
				return nil, nil, nil, fmt.Errorf("covs[%d] is not positive definite (variance %g on the diagonal): use positive variances", i, vals[r])
			}
			if err := checkVariance(fmt.Sprintf("covs[%d][%d][%d]", i, r, r), vals[r]); err != nil {
				return nil, nil, nil, err
			}
		}
		return vals, nil, nil, nil
	}
	if d > MaxFullDim {
		return nil, nil, nil, fmt.Errorf("covs[%d] is a full %d×%d matrix, beyond the %d×%d allowed (MaxFullDim): give a diagonal list or a scalar variance", i, d, d, MaxFullDim, MaxFullDim)
	}
	sym := mat.NewSymDense(d, nil)
	full = make([][]float64, d)
	for r := range d {
		for col := r; col < d; col++ {
			sym.SetSym(r, col, a[r][col])
		}
		full[r] = append([]float64(nil), a[r]...)
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, nil, nil, fmt.Errorf("covs[%d]: eigen decomposition failed: check the matrix", i)
	}
	vals = eig.Values(nil)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var chol mat.Cholesky
	if !(lo > 0) || !chol.Factorize(sym) {
		return nil, nil, nil, fmt.Errorf("covs[%d] is not positive definite (Cholesky fails; smallest eigenvalue %g): use a symmetric matrix with positive eigenvalues", i, lo)
	}
	if err := checkVariance(fmt.Sprintf("covs[%d]: smallest eigenvalue", i), lo); err != nil {
		return nil, nil, nil, err
	}
	if err := checkVariance(fmt.Sprintf("covs[%d]: largest eigenvalue", i), hi); err != nil {
		return nil, nil, nil, err
	}
	var u mat.Dense
	eig.VectorsTo(&u)
	vecs = make([][]float64, d)
	for r := range d {
		vecs[r] = make([]float64, d)
		for col := range d {
			vecs[r][col] = u.At(r, col)
		}
	}
	return vals, full, vecs, nil
}

// diagonal reports whether component k has a diagonal covariance (U_k = I).
func (m *Mixture) diagonal(k int) bool { return m.eigvec[k] == nil }

// covAt is entry (i, j) of component k's covariance.
func (m *Mixture) covAt(k, i, j int) float64 {
	if m.diagonal(k) {
		if i == j {
			return m.eigval[k][i]
		}
		return 0
	}
	return m.covs[k][i][j]
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

// Covs returns the component covariances as dense matrices [K][d][d]. This costs K·d² numbers
// even for diagonal components: in high dimension prefer Variances.
func (m *Mixture) Covs() [][][]float64 {
	out := make([][][]float64, m.K())
	for k := range out {
		if !m.diagonal(k) {
			out[k] = copy2(m.covs[k])
			continue
		}
		out[k] = make([][]float64, m.Dim())
		for i := range out[k] {
			out[k][i] = make([]float64, m.Dim())
			out[k][i][i] = m.eigval[k][i]
		}
	}
	return out
}

// Variances returns the d variances of component k's covariance when it is diagonal (an
// isotropic one included), and ok = false for a full covariance.
func (m *Mixture) Variances(k int) (v []float64, ok bool) {
	if !m.diagonal(k) {
		return nil, false
	}
	return append([]float64(nil), m.eigval[k]...), true
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
				out[i][j] += w * (m.covAt(k, i, j) + m.means[k][i]*m.means[k][j])
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
		var cov [][]float64 // nil for a diagonal component
		if !m.diagonal(k) {
			cov = make([][]float64, d)
			for i := range d {
				cov[i] = make([]float64, d)
				for j := range d {
					cov[i][j] = a * a * m.covs[k][i][j]
				}
				cov[i][i] += c
			}
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
		if m.diagonal(k) {
			for i := range d {
				x[i] = m.means[k][i] + z[i]
			}
			xs[s], labels[s] = x, k
			continue
		}
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
		if m.diagonal(k) {
			v := make([]float64, d)
			for i := range d {
				y := x[i] - m.means[k][i]
				v[i] = y / m.eigval[k][i]
				quad += y * v[i]
				logdet += math.Log(m.eigval[k][i])
			}
			logits[k] = math.Log(m.weights[k]) - 0.5*(quad+logdet+float64(d)*math.Log(2*math.Pi))
			prec[k] = v
			continue
		}
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

// axisAligned reports whether every component has a diagonal covariance (U_k = I).
func (m *Mixture) axisAligned() bool {
	for k := range m.eigvec {
		if !m.diagonal(k) {
			return false
		}
	}
	return true
}

// Prob is the density p(x) for one point x [d].
func (m *Mixture) Prob(x []float64) float64 { return math.Exp(m.LogProb(x)) }
