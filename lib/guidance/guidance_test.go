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

const n = 1000

func twoD(t *testing.T) *toy.Mixture {
	m, err := toy.ParseSpec([]byte(`{"weights":[0.5,0.3,0.2],"means":[[0,0],[3,1],[-2,2]],"covs":[[[1,0.6],[0.6,0.8]],0.3,[0.2,1.5]]}`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func spread(pts [][]float64) float64 {
	var mx, my, v float64
	for _, p := range pts {
		mx += p[0] / float64(len(pts))
		my += p[1] / float64(len(pts))
	}
	for _, p := range pts {
		v += ((p[0]-mx)*(p[0]-mx) + (p[1]-my)*(p[1]-my)) / float64(len(pts))
	}
	return math.Sqrt(v)
}

// TestExactGuidance: with the exact classifier and w = 1, PC samples match component k (SW2 within
// 3× the floor between two samples of that component), and w = 4 concentrates them further.
func TestExactGuidance(t *testing.T) {
	b := backend.MustNew()
	m := twoD(t)
	for _, s := range []sde.SDE{sde.NewVP(), sde.NewVE()} {
		for k := range m.K() {
			grad, err := ExactClassGrad(m, s, k)
			if err != nil {
				t.Fatal(err)
			}
			comp := m.Component(k)
			fl, _ := metrics.SW2Floor(comp, n, 200, 3)
			var spreads []float64
			for _, w := range []float64{1, 4} {
				res, err := sampling.PC(b, s, Guided(m.ScoreFn(s), grad, w), []int{n, 2}, sampling.DefaultPC(), sampling.Run{Seed: 5, DType: dtypes.Float64})
				if err != nil {
					t.Fatal(err)
				}
				spreads = append(spreads, spread(res.Points()))
				if w == 1 {
					sw, _ := metrics.SlicedW2(res.Points(), comp.Sample(toy.NewRand(9), n), 200, 3)
					t.Logf("%s class %d: SW2 %.4f (floor %.4f)", s.Name(), k, sw, fl)
					if sw > 3*fl {
						t.Errorf("%s class %d, w=1: SW2 %.4f exceeds 3× the floor %.4f", s.Name(), k, sw, fl)
					}
				}
			}
			if !(spreads[1] < spreads[0]) {
				t.Errorf("%s class %d: spread %.3f at w=4 is not below %.3f at w=1", s.Name(), k, spreads[1], spreads[0])
			}
		}
	}
	if _, err := ExactClassGrad(m, sde.NewVP(), 3); err == nil {
		t.Error("class 3 of a 3-component mixture accepted")
	}
}

// TestImputation: sampling x2 given x1 = 0.5 by inpainting matches the closed-form conditional
// (SW2 within 3× its floor), for the fixed and the reference noise-free output.
func TestImputation(t *testing.T) {
	b := backend.MustNew()
	m := twoD(t)
	cond, err := m.Conditional([]int{0}, []float64{0.5})
	if err != nil {
		t.Fatal(err)
	}
	fl, _ := metrics.SW2Floor(cond, n, 50, 3)
	data := make([][]float64, n)
	mask := make([][]float64, n)
	for i := range data {
		data[i], mask[i] = []float64{0.5, 0}, []float64{1, 0}
	}
	for _, s := range []sde.SDE{sde.NewVP(), sde.NewVE()} {
		for _, bug := range []bool{false, true} {
			o := DefaultInpaint()
			o.ReferenceMeanBug = bug
			res, err := Inpaint(b, s, m.ScoreFn(s), data, mask, o, sampling.Run{Seed: 2, DType: dtypes.Float64})
			if err != nil {
				t.Fatal(err)
			}
			pts := res.Points()
			x2 := make([][]float64, n)
			for i, p := range pts {
				if math.Abs(p[0]-0.5) > 1e-5 && !bug { // the known value, scaled by m(ε) at the end
					t.Fatalf("%s: known coordinate changed to %v", s.Name(), p[0])
				}
				x2[i] = []float64{p[1]}
			}
			sw, _ := metrics.SlicedW2(x2, cond.Sample(toy.NewRand(8), n), 50, 3)
			t.Logf("%s (reference bug %v): SW2 %.4f to p(x2 | x1=0.5), floor %.4f", s.Name(), bug, sw, fl)
			if sw > 3*fl {
				t.Errorf("%s: imputed x2 SW2 %.4f exceeds 3× the floor %.4f", s.Name(), sw, fl)
			}
		}
	}
}
