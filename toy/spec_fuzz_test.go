package toy

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzSpec: ParseSpec never panics, and a spec it accepts is a valid mixture (weights > 0
// summing to 1, consistent shapes, means and variances within the bounds) whose density and
// score are finite at its means and at points drawn from it, and whose Spec parses back.
func FuzzSpec(f *testing.F) {
	for _, c := range hostileSpecs {
		if len(c.spec) < 1<<12 {
			f.Add([]byte(c.spec))
		}
	}
	for _, s := range []string{
		`{"weights":[0.5,0.3,0.2],"means":[[0,0],[3,1],[-2,2]],"covs":[[[1,0.6],[0.6,0.8]],0.3,[0.2,1.5]]}`,
		`{"name":"x","weights":[1],"means":[[1e6,-1e6]],"covs":[[1e-12,1e12]]}`,
		`{"weights":[0.5,0.5],"means":[[0,0,0],[1,1,1]],"covs":[[[2,0,0],[0,1,0],[0,0,1]],[[1,0.9,0],[0.9,1,0],[0,0,1e-6]]]}`,
		`{"weights":[1],"means":[[0]],"covs":[1]}` + "\n\t ",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseSpec(data)
		if err != nil {
			if m != nil {
				t.Fatalf("error %v with a mixture", err)
			}
			return
		}
		d, k := m.Dim(), m.K()
		if d < 1 || d > MaxDim || k < 1 || k > MaxComponents || len(m.means) != k || len(m.eigval) != k || len(m.eigvec) != k || len(m.covs) != k {
			t.Fatalf("accepted a mixture with d=%d K=%d", d, k)
		}
		sum := 0.0
		for _, w := range m.weights {
			if !(w > 0) {
				t.Fatalf("accepted weight %g", w)
			}
			sum += w
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Fatalf("accepted weights summing to %g", sum)
		}
		for i := range k {
			if len(m.means[i]) != d || len(m.eigval[i]) != d {
				t.Fatalf("component %d has the wrong shape", i)
			}
			for j := range d {
				if math.Abs(m.means[i][j]) > MaxAbsMean {
					t.Fatalf("accepted mean %g", m.means[i][j])
				}
				if v := m.eigval[i][j]; !(v >= MinVariance && v <= MaxVariance) {
					t.Fatalf("accepted variance %g", v)
				}
			}
			if (m.eigvec[i] == nil) != (m.covs[i] == nil) {
				t.Fatalf("component %d: matrix and eigenvectors disagree", i)
			}
		}
		points := append(m.Means(), m.Sample(NewRand(1), 3)...)
		for _, x := range points {
			if lp := m.LogProb(x); math.IsNaN(lp) || math.IsInf(lp, 0) {
				t.Fatalf("log p(%v) = %g", x, lp)
			}
			for _, v := range m.Score(x) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("score at %v is %v", x, m.Score(x))
				}
			}
		}
		raw, err := json.Marshal(m.Spec())
		if err != nil {
			t.Fatalf("Spec does not marshal: %v", err)
		}
		if _, err := ParseSpec(raw); err != nil {
			t.Fatalf("Spec %s does not parse back: %v", raw, err)
		}
	})
}
