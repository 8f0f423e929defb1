package sampling

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// TestCorrectorLoopMatchesUnrolled: past the unroll limit the corrector iterations run as one
// compiled iteration called M times; the samples are the same as the unrolled graph's, in both
// orders.
func TestCorrectorLoopMatchesUnrolled(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVE()
	for _, first := range []bool{false, true} {
		t.Run(fmt.Sprintf("predictor-first=%v", first), func(t *testing.T) {
			o := DefaultPC()
			o.N, o.Steps, o.PredictorFirst = 20, 3, first
			run := Run{Seed: 4, DType: dtypes.Float64}
			unrolled, err := PC(b, s, m.ScoreFn(s), []int{64, 2}, o, run)
			if err != nil {
				t.Fatal(err)
			}
			unrollLimit = 1
			defer func() { unrollLimit = MaxUnrolledCorrectorSteps }()
			looped, err := PC(b, s, m.ScoreFn(s), []int{64, 2}, o, run)
			if err != nil {
				t.Fatal(err)
			}
			if looped.NFE != unrolled.NFE || looped.NFE != 20*4 {
				t.Errorf("NFE looped %d, unrolled %d, want 80", looped.NFE, unrolled.NFE)
			}
			a, c := unrolled.Points(), looped.Points()
			for i := range a {
				for j := range a[i] {
					if math.Abs(a[i][j]-c[i][j]) > 1e-12 {
						t.Fatalf("point %d: unrolled %v, looped %v", i, a[i], c[i])
					}
				}
			}
		})
	}
}

// TestPCFailsOnNonFinite: a sampler that diverges stops at the step where it did, saying so,
// instead of returning NaN samples.
func TestPCFailsOnNonFinite(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVE()
	o := DefaultPC()
	o.N, o.SNR = 50, 1e10
	_, err := PC(b, s, m.ScoreFn(s), []int{16, 2}, o, Run{Seed: 1})
	if err == nil {
		t.Fatal("SNR 1e10 gave samples")
	}
	t.Log(err)
	if want := "non-finite"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "step 1 of 50") {
		t.Errorf("error %q does not name the step and the non-finite values", err)
	}
}
