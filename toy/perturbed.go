package toy

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/scoresde/scoresde/lib/sde"
)

// Perturb returns p_t, the marginal of x_t under the SDE when x_0 ~ m: each component
// N(μ_k, Σ_k) becomes N(m(t)·μ_k, m(t)²·Σ_k + s(t)²·I).
func (m *Mixture) Perturb(s sde.SDE, t float64) *Mixture {
	st := s.Std(t)
	return m.affine(s.MeanCoeff(t), st*st)
}

// Coefficients returns m(t) and s(t) of the SDE's kernel as graph nodes shaped like t.
func Coefficients(s sde.SDE, t *Node) (mean, std *Node) {
	return s.MarginalProb(OnesLike(t), t)
}

// graphParts evaluates, for x [B, d] and t [B] (or a scalar), the per-component logits
// log w_k + log N(x; m μ_k, m²Σ_k + s²I), shaped [B, K], and returns with them a function that
// turns posterior weights π [B, K] into the score −Σ_k π_k (m²Σ_k + s²I)⁻¹(x − mμ_k), [B, d].
func (m *Mixture) graphParts(s sde.SDE, x, t *Node) (logits *Node, score func(post *Node) *Node) {
	g := x.Graph()
	dt := x.DType()
	d, k := m.Dim(), m.K()
	if x.Rank() != 2 || x.Shape().Dimensions[1] != d {
		exceptions.Panicf("toy mixture of dimension %d: x must be [batch, %d], got %s", d, d, x.Shape())
	}
	b := x.Shape().Dimensions[0]
	c := func(v any) *Node { return ConvertDType(Const(g, v), dt) }
	mu := c(m.means)   // [K, d]
	lam := c(m.eigval) // [K, e]
	logw := make([]float64, k)
	for i, w := range m.weights {
		logw[i] = math.Log(w)
	}
	constant := float64(d) * math.Log(2*math.Pi)
	mt, st := Coefficients(s, t)
	if m.axisAligned() && t.IsScalar() {
		// Diagonal covariances and one t for the batch (what samplers pass): with v = m²λ + s² [K, d],
		// log w_k + log N(x; mμ_k, v_k) = [x², x, 1]·[−½v_k⁻¹; m μ_k/v_k; c_k] with
		// c_k = log w_k − ½(m² Σ μ_k²/v_k + Σ log v_k + d log 2π), so the logits are one
		// [B, 2d+1]×[2d+1, K] product and the score another, with no [B, K, d] tensor.
		v := Add(Mul(Square(mt), lam), Square(st)) // [K, d]
		iv := Inverse(v)
		muIv := Mul(mu, iv)
		ck := Sub(c(logw), MulScalar(AddScalar(Add(Mul(Square(mt), ReduceSum(Mul(mu, muIv), -1)), ReduceSum(Log(v), -1)), constant), 0.5)) // [K]
		w := Concatenate([]*Node{Transpose(MulScalar(iv, -0.5), 0, 1), Transpose(Mul(mt, muIv), 0, 1), Reshape(ck, 1, k)}, 0)              // [2d+1, K]
		feats := Concatenate([]*Node{Square(x), x, OnesLike(Slice(x, AxisRange(), AxisRange(0, 1)))}, 1)                                   // [B, 2d+1]
		logits = MatMul(feats, w)
		back := Concatenate([]*Node{Mul(mt, muIv), iv}, 1) // [K, 2d]
		return logits, func(post *Node) *Node {
			a := MatMul(post, back) // [B, 2d]: Σ_k π_k m μ_k/v_k and Σ_k π_k/v_k
			return Sub(Slice(a, AxisRange(), AxisRange(0, d)), Mul(x, Slice(a, AxisRange(), AxisRange(d, 2*d))))
		}
	}
	mt3, st3 := mt, st
	if !t.IsScalar() {
		mt3, st3 = Reshape(mt, b, 1, 1), Reshape(st, b, 1, 1) // [B,1,1]
	}
	y := Sub(Reshape(x, b, 1, d), Mul(mt3, Reshape(mu, 1, k, d))) // [B,K,d]
	aligned := m.axisAligned()
	var u *Node // [K, d, e], only for rotated mixtures
	if !aligned {
		u = c(m.denseEigvec())
	}
	var proj *Node // [B,K,e]: y in each component's eigenbasis
	switch {
	case aligned:
		proj = y
	case d <= 8: // small d: a broadcast product beats a batched matmul with transposes
		proj = ReduceSum(Mul(Reshape(y, b, k, d, 1), Reshape(u, 1, k, d, d)), 2)
	default:
		proj = Einsum("bkd,kde->bke", y, u)
	}
	variance := Add(Mul(Square(mt3), Reshape(lam, 1, k, d)), Square(st3))
	white := Div(proj, variance)            // [B,K,e]
	quad := ReduceSum(Mul(proj, white), -1) // [B,K]
	logdet := ReduceSum(Log(variance), -1)  // [B,K], or [1,K] for a scalar t
	logits = Add(Reshape(c(logw), 1, k), MulScalar(AddScalar(Add(quad, logdet), constant), -0.5))
	var prec *Node // [B,K,d]: (m²Σ_k + s²I)⁻¹(x − mμ_k)
	switch {
	case aligned:
		prec = white
	case d <= 8:
		prec = ReduceSum(Mul(Reshape(white, b, k, 1, d), Reshape(u, 1, k, d, d)), 3)
	default:
		prec = Einsum("bke,kde->bkd", white, u)
	}
	return logits, func(post *Node) *Node {
		return Neg(ReduceSum(Mul(ExpandAxes(post, -1), prec), 1))
	}
}

// denseEigvec returns U_k for every component, [K][d][d], with the identity for diagonal ones.
func (m *Mixture) denseEigvec() [][][]float64 {
	d := m.Dim()
	out := make([][][]float64, m.K())
	for k, u := range m.eigvec {
		if u == nil {
			u = make([][]float64, d)
			for i := range u {
				u[i] = make([]float64, d)
				u[i][i] = 1
			}
		}
		out[k] = u
	}
	return out
}

// reduceLogSumExp is log Σ exp(x) over the last axis, stable against overflow.
func reduceLogSumExp(x *Node) *Node {
	mx := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
	return Add(Reshape(mx, mx.Shape().Dimensions[:mx.Rank()-1]...), Log(ReduceSum(Exp(Sub(x, mx)), -1)))
}

// LogProbFn returns the graph function (x [B, d], t [B]) ↦ log p_t(x) [B] in nats.
func (m *Mixture) LogProbFn(s sde.SDE) func(x, t *Node) *Node {
	return func(x, t *Node) *Node {
		logits, _ := m.graphParts(s, x, t)
		return reduceLogSumExp(logits)
	}
}

// PosteriorFn returns the graph function (x [B, d], t [B]) ↦ p_t(k | x) [B, K].
func (m *Mixture) PosteriorFn(s sde.SDE) func(x, t *Node) *Node {
	return func(x, t *Node) *Node {
		logits, _ := m.graphParts(s, x, t)
		return Softmax(logits, -1)
	}
}

// ScoreFn returns the exact score ∇x log p_t(x) of the perturbed mixture as a graph function
// (x [B, d], t [B] or scalar) ↦ [B, d]: −Σ_k p_t(k | x)·(m²Σ_k + s²I)⁻¹(x − mμ_k).
func (m *Mixture) ScoreFn(s sde.SDE) sde.ScoreFn {
	return func(x, t *Node) *Node {
		logits, score := m.graphParts(s, x, t)
		return score(Softmax(logits, -1))
	}
}
