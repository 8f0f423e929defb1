package experiments

import (
	"math"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

func TestStats(t *testing.T) {
	t.Run("known set", func(t *testing.T) {
		s := Summarize([]float64{1, 2, 3, 4})
		if s.N != 4 || s.Mean != 2.5 || math.Abs(s.SD-math.Sqrt(5.0/3)) > 1e-15 {
			t.Errorf("Summarize(1,2,3,4) = %+v, want mean 2.5, sd √(5/3) = 1.29099", s)
		}
		if math.Abs(s.SE()-math.Sqrt(5.0/3)/2) > 1e-15 {
			t.Errorf("SE = %g, want sd/2", s.SE())
		}
		if got := s.String(); got != "2.500 ± 1.291" {
			t.Errorf("String = %q", got)
		}
	})
	t.Run("degenerate", func(t *testing.T) {
		if s := Summarize([]float64{0.2}); s.Mean != 0.2 || !math.IsNaN(s.SD) || s.String() != "0.200" {
			t.Errorf("one value: %+v %q, want mean 0.2 and no spread", s, s)
		}
		if s := Summarize([]float64{1, math.Inf(1)}); !math.IsInf(s.Mean, 1) || !math.IsNaN(s.SD) {
			t.Errorf("diverged run: %+v, want mean +Inf, sd NaN", s)
		}
		if s := Summarize(nil); s.N != 0 || s.String() != "–" {
			t.Errorf("no values: %+v %q", s, s)
		}
	})
	t.Run("difference", func(t *testing.T) {
		a := Stat{Mean: 0.221, SD: 0.070, N: 6}
		b := Stat{Mean: 0.200, SD: 0.058, N: 6}
		d, se := Diff(a, b)
		want := math.Sqrt((0.070*0.070 + 0.058*0.058) / 6)
		if math.Abs(d-0.021) > 1e-12 || math.Abs(se-want) > 1e-12 {
			t.Errorf("Diff = %g ± %g, want 0.021 ± %g", d, se, want)
		}
		if differs(a, b, 2) {
			t.Errorf("0.221 ± 0.070 vs 0.200 ± 0.058 over 6 runs should be within 2 standard errors")
		}
		if !differs(Stat{Mean: 1, SD: 0.1, N: 5}, Stat{Mean: 0.5, SD: 0.1, N: 5}, 2) {
			t.Errorf("means 10 standard errors apart should differ")
		}
	})
	t.Run("seeds", func(t *testing.T) {
		seen := map[uint64]bool{}
		for p := seedSampler; p <= seedFloor; p++ {
			for c := range 4 {
				for k := range 4 {
					seen[runSeed(1, p, c, k)] = true
				}
			}
		}
		if len(seen) != 3*4*4 {
			t.Errorf("%d distinct derived seeds, want %d", len(seen), 3*4*4)
		}
	})
}

// finiteTable checks that every non-empty cell of tb has a finite mean and spread.
func finiteTable(t *testing.T, tb *Table) {
	t.Helper()
	for i := range tb.Rows {
		for j := range tb.Cols {
			if c := tb.Cell(i, j); c.N > 0 && (math.IsInf(c.Mean, 0) || math.IsNaN(c.SD) || c.SD < 0) {
				t.Errorf("%s: cell %s/%s = %+v, want a finite mean and spread", tb.Title, tb.Rows[i], tb.Cols[j], c)
			}
		}
	}
}

func TestTables(t *testing.T) {
	b := backend.MustNew()
	m, err := toy.LoadMixture("8gaussians")
	if err != nil {
		t.Fatal(err)
	}
	small := Repeats{Samples: 200, Seeds: 2, Seed: 1, Projections: 64}
	t.Run("PC table", func(t *testing.T) {
		o := DefaultPCTable()
		o.Repeats, o.Steps = small, 25
		sw, modes, err := PCTable(b, m, sde.NewVE(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + sw.String() + "\n" + modes.String())
		if len(sw.Rows) != 5 || len(sw.Cols) != 3 || !math.IsNaN(sw.Values[4][0]) || sw.Runs != 2 || len(sw.SD) != 5 {
			t.Errorf("PC table shape: %v", sw.Values)
		}
		finiteTable(t, sw)
		finiteTable(t, modes)
		// Two seeds draw two independent pairs of data samples: their floors differ.
		if f := sw.Floor[0]; f.N != 2 || !(f.SD > 0) || !(f.Mean > 0) {
			t.Errorf("floor %+v: want a positive spread over 2 independent reference samples", f)
		}
		md := sw.String()
		for _, want := range []string{"| reverse diffusion | ", " ± ", floorLabel, "standard error"} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q:\n%s", want, md)
			}
		}
	})
	t.Run("SNR sweep", func(t *testing.T) {
		o := DefaultSNRSweep()
		o.Repeats, o.Steps, o.SNRs = small, 25, []float64{0.01, 0.16}
		sweep, err := SNRSweep(b, m, sde.NewVP(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + sweep.String())
		if len(sweep.Rows) != 2 || sweep.Rows[0] != "0.01" || len(sweep.ColumnSD(0)) != 2 || len(sweep.ColumnSE(0)) != 2 {
			t.Fatalf("SNR sweep rows %v", sweep.Rows)
		}
		finiteTable(t, sweep)
		if !strings.Contains(sweep.Note, "Lowest mean SW2") {
			t.Errorf("note: %s", sweep.Note)
		}
		o.Workers, o.SNRs = 1, o.SNRs[:1]
		one, err := SNRSweep(b, m, sde.NewVP(), o)
		if err != nil {
			t.Fatal(err)
		}
		if one.Values[0][0] != sweep.Values[0][0] || one.SD[0][0] != sweep.SD[0][0] {
			t.Errorf("one worker gives %v ± %v, several %v ± %v: want the same runs", one.Values[0][0], one.SD[0][0], sweep.Values[0][0], sweep.SD[0][0])
		}
	})
	t.Run("ODE tolerance", func(t *testing.T) {
		o := DefaultODETolerance()
		o.Repeats, o.Tols = small, []float64{1e-5, 1e-2}
		tol, err := ODETolerance(b, m, sde.NewVP(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + tol.String())
		nfe, errs := tol.Column(0), tol.Column(2)
		if !(nfe[1] < nfe[0]) || !(errs[1] > errs[0]) {
			t.Errorf("looser tolerance should cost fewer NFE and err more: NFE %v, error %v", nfe, errs)
		}
		finiteTable(t, tol)
	})
	t.Run("bad options", func(t *testing.T) {
		o := DefaultPCTable()
		o.Seeds = 0
		if _, _, err := PCTable(b, m, sde.NewVE(), o); err == nil || !strings.Contains(err.Error(), "seeds=0") {
			t.Errorf("seeds 0: %v", err)
		}
		so := DefaultSNRSweep()
		so.SNRs = []float64{0.1, -1}
		if _, err := SNRSweep(b, m, sde.NewVE(), so); err == nil || !strings.Contains(err.Error(), "snr -1") {
			t.Errorf("negative snr: %v", err)
		}
	})
}
