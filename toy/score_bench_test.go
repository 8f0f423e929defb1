package toy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
)

// benchPoints is the batch of the exact-score benchmarks.
const benchPoints = 10000

// randomMixture builds a K-component mixture in dimension d whose covariances are of the given
// kind: "iso" (σ_k²·I), "diag" (d variances), "full" (a random rotated SPD matrix) or "mixed"
// (full, diagonal and isotropic components in turn). Means lie in [−3, 3]^d, variances in
// [0.2, 1.7], weights are random and sum to 1.
func randomMixture(tb testing.TB, kind string, d, k int, seed uint64) *Mixture {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 0xbe1c))
	weights := make([]float64, k)
	sum := 0.0
	for i := range weights {
		weights[i] = 0.5 + r.Float64()
		sum += weights[i]
	}
	means := make([][]float64, k)
	covs := make([]covariance, k)
	for i := range k {
		weights[i] /= sum
		means[i] = make([]float64, d)
		for j := range means[i] {
			means[i][j] = 6*r.Float64() - 3
		}
		c := kind
		if kind == "mixed" {
			c = []string{"full", "diag", "iso"}[i%3]
		}
		switch c {
		case "iso":
			v := 0.2 + 1.5*r.Float64()
			covs[i].diag = make([]float64, d)
			for j := range covs[i].diag {
				covs[i].diag[j] = v
			}
		case "diag":
			covs[i].diag = make([]float64, d)
			for j := range covs[i].diag {
				covs[i].diag[j] = 0.2 + 1.5*r.Float64()
			}
		case "full":
			// A Aᵀ/d + 0.2 I with A Gaussian: well conditioned, every entry non-zero.
			a := make([][]float64, d)
			for j := range a {
				a[j] = make([]float64, d)
				for l := range a[j] {
					a[j][l] = r.NormFloat64()
				}
			}
			full := make([][]float64, d)
			for j := range full {
				full[j] = make([]float64, d)
				for l := range full[j] {
					for q := range d {
						full[j][l] += a[j][q] * a[l][q] / float64(d)
					}
				}
				full[j][j] += 0.2
			}
			if d == 1 { // a 1×1 matrix is diagonal: keep it a "full" spec all the same
				full[0][0] = 0.2 + 1.5*r.Float64()
			}
			covs[i].full = full
		default:
			tb.Fatalf("unknown mixture kind %q", kind)
		}
	}
	m, err := newMixture(weights, means, covs)
	if err != nil {
		tb.Fatal(err)
	}
	return m.WithName(fmt.Sprintf("%s/d=%d/K=%d", kind, d, k))
}

// benchInput returns n points drawn from m perturbed to time t under s, as a float32 tensor.
func benchInput(m *Mixture, s sde.SDE, t float64, n int) *tensors.Tensor {
	xs := m.Perturb(s, t).Sample(NewRand(9), n)
	d := m.Dim()
	flat := make([]float32, 0, n*d)
	for _, x := range xs {
		for _, v := range x {
			flat = append(flat, float32(v))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, n, d)
}

// benchExec times exec called on (x, t = 0.5 float32) and reports points/s.
func benchExec(b *testing.B, exec *graph.Exec, x *tensors.Tensor) {
	t := float32(0.5)
	if _, err := exec.Call(x, t); err != nil { // compile outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		outs, err := exec.Call(x, t)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(benchPoints)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkExactScore times the exact score of an 8-component mixture (isotropic, diagonal or
// full covariances) on 10,000 points in float32 under the VP SDE at one scalar t, one compiled
// exec called in the loop.
func BenchmarkExactScore(b *testing.B) {
	be := backend.MustNew()
	s := sde.NewVP()
	for _, kind := range []string{"iso", "diag", "full"} {
		for _, d := range []int{2, 5, 32} {
			b.Run(fmt.Sprintf("%s/d=%d", kind, d), func(b *testing.B) {
				m := randomMixture(b, kind, d, 8, 1)
				score := m.ScoreFn(s)
				exec, err := graph.NewExec(be, func(x, t *graph.Node) *graph.Node { return score(x, t) })
				if err != nil {
					b.Fatal(err)
				}
				benchExec(b, exec, benchInput(m, s, 0.5, benchPoints))
			})
		}
	}
}

// autodiffDivergence is ∇·score at x by d backward passes, as lib/likelihood's exact divergence
// computes it for a score without a closed form.
func autodiffDivergence(score sde.ScoreFn, x, t *graph.Node) (s, div *graph.Node) {
	s = score(x, t)
	d := x.Shape().Dimensions[1]
	var terms []*graph.Node
	for i := range d {
		gi := graph.Gradient(graph.ReduceAllSum(graph.Slice(s, graph.AxisRange(), graph.AxisElem(i))), x)[0]
		terms = append(terms, graph.Slice(gi, graph.AxisRange(), graph.AxisElem(i)))
	}
	return s, graph.ReduceSum(graph.Concatenate(terms, 1), 1)
}

// BenchmarkExactScoreDivergence times the score and its divergence for the 5-D, 8-component
// mixture with full covariances (10,000 points, float32, VP, scalar t): "autodiff" by d backward
// passes, "closed" by Mixture.ScoreDivFn.
func BenchmarkExactScoreDivergence(b *testing.B) {
	be := backend.MustNew()
	s := sde.NewVP()
	m := randomMixture(b, "full", 5, 8, 1)
	x := benchInput(m, s, 0.5, benchPoints)
	fns := []struct {
		name string
		fn   func(x, t *graph.Node) (*graph.Node, *graph.Node)
	}{
		{"autodiff", func(x, t *graph.Node) (*graph.Node, *graph.Node) { return autodiffDivergence(m.ScoreFn(s), x, t) }},
		{"closed", m.ScoreDivFn(s)},
	}
	for _, f := range fns {
		b.Run(f.name, func(b *testing.B) {
			exec, err := graph.NewExec(be, f.fn)
			if err != nil {
				b.Fatal(err)
			}
			benchExec(b, exec, x)
		})
	}
}
