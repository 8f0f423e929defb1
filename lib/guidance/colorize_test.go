package guidance

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// TestColorMatrix: M is orthogonal to float32 precision, its first column is (1,1,1)/√3, and
// Couple inverts Decouple.
func TestColorMatrix(t *testing.T) {
	m := ColorMatrix()
	for i := range 3 {
		for j := range 3 {
			dot := 0.0
			for k := range 3 {
				dot += m[k][i] * m[k][j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > 1e-6 {
				t.Errorf("(MᵀM)[%d][%d] = %.9f, want %g", i, j, dot, want)
			}
		}
		if math.Abs(m[i][0]-1/math.Sqrt(3)) > 1e-6 {
			t.Errorf("M[%d][0] = %.9f, want 1/√3", i, m[i][0])
		}
	}
	img := [][]float64{{0.2, -0.7, 0.9, 1, 0, -1}}
	y, err := Decouple(img)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := Couple(y)
	gray, _ := ToGray(img, 1, 2)
	for p := range 2 {
		if math.Abs(y[0][3*p]-math.Sqrt(3)*gray[0][p]) > 1e-6 {
			t.Errorf("pixel %d: gray channel %.7f, want √3 × %.7f", p, y[0][3*p], gray[0][p])
		}
	}
	for i, v := range img[0] {
		if math.Abs(back[0][i]-v) > 1e-12 {
			t.Errorf("Couple(Decouple(x))[%d] = %.15f, want %g", i, back[0][i], v)
		}
	}
	if _, err := ToGray(img, 2, 2); err == nil {
		t.Error("ToGray accepted a 2-pixel image as 2×2")
	}
	if _, err := Colorize(backend.MustNew(), sde.NewVP(), nil, [][]float64{{0, 0}}, 1, 1, DefaultInpaint(), sampling.Run{}); err == nil {
		t.Error("Colorize accepted a 2-pixel gray image as 1×1")
	}
}

// rgbMixture is a three-colour mixture of single RGB pixels (a 1×1 colour image) whose colours share
// nearly the same gray value, so the colour given the gray stays multimodal.
func rgbMixture(t *testing.T) *toy.Mixture {
	m, err := toy.ParseSpec([]byte(`{"weights":[0.4,0.35,0.25],
		"means":[[0.7,-0.4,-0.3],[-0.4,0.6,-0.1],[-0.3,-0.2,0.5]],
		"covs":[[[0.05,0.02,0],[0.02,0.04,0.01],[0,0.01,0.03]],0.03,[0.02,0.04,0.06]]}`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// decoupledMixture is the law of y = x·M for x ~ m: means μ·M and covariances MᵀΣM.
func decoupledMixture(t *testing.T, m *toy.Mixture) *toy.Mixture {
	M := ColorMatrix()
	var means [][]float64
	var covs [][][]float64
	for k, mu := range m.Means() {
		y := make([]float64, 3)
		for j := range 3 {
			for i := range 3 {
				y[j] += mu[i] * M[i][j]
			}
		}
		means = append(means, y)
		sig := m.Covs()[k]
		c := make([][]float64, 3)
		for a := range 3 {
			c[a] = make([]float64, 3)
			for b := range 3 {
				for i := range 3 {
					for j := range 3 {
						c[a][b] += M[i][a] * sig[i][j] * M[j][b]
					}
				}
			}
		}
		for a := range 3 {
			for b := a + 1; b < 3; b++ {
				avg := (c[a][b] + c[b][a]) / 2
				c[a][b], c[b][a] = avg, avg
			}
		}
		covs = append(covs, c)
	}
	out, err := toy.NewMixture(m.Weights(), means, covs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestColorizeGaussianMixture colorizes a 1×1 "image" of a 3-D mixture given its gray value: the two
// colour coordinates of the samples (decoupled) match the closed-form conditional of the decoupled
// mixture given its first coordinate (SW2 within 3× the floor), and the samples' gray is the given one.
//
// Imputation by replacement only approximates the conditional: the gray value tells the colours
// apart here mainly through the components' gray variances, which the noised known channel conveys
// only near t = 0, after the colour modes have split. The colour shares stay near the prior weights
// (about 0.40/0.36/0.24 against the exact 0.33/0.43/0.24, alike with 1,000 or 4,000 steps and with
// or without the corrector), so SW2 sits at about twice the floor at n = 1000 (about 4× at n = 4000);
// TestColorizeIsDecoupledInpaint shows that Colorize adds nothing to this gap of the method.
func TestColorizeGaussianMixture(t *testing.T) {
	b := backend.MustNew()
	m := rgbMixture(t)
	const g = 0.05
	cond, err := decoupledMixture(t, m).Conditional([]int{0}, []float64{g * gray0})
	if err != nil {
		t.Fatal(err)
	}
	fl, _ := metrics.SW2Floor(cond, n, 50, 3)
	gray := make([][]float64, n)
	for i := range gray {
		gray[i] = []float64{g}
	}
	for _, s := range []sde.SDE{sde.NewVP(), sde.NewVE()} {
		for _, bug := range []bool{false, true} {
			o := DefaultInpaint()
			o.ReferenceMeanBug = bug
			res, err := Colorize(b, s, m.ScoreFn(s), gray, 1, 1, o, sampling.Run{Seed: 4, DType: dtypes.Float64})
			if err != nil {
				t.Fatal(err)
			}
			pts := res.Points()
			if len(pts) != n || len(pts[0]) != 3 {
				t.Fatalf("%s: samples %d×%d, want %d×3", s.Name(), len(pts), len(pts[0]), n)
			}
			got, _ := ToGray(pts, 1, 1)
			worst := 0.0
			for i := range got {
				worst = math.Max(worst, math.Abs(got[i][0]-g))
			}
			if worst > 1e-5 {
				t.Fatalf("%s (reference bug %v): the samples' gray is up to %.3g away from %g", s.Name(), bug, worst, g)
			}
			y, _ := Decouple(pts)
			uv := make([][]float64, n)
			for i, p := range y {
				uv[i] = []float64{p[1], p[2]}
			}
			sw, _ := metrics.SlicedW2(uv, cond.Sample(toy.NewRand(8), n), 50, 3)
			share, _ := metrics.ModeWeights(cond, uv)
			t.Logf("%s (reference bug %v): SW2 %.4f to p(colour | gray=%g), floor %.4f; colour shares %.3f (exact %.3f); gray error ≤ %.2g",
				s.Name(), bug, sw, g, fl, share, cond.Weights(), worst)
			if sw > 3*fl {
				t.Errorf("%s (reference bug %v): colour SW2 %.4f exceeds 3× the floor %.4f", s.Name(), bug, sw, fl)
			}
		}
	}
}

// TestColorizeIsDecoupledInpaint: colorizing with the colour score equals inpainting the decoupled
// images with the decoupled mixture's own exact score (same seed), sample for sample.
func TestColorizeIsDecoupledInpaint(t *testing.T) {
	b := backend.MustNew()
	m := rgbMixture(t)
	dm := decoupledMixture(t, m)
	const k = 200
	gray := make([][]float64, k)
	data := make([][]float64, k)
	mask := make([][]float64, k)
	for i := range gray {
		g := -0.3 + 0.6*float64(i)/k
		gray[i] = []float64{g}
		data[i], mask[i] = []float64{g * gray0, 0, 0}, []float64{1, 0, 0}
	}
	s := sde.NewVP()
	o := DefaultInpaint()
	o.PC.N = 200
	run := sampling.Run{Seed: 11, DType: dtypes.Float64}
	col, err := Colorize(b, s, m.ScoreFn(s), gray, 1, 1, o, run)
	if err != nil {
		t.Fatal(err)
	}
	inp, err := Inpaint(b, s, dm.ScoreFn(s), data, mask, o, run)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Decouple(col.Points())
	worst := 0.0
	for i, p := range inp.Points() {
		for j := range 3 {
			worst = math.Max(worst, math.Abs(got[i][j]-p[j]))
		}
	}
	t.Logf("largest difference between Colorize (decoupled) and Inpaint in the decoupled space: %.2g", worst)
	if worst > 1e-5 {
		t.Errorf("Colorize and decoupled Inpaint differ by %.3g", worst)
	}
	if col.NFE != inp.NFE {
		t.Errorf("NFE %d, want %d", col.NFE, inp.NFE)
	}
}
