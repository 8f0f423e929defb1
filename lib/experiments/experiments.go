// Package experiments runs the sampler ablations of the paper on toy mixtures with exact scores,
// in the shape of its tables: predictor × corrector (Table 1), signal-to-noise ratio (Table 5) and
// ODE tolerance against NFE (Figure 3). Each returns a Table that prints as Markdown and holds the
// numbers for plots; notebooks and the command line call them the same way.
package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// Table is a small result table: Rows × Cols cells, each a formatted value with its number.
type Table struct {
	Title      string
	RowHeader  string
	Rows, Cols []string
	// Values[i][j] is the number shown in cell (i, j); NaN marks an empty cell.
	Values [][]float64
	// Format prints one value (default "%.3f").
	Format string
	// Note is printed under the table.
	Note string
}

// String renders the table as Markdown.
func (t *Table) String() string {
	f := t.Format
	if f == "" {
		f = "%.3f"
	}
	var sb strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&sb, "%s\n\n", t.Title)
	}
	fmt.Fprintf(&sb, "| %s | %s |\n|%s\n", t.RowHeader, strings.Join(t.Cols, " | "), strings.Repeat("---|", len(t.Cols)+1))
	for i, r := range t.Rows {
		cells := make([]string, len(t.Cols))
		for j := range t.Cols {
			if v := t.Values[i][j]; math.IsNaN(v) {
				cells[j] = "–"
			} else {
				cells[j] = fmt.Sprintf(f, v)
			}
		}
		fmt.Fprintf(&sb, "| %s | %s |\n", r, strings.Join(cells, " | "))
	}
	if t.Note != "" {
		fmt.Fprintf(&sb, "\n%s\n", t.Note)
	}
	return sb.String()
}

// Score is the quality of one sample set against the mixture.
type Score struct {
	// SW2 is the sliced Wasserstein-2 distance to a fresh data sample of the same size.
	SW2 float64
	// ModeError is max_k |fraction of samples nearest component k − w_k|.
	ModeError float64
	// NFE is the sampler's score-evaluation count.
	NFE int
}

// Evaluate scores samples against a data sample of the same size drawn from seed.
func Evaluate(m *toy.Mixture, res *sampling.Result, seed uint64) (Score, error) {
	pts, dropped := metrics.Finite(res.Points())
	if dropped > 0 || len(pts) == 0 {
		return Score{SW2: math.Inf(1), ModeError: 1, NFE: res.NFE}, nil // diverged: worst score
	}
	ref := m.Sample(toy.NewRand(seed), len(pts))
	sw, err := metrics.SlicedW2(pts, ref, metrics.DefaultProjections, seed)
	if err != nil {
		return Score{}, err
	}
	me, err := metrics.ModeWeightError(m, pts)
	if err != nil {
		return Score{}, err
	}
	return Score{SW2: sw, ModeError: me, NFE: res.NFE}, nil
}

// PCTable samples n points with every predictor × corrector pair (PC with N steps, snr, one
// corrector step; "none" × "none" is skipped) and returns the SW2 and mode-weight-error tables.
// The "probability flow" row uses the reverse-diffusion predictor on the ODE, as the paper's Table 1.
func PCTable(b compute.Backend, m *toy.Mixture, s sde.SDE, n, steps int, snr float64, seed int64) (sw2, modes *Table, err error) {
	type row struct {
		name, pred string
		flow       bool
	}
	rows := []row{{"ancestral sampling", "ancestral_sampling", false}, {"reverse diffusion", "reverse_diffusion", false},
		{"Euler–Maruyama", "euler_maruyama", false}, {"probability flow", "reverse_diffusion", true}, {"none", "none", false}}
	cols := []string{"none", "langevin", "ald"}
	sw2 = &Table{Title: fmt.Sprintf("SW2 to the data, %s SDE, N=%d, snr=%g, %d samples", s.Name(), steps, snr, n), RowHeader: "predictor \\ corrector", Cols: cols}
	modes = &Table{Title: "mode-weight error", RowHeader: "predictor \\ corrector", Cols: cols}
	for _, r := range rows {
		var sRow, mRow []float64
		for _, c := range cols {
			if r.pred == "none" && c == "none" || r.pred == "ancestral_sampling" && s.Name() == "subvp" {
				sRow, mRow = append(sRow, math.NaN()), append(mRow, math.NaN())
				continue
			}
			o := sampling.DefaultPC()
			o.Predictor, o.Corrector, o.ProbabilityFlow, o.N, o.SNR = r.pred, c, r.flow, steps, snr
			res, err := sampling.PC(b, s, m.ScoreFn(s), []int{n, m.Dim()}, o, sampling.Run{Seed: seed})
			if err != nil {
				return nil, nil, fmt.Errorf("%s + %s: %w", r.name, c, err)
			}
			sc, err := Evaluate(m, res, uint64(seed)+1)
			if err != nil {
				return nil, nil, err
			}
			sRow, mRow = append(sRow, sc.SW2), append(mRow, sc.ModeError)
		}
		sw2.Rows, modes.Rows = append(sw2.Rows, r.name), append(modes.Rows, r.name)
		sw2.Values, modes.Values = append(sw2.Values, sRow), append(modes.Values, mRow)
	}
	fl, err := metrics.SW2Floor(m, n, metrics.DefaultProjections, uint64(seed))
	if err != nil {
		return nil, nil, err
	}
	sw2.Note = fmt.Sprintf("Floor (two data samples of %d points): %.3f.", n, fl)
	return sw2, modes, nil
}

// SNRSweep runs PC (predictor + Langevin corrector, N steps) for each snr and returns a table with
// one row per snr and the columns SW2 and mode-weight error: the shape of the paper's Table 5.
func SNRSweep(b compute.Backend, m *toy.Mixture, s sde.SDE, predictor string, n, steps int, snrs []float64, seed int64) (*Table, error) {
	t := &Table{Title: fmt.Sprintf("PC (%s + langevin) on %s, %s SDE, N=%d, %d samples", predictor, m.Name(), s.Name(), steps, n),
		RowHeader: "snr", Cols: []string{"SW2", "mode-weight error"}}
	for _, r := range snrs {
		o := sampling.DefaultPC()
		o.Predictor, o.N, o.SNR = predictor, steps, r
		res, err := sampling.PC(b, s, m.ScoreFn(s), []int{n, m.Dim()}, o, sampling.Run{Seed: seed})
		if err != nil {
			return nil, fmt.Errorf("snr %g: %w", r, err)
		}
		sc, err := Evaluate(m, res, uint64(seed)+1)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, fmt.Sprintf("%g", r))
		t.Values = append(t.Values, []float64{sc.SW2, sc.ModeError})
	}
	return t, nil
}

// ODETolerance integrates the probability-flow ODE with RK45 at each tolerance (rtol = atol) and
// returns a table of NFE, SW2 and the mean distance of each sample to the tightest solve's sample
// from the same latent (the solver's own error).
func ODETolerance(b compute.Backend, m *toy.Mixture, s sde.SDE, n int, tols []float64, seed int64) (*Table, error) {
	t := &Table{Title: fmt.Sprintf("probability-flow ODE (RK45) on %s, %s SDE, %d samples", m.Name(), s.Name(), n),
		RowHeader: "rtol = atol", Cols: []string{"NFE", "SW2", "error vs 1e-7"}, Format: "%.4g"}
	ref := sampling.DefaultODE()
	ref.RTol, ref.ATol = 1e-7, 1e-7
	exact, err := sampling.ODE(b, s, m.ScoreFn(s), []int{n, m.Dim()}, ref, sampling.Run{Seed: seed})
	if err != nil {
		return nil, err
	}
	want := exact.Points()
	for _, tol := range tols {
		o := sampling.DefaultODE()
		o.RTol, o.ATol = tol, tol
		res, err := sampling.ODE(b, s, m.ScoreFn(s), []int{n, m.Dim()}, o, sampling.Run{Seed: seed})
		if err != nil {
			return nil, fmt.Errorf("tolerance %g: %w", tol, err)
		}
		sc, err := Evaluate(m, res, uint64(seed)+1)
		if err != nil {
			return nil, err
		}
		dist := 0.0
		for i, p := range res.Points() {
			d2 := 0.0
			for j := range p {
				d2 += (p[j] - want[i][j]) * (p[j] - want[i][j])
			}
			dist += math.Sqrt(d2) / float64(n)
		}
		t.Rows = append(t.Rows, fmt.Sprintf("%g", tol))
		t.Values = append(t.Values, []float64{float64(res.NFE), sc.SW2, dist})
	}
	return t, nil
}

// Column returns column j of the table as a slice, for plotting.
func (t *Table) Column(j int) []float64 {
	out := make([]float64, len(t.Rows))
	for i := range out {
		out[i] = t.Values[i][j]
	}
	return out
}
