package experiments

import (
	"math"
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// TestNFESweep: Euler's SW2 falls from 5 to 40 steps; EDM's Heun at 20 steps is near the floor;
// the table has one row per method and NFE counts each method's evaluations.
func TestNFESweep(t *testing.T) {
	m, err := toy.ParseSpec([]byte(`{"name":"2d","weights":[0.5,0.3,0.2],"means":[[0,0],[3,1],[-2,2]],"covs":[[[1,0.6],[0.6,0.8]],0.3,[0.2,1.5]]}`))
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultNFESweep()
	o.Methods, o.Steps = []string{"euler", "edm-heun"}, []int{5, 40}
	o.Samples, o.Seeds = 1000, 3
	tab, nfe, err := NFESweep(backend.MustNew(), m, sde.NewVP(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + tab.String())
	if len(tab.Rows) != 2 || len(tab.Cols) != 2 {
		t.Fatalf("table %d×%d, want 2×2", len(tab.Rows), len(tab.Cols))
	}
	if nfe[0][0] != 5+1 || nfe[1][1] != 2*40+1 {
		t.Errorf("NFE %v: want 6 for Euler with 5 steps and 81 for Heun with 40 (denoising included)", nfe)
	}
	if !(tab.Values[0][1] < tab.Values[0][0]) {
		t.Errorf("Euler's SW2 did not fall from 5 to 40 steps: %v", tab.Values[0])
	}
	fl := tab.Floor[0]
	if v := tab.Values[1][1]; math.Abs(v-fl.Mean) > 3*math.Hypot(tab.Cell(1, 1).SD, fl.SD) {
		t.Errorf("EDM Heun at 40 steps: SW2 %.3f, floor %s", v, fl)
	}
	if p := NFEFigure(tab, nfe, "test"); p == nil {
		t.Error("no figure")
	}
}
