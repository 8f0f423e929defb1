package toy

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
)

// zeros is a JSON list of n zeros.
func zeros(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("0,", n), ",") + "]" }

// hostileSpecs are specs that must be refused with a clear message (not a panic); FuzzSpec
// starts from them too.
var hostileSpecs = []struct{ name, spec, want string }{
	{"trailing garbage", `{"weights":[1],"means":[[0]],"covs":[1]} xyz`, "trailing data after the JSON object at byte 41"},
	{"second object", `{"weights":[1],"means":[[0]],"covs":[1]}{"weights":[1]}`, "trailing data after the JSON object"},
	{"ragged cov", `{"weights":[1],"means":[[0,0]],"covs":[[[1,0],[]]]}`, "covs[0][1] has 0 values, want 2 (row 1 of a 2×2 matrix)"},
	{"ragged first row", `{"weights":[1],"means":[[0,0]],"covs":[[[1],[0,1]]]}`, "covs[0][0] has 1 values, want 2"},
	{"ragged second component", `{"weights":[0.5,0.5],"means":[[0,0],[1,1]],"covs":[1,[[1,0],[0]]]}`, "covs[1][1] has 1 values"},
	{"row not a list", `{"weights":[1],"means":[[0,0]],"covs":[[[1,0],3]]}`, "covs[0][1] is 3, not a number"},
	{"not PD", `{"weights":[1],"means":[[0,0]],"covs":[[[1,2],[2,1]]]}`, "covs[0] is not positive definite (Cholesky fails; smallest eigenvalue -1)"},
	{"singular", `{"weights":[1],"means":[[0,0]],"covs":[[[1,1],[1,1]]]}`, "covs[0] is not positive definite"},
	{"mean 1e20", `{"weights":[1],"means":[[1e20,0]],"covs":[1]}`, "means[0][0] is 1e+20, beyond ±1e+06 (the bound that keeps the float32 exact score finite)"},
	{"variance 1e20", `{"weights":[1],"means":[[0,0]],"covs":[1e20]}`, "covs[0]: variance is 1e+20, beyond 1e+12"},
	{"diag variance 1e20", `{"weights":[1],"means":[[0,0]],"covs":[[1,1e20]]}`, "covs[0]: variance [1] is 1e+20, beyond 1e+12"},
	{"eigenvalue 1e20", `{"weights":[1],"means":[[0,0]],"covs":[[[1e20,1],[1,1]]]}`, "covs[0]: largest eigenvalue is 1e+20"},
	{"tiny variance", `{"weights":[1],"means":[[0,0]],"covs":[1e-20]}`, "covs[0]: variance is 1e-20, below 1e-12"},
	{"number out of range", `{"weights":[1],"means":[[1e400]],"covs":[1]}`, "out of range for a float64"},
	{"cov out of range", `{"weights":[1],"means":[[0]],"covs":[1e400]}`, "covs[0]: 1e400 is out of range"},
	{"weights NaN", `{"weights":[NaN],"means":[[0]],"covs":[1]}`, "NaN and Infinity are not JSON numbers"},
	{"weight zero", `{"weights":[1,0],"means":[[0],[1]],"covs":[1,1]}`, "weights[1] is 0: weights must be > 0"},
	{"weights overflow", `{"weights":[1e308,1e308],"means":[[0],[1]],"covs":[1,1]}`, "weights sum to +Inf, want 1"},
	{"huge dimension", `{"weights":[1],"means":[` + zeros(MaxDim+1) + `],"covs":[1]}`, "means[0] has 1048577 coordinates, more than the 1048576 allowed"},
	{"full matrix too big", `{"weights":[1],"means":[` + zeros(MaxFullDim+1) + `],"covs":[[` + strings.TrimSuffix(strings.Repeat(zeros(1)+",", MaxFullDim+1), ",") + `]]}`, "covs[0]: a full 2049×2049 matrix is beyond the 2048×2048 allowed"},
	{"too many components", `{"weights":` + zeros(MaxComponents+1) + `,"means":[[0]],"covs":[1]}`, "weights has 16385 components, more than the 16384 allowed"},
	{"top-level array", `[1,2]`, "the spec is a JSON array: give one JSON object"},
	{"blank", "  \n", "spec is blank"},
	{"truncated", `{"weights":[1],"means":[[0]`, "the JSON ends too early"},
	{"empty cov list", `{"weights":[1],"means":[[0,0]],"covs":[[]]}`, "covs[0] is an empty list"},
	{"diag entry string", `{"weights":[1],"means":[[0,0]],"covs":[[1,"a"]]}`, `covs[0]: diagonal entry [1] is "a", not a number`},
	{"long raw cov", `{"weights":[1],"means":[[0]],"covs":[{"a":"` + strings.Repeat("x", 200) + `"}]}`, `covs[0]: {"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... is not a number`},
}

// TestHostileSpecs: each hostile spec gives its own one-line message naming the field, and no panic.
func TestHostileSpecs(t *testing.T) {
	seen := map[string]string{}
	for _, c := range hostileSpecs {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(c.spec))
			if err == nil {
				t.Fatalf("accepted %.80s", c.spec)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not contain %q", msg, c.want)
			}
			if strings.Contains(msg, "\n") || len(msg) > 300 {
				t.Errorf("error is not one short line: %q", msg)
			}
			if prev, ok := seen[msg]; ok {
				t.Errorf("same message as %s: %q", prev, msg)
			}
			seen[msg] = c.name
		})
	}
}

// TestSpecAtTheBounds: specs exactly at the documented bounds are accepted.
func TestSpecAtTheBounds(t *testing.T) {
	for _, spec := range []string{
		`{"weights":[1],"means":[[1e6,-1e6]],"covs":[1e12]}`,
		`{"weights":[1],"means":[[0,0]],"covs":[[1e-12,1e12]]}`,
		`{"weights":[1],"means":[[0,0]],"covs":[[[1,0.5],[0.5,1]]]}  ` + "\n",
		`{"weights":[1],"means":[` + zeros(MaxDim) + `],"covs":[1]}`,
	} {
		if _, err := ParseSpec([]byte(spec)); err != nil {
			t.Errorf("%.60s: %v", spec, err)
		}
	}
}

// TestCompactCovariances: a 10,000-D isotropic or diagonal spec is parsed, sampled, and scored
// without any d×d matrix (a dense one would be 800 MB per copy), and gives the closed forms.
func TestCompactCovariances(t *testing.T) {
	const d = 10000
	mu := make([]float64, d)
	for i := range mu {
		mu[i] = 1
	}
	means, _ := json.Marshal([][]float64{mu, make([]float64, d)})
	diag := make([]float64, d)
	for i := range diag {
		diag[i] = 0.5 + float64(i%3)
	}
	dj, _ := json.Marshal(diag)
	for _, covs := range []string{`[0.5, 2]`, `[` + string(dj) + `, 2]`} {
		spec := fmt.Sprintf(`{"weights":[0.25,0.75],"means":%s,"covs":%s}`, means, covs)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		m, err := ParseSpec([]byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		xs := m.Sample(NewRand(1), 20)
		p := m.Perturb(sde.NewVP(), 0.5)
		var lp []float64
		for _, x := range xs {
			lp = append(lp, m.LogProb(x), p.LogProb(x))
			m.Score(x)
		}
		c, err := m.Conditional([]int{0, 5}, []float64{1, 0})
		if err != nil {
			t.Fatal(err)
		}
		c.Sample(NewRand(2), 2)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
			t.Errorf("covs %.20s: %d MB allocated: a dense d×d matrix is built", covs, alloc>>20)
		}
		if el := time.Since(start); el > 20*time.Second {
			t.Errorf("covs %.20s: took %s", covs, el)
		}
		for k := range m.K() {
			if !m.diagonal(k) || m.covs[k] != nil || p.covs[k] != nil {
				t.Errorf("component %d is stored dense", k)
			}
		}
		// Closed form of component 1 (mean 0, variance 2·I) at x = 0, which it dominates.
		x := make([]float64, d)
		want := math.Log(0.75) - 0.5*float64(d)*math.Log(2*math.Pi*2)
		if got := m.LogProb(x); math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("log p(0) = %.12g, want %.12g", got, want)
		}
		if c.Dim() != d-2 || c.K() != 2 {
			t.Errorf("conditional: d=%d K=%d", c.Dim(), c.K())
		}
		for _, v := range lp {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("log-density %v", v)
			}
		}
	}
}

// TestDiagonalMatchesDense: a diagonal covariance given as a list and as a matrix give the same
// mixture, and the conditional of a diagonal component matches the dense formula.
func TestDiagonalMatchesDense(t *testing.T) {
	list, err := ParseSpec([]byte(`{"weights":[0.4,0.6],"means":[[0,1,2],[1,-1,0]],"covs":[[0.5,1,2],0.3]}`))
	if err != nil {
		t.Fatal(err)
	}
	dense, err := NewMixture([]float64{0.4, 0.6}, [][]float64{{0, 1, 2}, {1, -1, 0}},
		[][][]float64{{{0.5, 0, 0}, {0, 1, 0}, {0, 0, 2}}, {{0.3, 0, 0}, {0, 0.3, 0}, {0, 0, 0.3}}})
	if err != nil {
		t.Fatal(err)
	}
	// rotated is the same mixture with a rotation by an exact multiple of nothing: force the
	// full-matrix path by a tiny correlation, to compare the diagonal conditional with the dense one.
	rotated, err := NewMixture([]float64{0.4, 0.6}, [][]float64{{0, 1, 2}, {1, -1, 0}},
		[][][]float64{{{0.5, 1e-13, 0}, {1e-13, 1, 0}, {0, 0, 2}}, {{0.3, 0, 1e-13}, {0, 0.3, 0}, {1e-13, 0, 0.3}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{0, 0, 0}, {1, 2, 3}, {-4, 0.5, 9}} {
		for _, other := range []*Mixture{dense, rotated} {
			if a, b := list.LogProb(x), other.LogProb(x); math.Abs(a-b) > 1e-9 {
				t.Errorf("log p(%v): %g vs %g", x, a, b)
			}
		}
	}
	cl, err := list.Conditional([]int{1}, []float64{0.7})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := rotated.Conditional([]int{1}, []float64{0.7})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{0, 0}, {1, 3}, {-2, 5}} {
		if a, b := cl.LogProb(x), cr.LogProb(x); math.Abs(a-b) > 1e-9 {
			t.Errorf("conditional log p(%v): %g vs %g", x, a, b)
		}
	}
	if !cl.axisAligned() {
		t.Error("the conditional of a diagonal mixture is stored dense")
	}
}

// TestSpecRoundTrip: Spec writes compact covariances (a scalar, a list, a matrix) that ParseSpec
// reads back into the same mixture.
func TestSpecRoundTrip(t *testing.T) {
	m := twoD(t)
	raw, err := json.Marshal(m.Spec())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`0.3`, `[0.2,1.5]`, `[[1,0.6],[0.6,0.8]]`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("spec %s lacks %s", raw, want)
		}
	}
	back, err := ParseSpec(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{0, 0}, {3, 1}, {-5, 2}} {
		if a, b := m.LogProb(x), back.LogProb(x); a != b {
			t.Errorf("log p(%v): %g after the round trip, %g before", x, b, a)
		}
	}
}

// TestBoundsKeepFloat32ScoreFinite: at the documented bounds (|μ| = MaxAbsMean, variances
// MinVariance and MaxVariance) the float32 graph score stays finite under every SDE, while a
// mean of 1e20 (refused by ParseSpec, built here by hand) overflows it to NaN or Inf.
func TestBoundsKeepFloat32ScoreFinite(t *testing.T) {
	b := backend.MustNew()
	finite := func(m *Mixture, s sde.SDE, tt float64, xs [][]float32) bool {
		out := MustExecOnce(b, func(x, t *Node) *Node { return m.ScoreFn(s)(x, t) }, xs, float32(tt))
		for _, row := range out.Value().([][]float32) {
			for _, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return false
				}
			}
		}
		return true
	}
	edge, err := ParseSpec([]byte(`{"weights":[0.5,0.5],"means":[[1e6,-1e6],[-1e6,1e6]],"covs":[[1e-12,1e12],1e-12]}`))
	if err != nil {
		t.Fatal(err)
	}
	xs := [][]float32{{1e6, -1e6}, {-1e6, 1e6}, {0, 0}, {3e6, 3e6}}
	for _, s := range []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} {
		for _, tt := range []float64{1e-5, 1e-3, 0.5, 1} {
			if !finite(edge, s, tt, xs) {
				t.Errorf("%s t=%g: float32 score at the bounds is not finite", s.Name(), tt)
			}
		}
	}
	huge := &Mixture{name: "huge", weights: []float64{1}, means: [][]float64{{1e20, 0}}, eigval: [][]float64{{1, 1}}, covs: [][][]float64{nil}, eigvec: [][][]float64{nil}}
	if finite(huge, sde.NewVP(), 1e-3, [][]float32{{1e20, 0}}) {
		t.Error("a mean of 1e20 gives a finite float32 score: the bound is not what makes it finite")
	}
}
