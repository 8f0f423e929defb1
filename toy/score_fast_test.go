package toy

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"gonum.org/v1/gonum/mat"
)

// denseRef is the straightforward float64 evaluation of the perturbed mixture at one point: for
// every component the explicit inverse P_k = (m²Σ_k + s²I)⁻¹ of the dense covariance, no
// eigenbasis, no grouping.
type denseRef struct {
	logp  float64
	post  []float64
	score []float64
	div   float64
}

func denseReference(tb testing.TB, m *Mixture, s sde.SDE, t float64, x []float64) denseRef {
	tb.Helper()
	d := m.Dim()
	mt, st := s.MeanCoeff(t), s.Std(t)
	covs := m.Covs()
	logits := make([]float64, m.K())
	precs := make([][]float64, m.K())
	traces := make([]float64, m.K())
	for k := range m.K() {
		c := mat.NewDense(d, d, nil)
		for i := range d {
			for j := range d {
				c.Set(i, j, mt*mt*covs[k][i][j])
			}
			c.Set(i, i, c.At(i, i)+st*st)
		}
		var p mat.Dense
		if err := p.Inverse(c); err != nil {
			tb.Fatalf("component %d: %v", k, err)
		}
		y := mat.NewVecDense(d, nil)
		for i := range d {
			y.SetVec(i, x[i]-mt*m.means[k][i])
		}
		var py mat.VecDense
		py.MulVec(&p, y)
		logdet, sign := mat.LogDet(c)
		if sign <= 0 {
			tb.Fatalf("component %d: covariance with determinant sign %g", k, sign)
		}
		logits[k] = math.Log(m.weights[k]) - 0.5*(mat.Dot(y, &py)+logdet+float64(d)*math.Log(2*math.Pi))
		precs[k] = py.RawVector().Data
		traces[k] = mat.Trace(&p)
	}
	r := denseRef{logp: logSumExp(logits), post: make([]float64, m.K()), score: make([]float64, d)}
	for k := range logits {
		r.post[k] = math.Exp(logits[k] - r.logp)
		sq := 0.0
		for i, v := range precs[k] {
			r.score[i] -= r.post[k] * v
			sq += v * v
		}
		r.div += r.post[k] * (sq - traces[k])
	}
	for _, v := range r.score {
		r.div -= v * v
	}
	return r
}

// fastPoints draws n points of m perturbed to time t, the first moved far from the data.
func fastPoints(m *Mixture, s sde.SDE, t float64, n int) [][]float64 {
	xs := m.Perturb(s, t).Sample(NewRand(11), n)
	xs[0][0] += 30 * math.Max(1, s.Std(t))
	return xs
}

// closeTo reports whether got is within tol of want, relative to max(1, |want|).
func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestFastScoreMatchesDense checks the grouped score, log-density, posterior and closed-form
// divergence (float64) against the dense reference to 1e-10, for isotropic, diagonal, full and
// mixed covariances in d = 1, 2, 5, 32 with K = 1, 3, 8 components, at a scalar t (what samplers
// pass) and at one t per point (what training and likelihoods may pass), under all three SDEs.
func TestFastScoreMatchesDense(t *testing.T) {
	b := backend.MustNew()
	sdes := []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()}
	for _, kind := range []string{"iso", "diag", "full", "mixed"} {
		for _, d := range []int{1, 2, 5, 32} {
			for _, k := range []int{1, 3, 8} {
				m := randomMixture(t, kind, d, k, uint64(100*d+k))
				for si, s := range sdes {
					for _, perPoint := range []bool{false, true} {
						name := fmt.Sprintf("%s/d=%d/K=%d/%s/scalar-t", kind, d, k, s.Name())
						if perPoint {
							name = strings.Replace(name, "scalar-t", "per-point-t", 1)
						}
						t.Run(name, func(t *testing.T) {
							checkAgainstDense(t, b, m, s, perPoint, si)
						})
					}
				}
			}
		}
	}
}

// checkAgainstDense compares every graph function of m with denseReference, at the scalar time
// times[seed mod 5] or at one time per point over times.
func checkAgainstDense(t *testing.T, be compute.Backend, m *Mixture, s sde.SDE, perPoint bool, seed int) {
	times := []float64{1e-3, 0.05, 0.3, 0.7, 1}
	var xs [][]float64
	var ts []float64
	if perPoint {
		for i, tt := range times {
			for _, x := range fastPoints(m, s, tt, 3+i%2) {
				xs, ts = append(xs, x), append(ts, tt)
			}
		}
	} else {
		tt := times[seed%len(times)]
		xs = fastPoints(m, s, tt, 7)
		for range xs {
			ts = append(ts, tt)
		}
	}
	var tArg any = ts
	if !perPoint {
		tArg = ts[0]
	}
	outs := MustExecOnceN(be, func(x, tt *Node) []*Node {
		score, div := m.ScoreDivFn(s)(x, tt)
		return []*Node{m.LogProbFn(s)(x, tt), m.PosteriorFn(s)(x, tt), m.ScoreFn(s)(x, tt), score, div}
	}, xs, tArg)
	logp := outs[0].Value().([]float64)
	post := outs[1].Value().([][]float64)
	score := outs[2].Value().([][]float64)
	score2 := outs[3].Value().([][]float64)
	div := outs[4].Value().([]float64)
	for i, x := range xs {
		want := denseReference(t, m, s, ts[i], x)
		check := func(what string, got, want float64) {
			t.Helper()
			if !closeTo(got, want, 1e-10) {
				t.Errorf("point %d t=%g %s: got %.15g, dense reference %.15g", i, ts[i], what, got, want)
			}
		}
		check("log p", logp[i], want.logp)
		for k, v := range want.post {
			check(fmt.Sprintf("posterior[%d]", k), post[i][k], v)
		}
		for j, v := range want.score {
			check(fmt.Sprintf("ScoreFn[%d]", j), score[i][j], v)
			check(fmt.Sprintf("ScoreDivFn score[%d]", j), score2[i][j], v)
		}
		check("divergence", div[i], want.div)
	}
}

// TestClosedFormDivergenceMatchesAutodiff checks ScoreDivFn's divergence against the trace of the
// Jacobian of ScoreFn by d backward passes (float64, to 1e-10), for isotropic, diagonal, full and
// mixed covariances in d = 1, 2, 5, 32, at a scalar t and at one t per point.
func TestClosedFormDivergenceMatchesAutodiff(t *testing.T) {
	be := backend.MustNew()
	s := sde.NewVP()
	for _, kind := range []string{"iso", "diag", "full", "mixed"} {
		for _, d := range []int{1, 2, 5, 32} {
			m := randomMixture(t, kind, d, 3, uint64(7*d))
			for _, perPoint := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/d=%d/per-point=%v", kind, d, perPoint), func(t *testing.T) {
					xs := fastPoints(m, s, 0.2, 6)
					var tArg any = 0.2
					if perPoint {
						tArg = []float64{1e-3, 0.01, 0.1, 0.4, 0.8, 1}
					}
					outs := MustExecOnceN(be, func(x, tt *Node) []*Node {
						_, closed := m.ScoreDivFn(s)(x, tt)
						_, auto := autodiffDivergence(m.ScoreFn(s), x, tt)
						return []*Node{closed, auto}
					}, xs, tArg)
					closed, auto := outs[0].Value().([]float64), outs[1].Value().([]float64)
					for i := range closed {
						if !closeTo(closed[i], auto[i], 1e-10) {
							t.Errorf("point %d: closed-form divergence %.15g, autodiff %.15g", i, closed[i], auto[i])
						}
					}
				})
			}
		}
	}
}

// TestFastScoreFloat32 checks the float32 score and divergence at a scalar t against the float64
// ones, within single-precision rounding, for every kind of covariance in d = 2, 5, 32.
func TestFastScoreFloat32(t *testing.T) {
	be := backend.MustNew()
	s := sde.NewVE()
	for _, kind := range []string{"iso", "diag", "full", "mixed"} {
		for _, d := range []int{2, 5, 32} {
			t.Run(fmt.Sprintf("%s/d=%d", kind, d), func(t *testing.T) {
				m := randomMixture(t, kind, d, 8, uint64(d))
				const tt = 0.05
				xs := fastPoints(m, s, tt, 8)
				x32 := make([][]float32, len(xs))
				for i, x := range xs {
					for _, v := range x {
						x32[i] = append(x32[i], float32(v))
					}
				}
				outs := MustExecOnceN(be, func(x, t *Node) []*Node {
					score, div := m.ScoreDivFn(s)(x, t)
					return []*Node{score, div}
				}, x32, float32(tt))
				score, div := outs[0].Value().([][]float32), outs[1].Value().([]float32)
				for i, x := range xs {
					want := denseReference(t, m, s, tt, x)
					for j, v := range want.score {
						if !closeTo(float64(score[i][j]), v, 2e-3) {
							t.Errorf("point %d: float32 score[%d] %g, float64 %g", i, j, score[i][j], v)
						}
					}
					if !closeTo(float64(div[i]), want.div, 2e-3) {
						t.Errorf("point %d: float32 divergence %g, float64 %g", i, div[i], want.div)
					}
				}
			})
		}
	}
}

// TestScoreTimeShape: a t that is neither a scalar nor one time per point is refused with a
// message naming both shapes.
func TestScoreTimeShape(t *testing.T) {
	be := backend.MustNew()
	m := randomMixture(t, "full", 2, 3, 1)
	for _, c := range []struct {
		name string
		t    any
	}{
		{"too many times", []float64{0.1, 0.2, 0.3}},
		{"matrix", [][]float64{{0.1}, {0.2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ExecOnce(be, func(x, tt *Node) *Node { return m.ScoreFn(sde.NewVP())(x, tt) }, [][]float64{{0, 0}, {1, 1}}, c.t)
			if err == nil || !strings.Contains(err.Error(), "t must be a scalar or [2]") {
				t.Fatalf("error %v, want one naming the shapes of t", err)
			}
		})
	}
}

// TestGroupsKeepOriginalOrder: in a mixture whose components alternate between full, diagonal and
// isotropic covariances (so the grouped evaluation reorders them), the posterior keeps the
// original component order: the point at a component's mean puts its mass there.
func TestGroupsKeepOriginalOrder(t *testing.T) {
	be := backend.MustNew()
	m := randomMixture(t, "mixed", 3, 6, 5)
	far := make([][]float64, m.K())
	for k := range far {
		far[k] = make([]float64, 3)
		for j := range far[k] {
			far[k][j] = 50 * float64(k+1) * float64(j%2*2-1) // well-separated points
		}
	}
	cs := make([]covariance, m.K())
	for k := range cs {
		if m.diagonal(k) {
			cs[k].diag = m.eigval[k]
		} else {
			cs[k].full = m.covs[k]
		}
	}
	sep, err := newMixture(m.weights, far, cs)
	if err != nil {
		t.Fatal(err)
	}
	out := MustExecOnce(be, func(x *Node) *Node {
		return sep.PosteriorFn(sde.NewVP())(x, Scalar(x.Graph(), x.DType(), 0.0))
	}, far)
	for k, row := range out.Value().([][]float64) {
		if row[k] < 0.999 {
			t.Errorf("point at mean %d: posterior %v, want its mass on component %d", k, row, k)
		}
	}
}

// fuzzMixture builds a mixture of the given kind (0 iso, 1 diag, 2 full, 3 mixed) with d ≤ 6 and
// K ≤ 4 whose means are scaled by meanScale and covariances by varScale, or nil when the scales
// put it outside the documented bounds.
func fuzzMixture(kind, d, k uint8, seed uint64, meanScale, varScale float64) *Mixture {
	kinds := []string{"iso", "diag", "full", "mixed"}
	base := randomMixture(&testing.T{}, kinds[kind%4], 1+int(d%6), 1+int(k%4), seed)
	cs := make([]covariance, base.K())
	means := make([][]float64, base.K())
	for c := range cs {
		means[c] = make([]float64, base.Dim())
		for j, v := range base.means[c] {
			means[c][j] = v / 3 * meanScale
		}
		if base.diagonal(c) {
			cs[c].diag = make([]float64, base.Dim())
			for j, v := range base.eigval[c] {
				cs[c].diag[j] = v * varScale
			}
			continue
		}
		cs[c].full = make([][]float64, base.Dim())
		for i := range cs[c].full {
			cs[c].full[i] = make([]float64, base.Dim())
			for j := range cs[c].full[i] {
				cs[c].full[i][j] = base.covs[c][i][j] * varScale
			}
		}
	}
	m, err := newMixture(base.weights, means, cs)
	if err != nil {
		return nil
	}
	return m
}

// FuzzScoreDivergence: for mixtures anywhere within the documented bounds (means up to MaxAbsMean,
// variances from MinVariance to MaxVariance), any t in [0, 1] and points near and far from the
// data, the float64 score, log-density and divergence are finite; and where the scales are
// moderate (means within ±100, variances within [1e-3, 1e3]) they match the dense reference.
func FuzzScoreDivergence(f *testing.F) {
	for _, c := range []struct {
		kind, d, k uint8
		seed       uint64
		mean, v, t float64
	}{
		{0, 1, 2, 1, 3, 1, 0.5},     // isotropic
		{1, 4, 3, 2, 3, 1, 1e-3},    // diagonal, early
		{2, 4, 3, 3, 3, 1, 1},       // full, at T
		{3, 5, 3, 4, 3, 1, 0},       // mixed, at t = 0
		{2, 5, 1, 5, 1e6, 1e-12, 0}, // at the bounds: huge means, singular-looking covariances
		{3, 5, 3, 6, 1e6, 1e12, 1e-5},
		{1, 5, 3, 7, 100, 1e-3, 0},
	} {
		f.Add(c.kind, c.d, c.k, c.seed, c.mean, c.v, c.t)
	}
	be := backend.MustNew()
	sdes := []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()}
	f.Fuzz(func(t *testing.T, kind, d, k uint8, seed uint64, meanScale, varScale, tt float64) {
		if !(tt >= 0 && tt <= 1) || !(math.Abs(meanScale) <= MaxAbsMean) || !(varScale > 0 && varScale < math.Inf(1)) {
			return
		}
		m := fuzzMixture(kind, d, k, seed, meanScale, varScale)
		if m == nil {
			return
		}
		s := sdes[seed%3]
		xs := m.Perturb(s, tt).Sample(NewRand(seed), 3)
		far := make([]float64, m.Dim())
		for j := range far {
			far[j] = 3 * float64(j%2*2-1) * (math.Abs(meanScale) + math.Sqrt(varScale) + s.Std(tt))
		}
		xs = append(xs, far)
		outs, err := ExecOnceN(be, func(x, tn *Node) []*Node {
			score, div := m.ScoreDivFn(s)(x, tn)
			return []*Node{m.LogProbFn(s)(x, tn), score, div}
		}, xs, tt)
		if err != nil {
			t.Fatal(err)
		}
		logp, score, div := outs[0].Value().([]float64), outs[1].Value().([][]float64), outs[2].Value().([]float64)
		moderate := math.Abs(meanScale) <= 100 && varScale >= 1e-3 && varScale <= 1e3
		for i, x := range xs {
			finite := !math.IsNaN(logp[i]) && !math.IsInf(logp[i], 0) && !math.IsNaN(div[i]) && !math.IsInf(div[i], 0)
			for _, v := range score[i] {
				finite = finite && !math.IsNaN(v) && !math.IsInf(v, 0)
			}
			if !finite {
				t.Fatalf("%s t=%g point %v: log p %g, score %v, divergence %g: want finite values", s.Name(), tt, x, logp[i], score[i], div[i])
			}
			if !moderate {
				continue
			}
			want := denseReference(t, m, s, tt, x)
			// The score's scale: the largest |P_k y_k| over the components that matter.
			scale := 1.0
			for _, v := range want.score {
				scale = math.Max(scale, math.Abs(v))
			}
			if !closeTo(logp[i], want.logp, 1e-8) {
				t.Errorf("%s t=%g point %d: log p %.15g, dense %.15g", s.Name(), tt, i, logp[i], want.logp)
			}
			for j, v := range want.score {
				if math.Abs(score[i][j]-v) > 1e-8*scale {
					t.Errorf("%s t=%g point %d: score[%d] %.15g, dense %.15g", s.Name(), tt, i, j, score[i][j], v)
				}
			}
			if math.Abs(div[i]-want.div) > 1e-8*math.Max(math.Abs(want.div), scale*scale) {
				t.Errorf("%s t=%g point %d: divergence %.15g, dense %.15g", s.Name(), tt, i, div[i], want.div)
			}
		}
	})
}

// TestGroupedGraphSize: a mixture of one full and many diagonal components builds no tensor of
// K·d² numbers (the eigenbases of the diagonal components are not materialized): every node of
// the score-and-divergence graph holds at most a few times K·d + d² + B·K·d numbers.
func TestGroupedGraphSize(t *testing.T) {
	const d, k, batch = 64, 48, 2
	base := randomMixture(t, "full", d, 1, 3)
	weights := make([]float64, k)
	means := make([][]float64, k)
	cs := make([]covariance, k)
	for c := range k {
		weights[c] = 1 / float64(k)
		means[c] = make([]float64, d)
		means[c][c%d] = float64(c)
		if c == 0 {
			cs[c].full = base.covs[0]
			continue
		}
		cs[c].diag = make([]float64, d)
		for j := range cs[c].diag {
			cs[c].diag[j] = 1 + float64((c+j)%5)
		}
	}
	m, err := newMixture(weights, means, cs)
	if err != nil {
		t.Fatal(err)
	}
	for _, perPoint := range []bool{false, true} {
		t.Run(fmt.Sprintf("per-point=%v", perPoint), func(t *testing.T) {
			g := NewGraph(backend.MustNew(), "size")
			x := Parameter(g, "x", shapes.Make(dtypes.Float64, batch, d))
			tt := Scalar(g, dtypes.Float64, 0.5)
			if perPoint {
				tt = Parameter(g, "t", shapes.Make(dtypes.Float64, batch))
			}
			score, div := m.ScoreDivFn(sde.NewVP())(x, tt)
			_ = m.PosteriorFn(sde.NewVP())(x, tt)
			if score.Shape().Size() != batch*d || div.Shape().Size() != batch {
				t.Fatalf("score %s, divergence %s", score.Shape(), div.Shape())
			}
			limit := 4 * (k*d + d*d + batch*k*d)
			for _, n := range g.Nodes() {
				if n.Shape().Size() > limit {
					t.Errorf("node %s holds %d numbers, more than %d (K·d² = %d)", n.Shape(), n.Shape().Size(), limit, k*d*d)
				}
			}
		})
	}
}
