package experiments

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// differenceZ is the number of standard errors by which a table note calls two means different.
const differenceZ = 2

// PCTableOptions configures PCTable. Start from DefaultPCTable.
type PCTableOptions struct {
	// Repeats sets the points per run and the independent runs per cell.
	Repeats
	// Steps is the number of PC time steps N (default 1000).
	Steps int
	// SNR is the signal-to-noise ratio of the corrector step rule (default 0.16).
	SNR float64
}

// DefaultPCTable returns the paper's PC1000 setting with snr 0.16 and one corrector step, on
// 1000 points per run and 5 seeds.
func DefaultPCTable() PCTableOptions {
	return PCTableOptions{Repeats: DefaultRepeats(), Steps: 1000, SNR: 0.16}
}

// PCTable samples o.Samples points with every predictor × corrector pair (PC with o.Steps steps,
// snr o.SNR, one corrector step; "none" × "none" is skipped, and ancestral sampling on sub-VP,
// which has no ancestral form) o.Seeds times, and returns the tables of SW2 to the data and of
// the mode-weight error, each cell the mean ± sd over the runs, with the floor row. The
// "probability flow" row uses the reverse-diffusion predictor on the ODE, as the paper's Table 1.
// The SW2 note lists the cells that differ from their row's "none" corrector by more than two
// standard errors.
func PCTable(b compute.Backend, m *toy.Mixture, s sde.SDE, o PCTableOptions) (sw2, modes *Table, err error) {
	start := time.Now()
	if err := o.validate(); err != nil {
		return nil, nil, fmt.Errorf("PC table: %w", err)
	}
	if o.Steps < 1 {
		return nil, nil, fmt.Errorf("PC table: steps=%d, want ≥ 1 (default 1000)", o.Steps)
	}
	type row struct {
		name, pred string
		flow       bool
	}
	rows := []row{{"ancestral sampling", "ancestral_sampling", false}, {"reverse diffusion", "reverse_diffusion", false},
		{"Euler–Maruyama", "euler_maruyama", false}, {"probability flow", "reverse_diffusion", true}, {"none", "none", false}}
	cols := []string{"none", "langevin", "ald"}
	type cell struct{ i, j int }
	var cells []cell
	for i, r := range rows {
		for j, c := range cols {
			if r.pred == "none" && c == "none" || r.pred == "ancestral_sampling" && !hasAncestral(s) {
				continue
			}
			cells = append(cells, cell{i, j})
		}
	}
	swRuns, meRuns := make([][]float64, len(cells)), make([][]float64, len(cells))
	for c := range cells {
		swRuns[c], meRuns[c] = make([]float64, o.Seeds), make([]float64, o.Seeds)
	}
	err = o.forEach(len(cells)*o.Seeds, func(job int) error {
		c, k := job/o.Seeds, job%o.Seeds
		r, corr := rows[cells[c].i], cols[cells[c].j]
		id := cells[c].i*len(cols) + cells[c].j
		po := sampling.DefaultPC()
		po.Predictor, po.Corrector, po.ProbabilityFlow, po.N, po.SNR = r.pred, corr, r.flow, o.Steps, o.SNR
		res, err := sampling.PC(b, s, m.ScoreFn(s), []int{o.Samples, m.Dim()}, po, sampling.Run{Seed: int64(runSeed(o.Seed, seedSampler, id, k))})
		if err != nil {
			return fmt.Errorf("PC table, %s + %s, run %d: %w", r.name, corr, k, err)
		}
		if swRuns[c][k], meRuns[c][k], err = o.score(m, res.Points(), id, k); err != nil {
			return fmt.Errorf("PC table, %s + %s, run %d: %w", r.name, corr, k, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	flSW, flME, err := o.floor(m)
	if err != nil {
		return nil, nil, fmt.Errorf("PC table: %w", err)
	}
	title := fmt.Sprintf("SW2 to the data, PC on %s, %s SDE, N=%d, snr=%g, %d samples, %d seeds", m.Name(), s.Name(), o.Steps, o.SNR, o.Samples, o.Seeds)
	sw2 = &Table{Title: title, RowHeader: "predictor \\ corrector", Cols: cols, Runs: o.Seeds}
	modes = &Table{Title: "mode-weight error (max_k |share of mode k − w_k|)", RowHeader: "predictor \\ corrector", Cols: cols, Runs: o.Seeds}
	for _, r := range rows {
		sw2.Rows, modes.Rows = append(sw2.Rows, r.name), append(modes.Rows, r.name)
	}
	sw2.setCell(len(rows)-1, 0, Stat{})
	modes.setCell(len(rows)-1, 0, Stat{})
	for c, ce := range cells {
		sw2.setCell(ce.i, ce.j, Summarize(swRuns[c]))
		modes.setCell(ce.i, ce.j, Summarize(meRuns[c]))
	}
	for range cols {
		sw2.Floor, modes.Floor = append(sw2.Floor, flSW), append(modes.Floor, flME)
	}
	sw2.Note = spreadNote(o.Repeats) + " " + versusColumn(sw2, 0)
	modes.Note = versusColumn(modes, 0)
	sw2.Elapsed = time.Since(start)
	modes.Elapsed = sw2.Elapsed
	return sw2, modes, nil
}

// versusColumn lists the cells of t that differ from the cell of column ref in their row by more
// than differenceZ standard errors of the difference.
func versusColumn(t *Table, ref int) string {
	if t.Runs < 2 {
		return ""
	}
	var hits []string
	for i := range t.Rows {
		base := t.Cell(i, ref)
		for j := range t.Cols {
			c := t.Cell(i, j)
			if j == ref || base.N == 0 || c.N == 0 || !differs(c, base, differenceZ) {
				continue
			}
			d, se := Diff(c, base)
			hits = append(hits, fmt.Sprintf("%s + %s (%+.3f ± %.3f)", t.Rows[i], t.Cols[j], d, se))
		}
	}
	if len(hits) == 0 {
		return fmt.Sprintf("No cell differs from the %q cell of its row by more than %d standard errors of the difference.", t.Cols[ref], differenceZ)
	}
	return fmt.Sprintf("Cells that differ from the %q cell of their row by more than %d standard errors (difference ± its standard error): %s. "+
		"Each comparison flags by chance about one time in 12 with 5 runs per cell (one in 20 with many), so a lone flag among many cells is weak evidence.",
		t.Cols[ref], differenceZ, strings.Join(hits, ", "))
}

// SNRSweepOptions configures SNRSweep. Start from DefaultSNRSweep.
type SNRSweepOptions struct {
	// Repeats sets the points per run and the independent runs per snr.
	Repeats
	// Predictor is the PC predictor (default "reverse_diffusion"; "none" sweeps the corrector alone,
	// the paper's C2000 with CorrectorSteps 2).
	Predictor string
	// Steps is the number of PC time steps N (default 1000, the paper's PC1000).
	Steps int
	// CorrectorSteps is the number of Langevin steps per time step (default 1).
	CorrectorSteps int
	// SNRs are the signal-to-noise ratios r to try, one row each (default 0.01 to 1, with 0.01,
	// the paper's VP optimum, and 0.16, its VE optimum).
	SNRs []float64
}

// DefaultSNRSweep returns reverse diffusion + one Langevin step, N = 1000, over
// r ∈ {0.01, 0.05, 0.1, 0.16, 0.25, 0.4, 0.6, 1}, on 1000 points per run and 5 seeds.
func DefaultSNRSweep() SNRSweepOptions {
	return SNRSweepOptions{Repeats: DefaultRepeats(), Predictor: "reverse_diffusion", Steps: 1000, CorrectorSteps: 1,
		SNRs: []float64{0.01, 0.05, 0.1, 0.16, 0.25, 0.4, 0.6, 1}}
}

// SNRSweep runs PC (o.Predictor + Langevin corrector, o.Steps steps) for each snr o.Seeds times and
// returns a table with one row per snr and the columns SW2 and mode-weight error, each the mean ±
// sd over the runs, with the floor row: the shape of the paper's Table 5. Column and ColumnSD (or
// ColumnSE) give the curve and its error bars; the note names the best snr and the ones within two
// standard errors of it.
func SNRSweep(b compute.Backend, m *toy.Mixture, s sde.SDE, o SNRSweepOptions) (*Table, error) {
	start := time.Now()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("SNR sweep: %w", err)
	}
	if o.Steps < 1 || o.CorrectorSteps < 1 {
		return nil, fmt.Errorf("SNR sweep: steps=%d, corrector steps=%d: want ≥ 1 each (defaults 1000 and 1)", o.Steps, o.CorrectorSteps)
	}
	if len(o.SNRs) == 0 {
		return nil, fmt.Errorf("SNR sweep: no snr values: pass SNRs (e.g. DefaultSNRSweep().SNRs)")
	}
	for _, r := range o.SNRs {
		if !(r > 0) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("SNR sweep: snr %g: want a finite r > 0", r)
		}
	}
	sw, me := make([][]float64, len(o.SNRs)), make([][]float64, len(o.SNRs))
	for i := range o.SNRs {
		sw[i], me[i] = make([]float64, o.Seeds), make([]float64, o.Seeds)
	}
	err := o.forEach(len(o.SNRs)*o.Seeds, func(job int) error {
		i, k := job/o.Seeds, job%o.Seeds
		po := sampling.DefaultPC()
		po.Predictor, po.N, po.SNR, po.Steps = o.Predictor, o.Steps, o.SNRs[i], o.CorrectorSteps
		res, err := sampling.PC(b, s, m.ScoreFn(s), []int{o.Samples, m.Dim()}, po, sampling.Run{Seed: int64(runSeed(o.Seed, seedSampler, i, k))})
		if err != nil {
			return fmt.Errorf("SNR sweep, snr %g, run %d: %w", o.SNRs[i], k, err)
		}
		if sw[i][k], me[i][k], err = o.score(m, res.Points(), i, k); err != nil {
			return fmt.Errorf("SNR sweep, snr %g, run %d: %w", o.SNRs[i], k, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	flSW, flME, err := o.floor(m)
	if err != nil {
		return nil, fmt.Errorf("SNR sweep: %w", err)
	}
	t := &Table{Title: fmt.Sprintf("PC (%s + langevin ×%d) on %s, %s SDE, N=%d, %d samples, %d seeds", o.Predictor, o.CorrectorSteps, m.Name(), s.Name(), o.Steps, o.Samples, o.Seeds),
		RowHeader: "snr", Cols: []string{"SW2", "mode-weight error"}, Runs: o.Seeds, Floor: []Stat{flSW, flME}}
	for i, r := range o.SNRs {
		t.Rows = append(t.Rows, fmt.Sprintf("%g", r))
		t.setCell(i, 0, Summarize(sw[i]))
		t.setCell(i, 1, Summarize(me[i]))
	}
	t.Note = spreadNote(o.Repeats) + " " + nearBest(t, 0)
	t.Elapsed = time.Since(start)
	return t, nil
}

// nearBest names the row of t with the lowest mean in column j and the rows within differenceZ
// standard errors of it.
func nearBest(t *Table, j int) string {
	best := -1
	for i := range t.Rows {
		if c := t.Cell(i, j); c.N > 0 && !math.IsNaN(c.Mean) && (best < 0 || c.Mean < t.Values[best][j]) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	s := fmt.Sprintf("Lowest mean %s at %s = %s", t.Cols[j], t.RowHeader, t.Rows[best])
	if t.Runs < 2 {
		return s + "."
	}
	var near []string
	for i := range t.Rows {
		if i != best && t.Cell(i, j).N > 0 && !differs(t.Cell(i, j), t.Cell(best, j), differenceZ) {
			near = append(near, t.Rows[i])
		}
	}
	if len(near) == 0 {
		return s + "; every other row is more than " + fmt.Sprint(differenceZ) + " standard errors above it."
	}
	return s + "; within " + fmt.Sprint(differenceZ) + " standard errors of it (not distinguishable with these runs): " + strings.Join(near, ", ") + "."
}

// ODEToleranceOptions configures ODETolerance. Start from DefaultODETolerance.
type ODEToleranceOptions struct {
	// Repeats sets the points per run and the independent runs (latents) per tolerance.
	Repeats
	// Tols are the RK45 tolerances rtol = atol to try, one row each (default 1e-6 to 1e-1).
	Tols []float64
	// ReferenceTol is the tolerance of the tight solve that each row's error is measured against
	// (default 1e-7).
	ReferenceTol float64
}

// DefaultODETolerance returns tolerances 1e-6, 1e-5, …, 1e-1 against a 1e-7 solve, on 1000 points
// per run and 5 seeds.
func DefaultODETolerance() ODEToleranceOptions {
	return ODEToleranceOptions{Repeats: DefaultRepeats(), Tols: []float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1}, ReferenceTol: 1e-7}
}

// ODETolerance integrates the probability-flow ODE with RK45 at each tolerance (rtol = atol) from
// o.Seeds independent latents (each run's tolerances share its latent and its reference sample, so
// rows differ only by the solver) and returns a table of NFE, SW2 (with its floor) and the mean
// distance of each sample to the o.ReferenceTol solve's sample from the same latent (the solver's
// own error), each the mean ± sd over the runs.
func ODETolerance(b compute.Backend, m *toy.Mixture, s sde.SDE, o ODEToleranceOptions) (*Table, error) {
	start := time.Now()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("ODE tolerance: %w", err)
	}
	if len(o.Tols) == 0 || !(o.ReferenceTol > 0) {
		return nil, fmt.Errorf("ODE tolerance: %d tolerances, reference %g: want at least one tolerance and a reference > 0 (see DefaultODETolerance)", len(o.Tols), o.ReferenceTol)
	}
	nfe, sw, dist := make([][]float64, len(o.Tols)), make([][]float64, len(o.Tols)), make([][]float64, len(o.Tols))
	for i := range o.Tols {
		nfe[i], sw[i], dist[i] = make([]float64, o.Seeds), make([]float64, o.Seeds), make([]float64, o.Seeds)
	}
	shape := []int{o.Samples, m.Dim()}
	err := o.forEach(o.Seeds, func(k int) error {
		run := sampling.Run{Seed: int64(runSeed(o.Seed, seedSampler, 0, k))}
		ref := sampling.DefaultODE()
		ref.RTol, ref.ATol = o.ReferenceTol, o.ReferenceTol
		exact, err := sampling.ODE(b, s, m.ScoreFn(s), shape, ref, run)
		if err != nil {
			return fmt.Errorf("ODE tolerance, reference solve, run %d: %w", k, err)
		}
		want := exact.Points()
		for i, tol := range o.Tols {
			oo := sampling.DefaultODE()
			oo.RTol, oo.ATol = tol, tol
			res, err := sampling.ODE(b, s, m.ScoreFn(s), shape, oo, run)
			if err != nil {
				return fmt.Errorf("ODE tolerance %g, run %d: %w", tol, k, err)
			}
			pts := res.Points()
			// One reference sample per run, shared by its tolerances like the latent, so that
			// the SW2 column moves only where the solver's error does.
			if sw[i][k], _, err = o.score(m, pts, 0, k); err != nil {
				return fmt.Errorf("ODE tolerance %g, run %d: %w", tol, k, err)
			}
			nfe[i][k] = float64(res.NFE)
			for p, x := range pts {
				d2 := 0.0
				for j := range x {
					d2 += (x[j] - want[p][j]) * (x[j] - want[p][j])
				}
				dist[i][k] += math.Sqrt(d2) / float64(len(pts))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	flSW, _, err := o.floor(m)
	if err != nil {
		return nil, fmt.Errorf("ODE tolerance: %w", err)
	}
	t := &Table{Title: fmt.Sprintf("probability-flow ODE (RK45) on %s, %s SDE, %d samples, %d seeds", m.Name(), s.Name(), o.Samples, o.Seeds),
		RowHeader: "rtol = atol", Cols: []string{"NFE", "SW2", fmt.Sprintf("error vs %g", o.ReferenceTol)}, Format: "%.4g",
		Runs: o.Seeds, Floor: []Stat{{}, flSW, {}}}
	for i, tol := range o.Tols {
		t.Rows = append(t.Rows, fmt.Sprintf("%g", tol))
		t.setCell(i, 0, Summarize(nfe[i]))
		t.setCell(i, 1, Summarize(sw[i]))
		t.setCell(i, 2, Summarize(dist[i]))
	}
	t.Note = spreadNote(o.Repeats) + " The tolerances of one run share its latent and its reference sample."
	t.Elapsed = time.Since(start)
	return t, nil
}

// hasAncestral reports whether the SDE's discrete chain has an ancestral sampler.
func hasAncestral(s sde.SDE) bool {
	_, ok := s.(sde.Ancestral)
	return ok
}
