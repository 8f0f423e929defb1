package experiments

import (
	"math"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

func TestTables(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("ncsn")
	s := sde.NewVE()
	sw, modes, err := PCTable(b, m, s, 300, 100, 0.16, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sw.String() + "\n" + modes.String())
	if len(sw.Rows) != 5 || len(sw.Cols) != 3 || !math.IsNaN(sw.Values[4][0]) {
		t.Errorf("PC table shape: %v", sw.Values)
	}
	if !strings.Contains(sw.String(), "| reverse diffusion |") {
		t.Errorf("markdown: %s", sw)
	}
	sweep, err := SNRSweep(b, m, s, "reverse_diffusion", 300, 100, []float64{0.05, 0.16}, 1)
	if err != nil || len(sweep.Rows) != 2 {
		t.Fatalf("SNR sweep: %v %v", sweep, err)
	}
	tol, err := ODETolerance(b, m, sde.NewVP(), 200, []float64{1e-5, 1e-2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + tol.String())
	nfe, errs := tol.Column(0), tol.Column(2)
	if !(nfe[1] < nfe[0]) || !(errs[1] > errs[0]) {
		t.Errorf("looser tolerance should cost fewer NFE and err more: NFE %v, error %v", nfe, errs)
	}
}
