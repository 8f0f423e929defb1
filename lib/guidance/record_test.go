package guidance

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
)

// TestInpaintRecordsAndCounts: the inpainter runs the common PC loop, so it records its
// trajectory (RecordEvery), reports progress and counts the true NFE like the PC sampler, and
// returns the known coordinate as given.
func TestInpaintRecordsAndCounts(t *testing.T) {
	b := backend.MustNew()
	m := twoD(t)
	data := [][]float64{{0.5, 0}, {0.5, 0}, {0.5, 0}}
	mask := [][]float64{{1, 0}, {1, 0}, {1, 0}}
	o := DefaultInpaint()
	o.PC.N = 40
	calls := 0
	res, err := Inpaint(b, sde.NewVP(), m.ScoreFn(sde.NewVP()), data, mask, o, sampling.Run{Seed: 1, DType: dtypes.Float64, RecordEvery: 5,
		Progress: func(done, total int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trajectory) != 9 || len(res.Times) != 9 {
		t.Errorf("%d snapshots at %v, want 9 (start and every 5 of 40 steps)", len(res.Trajectory), res.Times)
	}
	if calls != 40 || res.NFE != 80 {
		t.Errorf("progress called %d times, NFE %d: want 40 and 80 (predictor + one corrector step)", calls, res.NFE)
	}
	for _, p := range res.Points() {
		if math.Abs(p[0]-0.5) > 1e-5 { // m(ε)·0.5 at ε = 1e-5
			t.Errorf("known coordinate %g in the output, want 0.5", p[0])
		}
	}
}
