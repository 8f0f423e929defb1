package toy

import (
	"math"

	"github.com/gomlx/compute/shapes"
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

// How the exact score is evaluated. Every component k contributes
//
//	logit_k = log w_k − ½(y_kᵀ P_k y_k − log det P_k + d log 2π),   y_k = x − mμ_k,
//	P_k = (m²Σ_k + s²I)⁻¹ = U_k diag(1/v_k) U_kᵀ,   v_k = m²λ_k + s²,
//
// and the score is −Σ_k π_k P_k y_k with π = softmax(logits). The eigenbasis U_k does not depend
// on t, so each kind of component is evaluated with a few products over all components at once,
// never a [B, K, d, d] tensor nor a product per component:
//
//   - isotropic (Σ_k = σ_k² I): |y_k|² = |x|² − 2m x·μ_k + m²|μ_k|², so the logits take one
//     [B, d+2]×[d+2, K] product of [x, |x|², 1] and the score two [B, K]×[K, ·] ones (for a [B] t,
//     x·μᵀ and [B, K] elementwise terms);
//   - diagonal (Σ_k = diag(λ_k)), scalar t: the logits are [x², x, 1]·W, one [B, 2d+1]×[2d+1, K]
//     product, and the score two [B, K]×[K, d] products; a [B] t takes [B, K, d] elementwise terms;
//   - full: z_k = diag(v_k)^(-½) U_kᵀ(x − mμ_k) is one [B, d+1]×[d+1, K·d] product of [x, 1] with
//     the eigenbases scaled by 1/√v (a [B] t projects x·[U_1 … U_K] once and whitens per point),
//     the logits reduce |z_k|² over d, and the score is one [B, K·d]×[K·d, d] product of π⊙z.
//
// Components are grouped by kind (one group per kind present), so a mixture of a few full and
// many diagonal components costs K·d, not K·d², numbers for the diagonal ones. Products whose
// contracting axis is long keep it last on both sides (dotT), a layout the Go backend vectorizes.
// The isotropic and diagonal forms expand |x − mμ|², so in float32 their logits carry an error of
// about 1e-7·|x|²/v (the full form whitens before squaring); float64 is exact to ~1e-12.

// perturbedParts is what the graph functions share for x [B, d] at one t: the logits of every
// component, grouped by kind, and the groups that turn posterior weights into the score and its
// divergence.
type perturbedParts struct {
	// logits is log w_k + log N(x; mμ_k, m²Σ_k + s²I), [B, K], with the components in group order.
	logits *Node
	// inverse[k] is the column of logits that holds component k; nil when the order is the original.
	inverse []int
	groups  []partGroup
}

// partGroup is one kind of component: cols columns of the logits, and apply, which takes their
// posterior weights π [B, cols] to their part of the score, −Σ_k π_k P_k y_k [B, d], and, when
// div is set, to Σ_k π_k (|P_k y_k|² − tr P_k) [B].
type partGroup struct {
	cols  int
	apply func(post *Node, div bool) (score, trace *Node)
}

// scoreDiv turns the posterior weights π [B, K] (group order) into the score −Σ_k π_k P_k y_k
// [B, d] and, when div is set, its divergence Σ_k π_k (|P_k y_k|² − tr P_k) − |score|² [B].
func (p *perturbedParts) scoreDiv(post *Node, div bool) (score, divergence *Node) {
	off := 0
	var trace *Node
	for _, gr := range p.groups {
		pi := post
		if len(p.groups) > 1 {
			pi = Slice(post, AxisRange(), AxisRange(off, off+gr.cols))
		}
		off += gr.cols
		sc, tr := gr.apply(pi, div)
		if score == nil {
			score, trace = sc, tr
			continue
		}
		score = Add(score, sc)
		if div {
			trace = Add(trace, tr)
		}
	}
	if div {
		divergence = Sub(trace, ReduceSum(Square(score), -1))
	}
	return score, divergence
}

// posterior is p_t(k | x) [B, K] in the original component order.
func (p *perturbedParts) posterior() *Node {
	post := Softmax(p.logits, -1)
	if p.inverse == nil {
		return post
	}
	idx := make([][]int32, len(p.inverse))
	for k, c := range p.inverse {
		idx[k] = []int32{int32(c)}
	}
	return Transpose(Gather(Transpose(post, 0, 1), Const(post.Graph(), idx)), 0, 1)
}

// graphParts evaluates the per-component logits for x [B, d] and t [B] (or a scalar), with the
// groups that turn posterior weights into the score (see above).
func (m *Mixture) graphParts(s sde.SDE, x, t *Node) *perturbedParts {
	d, k := m.Dim(), m.K()
	if x.Rank() != 2 || x.Shape().Dimensions[1] != d {
		exceptions.Panicf("toy mixture of dimension %d: x must be [batch, %d], got %s", d, d, x.Shape())
	}
	b := x.Shape().Dimensions[0]
	if !t.IsScalar() && (t.Rank() != 1 || t.Shape().Dimensions[0] != b) {
		exceptions.Panicf("toy mixture: t must be a scalar or [%d] (one time per point of x %s), got %s", b, x.Shape(), t.Shape())
	}
	mt, st := Coefficients(s, t)
	mt, st = ConvertDType(mt, x.DType()), ConvertDType(st, x.DType())
	var iso, diag, full []int
	for c := range k {
		switch {
		case !m.diagonal(c):
			full = append(full, c)
		case m.isotropic(c):
			iso = append(iso, c)
		default:
			diag = append(diag, c)
		}
	}
	p := &perturbedParts{}
	var logits []*Node
	var order []int
	for _, gr := range []struct {
		comps []int
		build func(comps []int, x, mt, st *Node) (*Node, partGroup)
	}{{iso, m.isoGroup}, {diag, m.diagGroup}, {full, m.fullGroup}} {
		if len(gr.comps) == 0 {
			continue
		}
		l, g := gr.build(gr.comps, x, mt, st)
		logits = append(logits, l)
		p.groups = append(p.groups, g)
		order = append(order, gr.comps...)
	}
	p.logits = logits[0]
	if len(logits) > 1 {
		p.logits = Concatenate(logits, 1)
	}
	for col, c := range order {
		if col != c {
			p.inverse = make([]int, k)
			for col, c := range order {
				p.inverse[c] = col
			}
			break
		}
	}
	return p
}

// isotropic reports whether component k's covariance is σ²·I.
func (m *Mixture) isotropic(k int) bool {
	if !m.diagonal(k) {
		return false
	}
	for _, v := range m.eigval[k] {
		if v != m.eigval[k][0] {
			return false
		}
	}
	return true
}

// constOf is a constant of x's dtype and graph shaped dims from row-major values.
func constOf(x *Node, flat []float64, dims ...int) *Node {
	return Reshape(ConstAsDType(x.Graph(), x.DType(), flat), dims...)
}

// dotT is a·bᵀ [N, M] for a [N, C] and b [M, C].
func dotT(a, b *Node) *Node { return DotGeneral(a, []int{1}, nil, b, []int{1}, nil) }

// onesColumn is a [B, 1] column of ones for x [B, d].
func onesColumn(x *Node) *Node {
	return Ones(x.Graph(), shapes.Make(x.DType(), x.Shape().Dimensions[0], 1))
}

// blockProducts reports whether sums over K blocks of d columns run as products with the [K, K·d]
// block indicator (vectorized by the Go backend, ~20% faster at d = 32, K = 8) rather than as
// reductions and broadcasts: for d ≥ 8 (shorter blocks are faster reduced) and K ≤ 16 (the
// products cost K times the additions, and the indicator K²·d numbers).
func blockProducts(k, d int) bool { return d >= 8 && k <= 16 }

// blockOnes is the [K, K·d] indicator of the blocks of d columns (row k is 1 on columns k·d…k·d+d−1).
func blockOnes(x *Node, k, d int) *Node {
	out := make([]float64, k*k*d)
	for i := range k {
		for e := range d {
			out[i*k*d+i*d+e] = 1
		}
	}
	return constOf(x, out, k, k*d)
}

// sumBlocks is Σ_e a[b, k·d+e]·w[k·d+e] for a [B, K·d] and w [1, K·d] (nil: all ones), [B, K].
func sumBlocks(a, w *Node, k, d int) *Node {
	if blockProducts(k, d) {
		bl := blockOnes(a, k, d)
		if w != nil {
			bl = Mul(bl, w)
		}
		return dotT(a, bl)
	}
	if w != nil {
		a = Mul(a, w)
	}
	return ReduceSum(Reshape(a, a.Shape().Dimensions[0], k, d), -1)
}

// spreadBlocks is post[b, k]·z[b, k·d+e] for post [B, K] and z [B, K·d], [B, K·d].
func spreadBlocks(post, z *Node, d int) *Node {
	b, k := post.Shape().Dimensions[0], post.Shape().Dimensions[1]
	if blockProducts(k, d) {
		return Mul(MatMul(post, blockOnes(z, k, d)), z)
	}
	return Reshape(Mul(ExpandAxes(post, -1), Reshape(z, b, k, d)), b, k*d)
}

// logWeights returns log w_k for the components comps.
func (m *Mixture) logWeights(comps []int) []float64 {
	out := make([]float64, len(comps))
	for i, c := range comps {
		out[i] = math.Log(m.weights[c])
	}
	return out
}

// isoGroup builds the logits [B, K] and the group of the isotropic components comps.
func (m *Mixture) isoGroup(comps []int, x, mt, st *Node) (*Node, partGroup) {
	b, d, k := x.Shape().Dimensions[0], m.Dim(), len(comps)
	fd := float64(d)
	logTwoPi := math.Log(2 * math.Pi)
	means := make([]float64, 0, k*d) // [K, d]
	mu2, lam := make([]float64, k), make([]float64, k)
	for i, c := range comps {
		means = append(means, m.means[c]...)
		for _, v := range m.means[c] {
			mu2[i] += v * v
		}
		lam[i] = m.eigval[c][0]
	}
	logw := m.logWeights(comps)
	mu := constOf(x, means, k, d)
	xx := dotT(Square(x), Ones(x.Graph(), shapes.Make(x.DType(), 1, d))) // [B, 1]: |x|²
	if mt.IsScalar() {
		// With v_k = m²σ_k² + s², log w_k + log N(x; mμ_k, v_k I) = [x, |x|², 1]·[mμ_k/v_k; −½/v_k; c_k]
		// with c_k = log w_k − ½(m²|μ_k|²/v_k + d log v_k + d log 2π): one [B, d+2]×[d+2, K] product.
		v := Add(Mul(Square(mt), constOf(x, lam, k, 1)), Square(st)) // [K, 1]
		iv := Inverse(v)
		logv := Log(v)
		lw := constOf(x, logw, k, 1)
		ck := Sub(lw, MulScalar(Add(Mul(Mul(Square(mt), constOf(x, mu2, k, 1)), iv), MulScalar(AddScalar(logv, logTwoPi), fd)), 0.5))
		mMuIv := Mul(Mul(mt, mu), iv) // [K, d]
		logits := dotT(Concatenate([]*Node{x, xx, onesColumn(x)}, 1), Concatenate([]*Node{mMuIv, MulScalar(iv, -0.5), ck}, 1))
		return logits, partGroup{cols: k, apply: func(post *Node, div bool) (score, trace *Node) {
			// −Σ_k π_k (x − mμ_k)/v_k = Σ_k π_k mμ_k/v_k − x·Σ_k π_k/v_k.
			score = Sub(MatMul(post, mMuIv), Mul(x, MatMul(post, iv)))
			if div {
				// |P_k y_k|² − tr P_k = (quad_k − d)/v_k with quad_k = |y_k|²/v_k, recovered from the
				// logits: quad_k = −2(logit_k − log w_k) − d(log v_k + log 2π).
				r := Transpose(Mul(iv, Sub(MulScalar(lw, 2), MulScalar(AddScalar(logv, logTwoPi+1), fd))), 0, 1) // [1, K]
				trace = ReduceSum(Mul(post, Add(Mul(logits, Transpose(MulScalar(iv, -2), 0, 1)), r)), -1)
			}
			return score, trace
		}}
	}
	// One time per point: v_k depends on the point, but x·μ_k does not, so the terms are [B, K].
	m2 := Reshape(mt, b, 1)
	v := Add(Mul(Square(m2), constOf(x, lam, 1, k)), Reshape(Square(st), b, 1)) // [B, K]
	iv := Inverse(v)
	// quad_k = |x − mμ_k|²/v_k.
	quad := Mul(Add(Sub(xx, Mul(MulScalar(m2, 2), dotT(x, mu))), Mul(Square(m2), constOf(x, mu2, 1, k))), iv)
	logits := Sub(constOf(x, logw, 1, k), MulScalar(Add(quad, MulScalar(AddScalar(Log(v), logTwoPi), fd)), 0.5))
	return logits, partGroup{cols: k, apply: func(post *Node, div bool) (score, trace *Node) {
		a := Mul(post, iv) // [B, K]: π_k/v_k
		score = Sub(Mul(m2, MatMul(a, mu)), Mul(x, ReduceAndKeep(a, ReduceSum, -1)))
		if div {
			// |P_k y_k|² − tr P_k = (quad_k − d)/v_k.
			trace = ReduceSum(Mul(a, AddScalar(quad, -fd)), -1)
		}
		return score, trace
	}}
}

// diagGroup builds the logits [B, K] and the group of the diagonal (not isotropic) components comps.
func (m *Mixture) diagGroup(comps []int, x, mt, st *Node) (*Node, partGroup) {
	b, d, k := x.Shape().Dimensions[0], m.Dim(), len(comps)
	constant := float64(d) * math.Log(2*math.Pi)
	means, lams := make([]float64, 0, k*d), make([]float64, 0, k*d)
	for _, c := range comps {
		means = append(means, m.means[c]...)
		lams = append(lams, m.eigval[c]...)
	}
	mu, lam := constOf(x, means, k, d), constOf(x, lams, k, d)
	logw := m.logWeights(comps)
	if mt.IsScalar() {
		// With v = m²λ + s² [K, d], log w_k + log N(x; mμ_k, v_k) = [x², x, 1]·[−½v_k⁻¹; m μ_k/v_k; c_k]
		// with c_k = log w_k − ½(m² Σ μ_k²/v_k + Σ log v_k + d log 2π): one [B, 2d+1]×[2d+1, K]
		// product, with no [B, K, d] tensor.
		v := Add(Mul(Square(mt), lam), Square(st)) // [K, d]
		iv := Inverse(v)
		mMuIv := Mul(Mul(mt, mu), iv)
		ck := Sub(constOf(x, logw, k, 1), MulScalar(AddScalar(Add(ReduceAndKeep(Mul(Mul(mt, mu), mMuIv), ReduceSum, -1), ReduceAndKeep(Log(v), ReduceSum, -1)), constant), 0.5)) // [K, 1]
		feats := Concatenate([]*Node{Square(x), x, onesColumn(x)}, 1)                                                                                                            // [B, 2d+1]
		logits := dotT(feats, Concatenate([]*Node{MulScalar(iv, -0.5), mMuIv, ck}, 1))
		return logits, partGroup{cols: k, apply: func(post *Node, div bool) (score, trace *Node) {
			score = Sub(MatMul(post, mMuIv), Mul(x, MatMul(post, iv)))
			if div {
				// Σ_i (x_i − mμ_ki)²/v_ki² − 1/v_ki = [x², x, 1]·[1/v²; −2mμ/v²; Σ_i m²μ²/v² − 1/v].
				a := Concatenate([]*Node{Square(iv), MulScalar(Mul(mMuIv, iv), -2), ReduceAndKeep(Sub(Square(mMuIv), iv), ReduceSum, -1)}, 1) // [K, 2d+1]
				trace = ReduceSum(Mul(feats, MatMul(post, a)), -1)
			}
			return score, trace
		}}
	}
	// One time per point: v depends on the point, so the terms are [B, K, d] elementwise.
	m3, s3 := Reshape(mt, b, 1, 1), Reshape(st, b, 1, 1)
	y := Sub(Reshape(x, b, 1, d), Mul(m3, Reshape(mu, 1, k, d))) // [B, K, d]
	v := Add(Mul(Square(m3), Reshape(lam, 1, k, d)), Square(s3)) // [B, K, d]
	iv := Inverse(v)
	w := Mul(y, iv) // P_k y_k
	quad := ReduceSum(Mul(y, w), -1)
	logits := Sub(constOf(x, logw, 1, k), MulScalar(AddScalar(Add(quad, ReduceSum(Log(v), -1)), constant), 0.5))
	return logits, partGroup{cols: k, apply: func(post *Node, div bool) (score, trace *Node) {
		score = ReduceSum(Mul(ExpandAxes(Neg(post), -1), w), 1)
		if div {
			trace = ReduceSum(Mul(post, ReduceSum(Sub(Square(w), iv), -1)), -1)
		}
		return score, trace
	}}
}

// fullGroup builds the logits [B, K] and the group of the components comps with full covariances.
func (m *Mixture) fullGroup(comps []int, x, mt, st *Node) (*Node, partGroup) {
	b, d, k := x.Shape().Dimensions[0], m.Dim(), len(comps)
	constant := float64(d) * math.Log(2*math.Pi)
	uAll := make([]float64, d*k*d) // [d, K·d]: [U_1 … U_K]
	muU := make([]float64, k*d)    // [K·d]: μ_kᵀU_k
	lams := make([]float64, 0, k*d)
	for i, c := range comps {
		u := m.eigvec[c]
		for r := range d {
			for e := range d {
				uAll[r*k*d+i*d+e] = u[r][e]
				muU[i*d+e] += m.means[c][r] * u[r][e]
			}
		}
		lams = append(lams, m.eigval[c]...)
	}
	logw := constOf(x, m.logWeights(comps), 1, k)
	uAllN, muUN := constOf(x, uAll, d, k*d), constOf(x, muU, 1, k*d)
	if mt.IsScalar() {
		// Scaled by 1/√v the eigenbases whiten at once: z_k = diag(v_k)^(-½) U_kᵀ(x − mμ_k) is
		// [x, 1]·[U_k/√v_k; −mμ_kᵀU_k/√v_k], one [B, d+1]×[d+1, K·d] product, and
		// P_k y_k = (U_k/√v_k) z_k, so the score is −(π⊙z)·[U_1/√v_1 … U_K/√v_K]ᵀ.
		v := Add(Mul(Square(mt), constOf(x, lams, 1, k*d)), Square(st)) // [1, K·d]
		isv := Rsqrt(v)
		ws := Mul(uAllN, isv)                                                                                             // [d, K·d]
		z := MatMul(Concatenate([]*Node{x, onesColumn(x)}, 1), Concatenate([]*Node{ws, Mul(Neg(mt), Mul(muUN, isv))}, 0)) // [B, K·d]
		z2 := Square(z)
		logdet := Transpose(ReduceAndKeep(Reshape(Log(v), k, d), ReduceSum, -1), 0, 1) // [1, K]
		logits := Sub(logw, MulScalar(AddScalar(Add(sumBlocks(z2, nil, k, d), logdet), constant), 0.5))
		return logits, partGroup{cols: k, apply: func(post *Node, div bool) (score, trace *Node) {
			score = dotT(spreadBlocks(post, z, d), Neg(ws)) // [B, d]
			if div {
				// |P_k y_k|² = Σ_e z_ke²/v_ke, tr P_k = Σ_e 1/v_ke.
				iv := Inverse(v)
				tr := Transpose(ReduceAndKeep(Reshape(iv, k, d), ReduceSum, -1), 0, 1) // [1, K]
				trace = ReduceSum(Mul(post, Sub(sumBlocks(z2, iv, k, d), tr)), -1)
			}
			return score, trace
		}}
	}
	// One time per point: project once (U_kᵀx does not depend on t), then whiten per point.
	m3, s3 := Reshape(mt, b, 1, 1), Reshape(st, b, 1, 1)
	proj := Sub(Reshape(MatMul(x, uAllN), b, k, d), Mul(m3, Reshape(muUN, 1, k, d))) // [B, K, d]: U_kᵀ(x − mμ_k)
	v := Add(Mul(Square(m3), constOf(x, lams, 1, k, d)), Square(s3))                 // [B, K, d]
	iv := Inverse(v)
	w := Mul(proj, iv) // [B, K, d]: the whitened residuals, P_k y_k = U_k w_k
	quad := ReduceSum(Mul(proj, w), -1)
	logits := Sub(logw, MulScalar(AddScalar(Add(quad, ReduceSum(Log(v), -1)), constant), 0.5))
	return logits, partGroup{cols: k, apply: func(post *Node, div bool) (score, trace *Node) {
		score = dotT(Reshape(Mul(ExpandAxes(post, -1), w), b, k*d), Neg(uAllN)) // [B, d]: −Σ_k π_k U_k w_k
		if div {
			// |P_k y_k|² = |U_k w_k|² = |w_k|², tr P_k = Σ 1/v_k.
			trace = ReduceSum(Mul(post, Sub(ReduceSum(Square(w), -1), ReduceSum(iv, -1))), -1)
		}
		return score, trace
	}}
}

// reduceLogSumExp is log Σ exp(x) over the last axis, stable against overflow.
func reduceLogSumExp(x *Node) *Node {
	mx := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
	return Add(Reshape(mx, mx.Shape().Dimensions[:mx.Rank()-1]...), Log(ReduceSum(Exp(Sub(x, mx)), -1)))
}

// LogProbFn returns the graph function (x [B, d], t [B] or scalar) ↦ log p_t(x) [B] in nats.
func (m *Mixture) LogProbFn(s sde.SDE) func(x, t *Node) *Node {
	return func(x, t *Node) *Node {
		return reduceLogSumExp(m.graphParts(s, x, t).logits)
	}
}

// PosteriorFn returns the graph function (x [B, d], t [B] or scalar) ↦ p_t(k | x) [B, K].
func (m *Mixture) PosteriorFn(s sde.SDE) func(x, t *Node) *Node {
	return func(x, t *Node) *Node {
		return m.graphParts(s, x, t).posterior()
	}
}

// ScoreFn returns the exact score ∇x log p_t(x) of the perturbed mixture as a graph function
// (x [B, d], t [B] or scalar) ↦ [B, d]: −Σ_k p_t(k | x)·(m²Σ_k + s²I)⁻¹(x − mμ_k).
func (m *Mixture) ScoreFn(s sde.SDE) sde.ScoreFn {
	return func(x, t *Node) *Node {
		p := m.graphParts(s, x, t)
		score, _ := p.scoreDiv(Softmax(p.logits, -1), false)
		return score
	}
}

// ScoreDivFn returns the exact score and its divergence ∇·s(x, t) in closed form, as a graph
// function (x [B, d], t [B] or scalar) ↦ (score [B, d], divergence [B]), at the cost of about one
// score evaluation instead of d backward passes. With π_k = p_t(k | x), P_k = (m²Σ_k + s²I)⁻¹ and
// y_k = x − mμ_k, the score is s = −Σ_k π_k P_k y_k and
//
//	∇·s = Σ_k π_k (|P_k y_k|² − tr P_k) − |s|².
//
// Give lib/likelihood's Options.ScoreDivergence this function for exact likelihoods in any d.
// The divergence squares the score's terms, so near the float32 bounds of the spec (where the
// score itself stays finite) it needs float64, the likelihood's default.
func (m *Mixture) ScoreDivFn(s sde.SDE) func(x, t *Node) (score, div *Node) {
	return func(x, t *Node) (*Node, *Node) {
		p := m.graphParts(s, x, t)
		return p.scoreDiv(Softmax(p.logits, -1), true)
	}
}
