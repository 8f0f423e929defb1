// Package experiments runs the sampler ablations of the paper on toy mixtures with exact scores,
// in the shape of its tables: predictor × corrector (Table 1), signal-to-noise ratio (Table 5) and
// ODE tolerance against NFE (Figure 3). Each returns a Table that prints as Markdown and holds the
// numbers for plots; notebooks and the command line call them the same way.
package experiments

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/toy"
)

// Table is a small result table: Rows × Cols cells, each the mean over independent runs with its
// sample standard deviation, printed as Markdown ("0.200 ± 0.058") and kept as numbers for plots.
type Table struct {
	// Title is printed above the table.
	Title string
	// RowHeader heads the column of row names.
	RowHeader string
	// Rows and Cols name the rows and columns.
	Rows, Cols []string
	// Values[i][j] is the mean shown in cell (i, j); NaN marks an empty cell.
	Values [][]float64
	// SD[i][j] is the sample standard deviation of cell (i, j) over Runs runs; nil (or NaN) shows
	// the mean alone.
	SD [][]float64
	// Runs is the number of independent runs behind each cell.
	Runs int
	// Floor, when set, holds one Stat per column: the value a perfect sampler scores (two
	// independent data samples), printed as a last row that Column and Values leave out.
	Floor []Stat
	// Format prints one number (default "%.3f").
	Format string
	// Note is printed under the table.
	Note string
	// Elapsed is the wall time the table took.
	Elapsed time.Duration
}

// floorLabel is the row header of a table's floor row.
const floorLabel = "*floor: data vs data*"

// Cell returns cell (i, j) as a Stat.
func (t *Table) Cell(i, j int) Stat {
	v := t.Values[i][j]
	if math.IsNaN(v) {
		return Stat{}
	}
	sd := math.NaN()
	if t.SD != nil {
		sd = t.SD[i][j]
	}
	return Stat{Mean: v, SD: sd, N: max(t.Runs, 1)}
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
	row := func(name string, cell func(j int) Stat) {
		cells := make([]string, len(t.Cols))
		for j := range cells {
			cells[j] = cell(j).Format(f)
		}
		fmt.Fprintf(&sb, "| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	for i, r := range t.Rows {
		row(r, func(j int) Stat { return t.Cell(i, j) })
	}
	if len(t.Floor) == len(t.Cols) {
		row(floorLabel, func(j int) Stat { return t.Floor[j] })
	}
	if t.Note != "" {
		fmt.Fprintf(&sb, "\n%s\n", t.Note)
	}
	return sb.String()
}

// Column returns the means of column j, one per row, for plotting.
func (t *Table) Column(j int) []float64 {
	out := make([]float64, len(t.Rows))
	for i := range out {
		out[i] = t.Values[i][j]
	}
	return out
}

// ColumnSD returns the sample standard deviations of column j (the spread of one run), for
// error bars; NaN where a cell has none.
func (t *Table) ColumnSD(j int) []float64 {
	out := make([]float64, len(t.Rows))
	for i := range out {
		out[i] = t.Cell(i, j).SD
	}
	return out
}

// ColumnSE returns the standard errors of the means of column j (SD/√Runs), for error bars on
// the means; NaN where a cell has no spread.
func (t *Table) ColumnSE(j int) []float64 {
	out := make([]float64, len(t.Rows))
	for i := range out {
		out[i] = t.Cell(i, j).SE()
	}
	return out
}

// setCell stores the summary of cell (i, j), growing the table as needed.
func (t *Table) setCell(i, j int, s Stat) {
	for len(t.Values) <= i {
		t.Values = append(t.Values, nanRow(len(t.Cols)))
		t.SD = append(t.SD, nanRow(len(t.Cols)))
	}
	if s.N == 0 {
		return
	}
	t.Values[i][j], t.SD[i][j] = s.Mean, s.SD
}

func nanRow(n int) []float64 {
	r := make([]float64, n)
	for j := range r {
		r[j] = math.NaN()
	}
	return r
}

// spreadNote says what the ± of a table means.
func spreadNote(r Repeats) string {
	if r.Seeds < 2 {
		return fmt.Sprintf("One run per cell (%d points against a fresh data sample): no spread; use 5 or more seeds to judge differences.", r.Samples)
	}
	return fmt.Sprintf("Mean ± sample sd over %d independent runs per cell, each with its own sampler seed and its own fresh reference sample of %d data points; the standard error of a mean is sd/√%d. The floor row scores two independent data samples of %d points against each other (what a perfect sampler gets), over %d seeds.",
		r.Seeds, r.Samples, r.Seeds, r.Samples, r.Seeds)
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
		return Score{}, fmt.Errorf("SW2: %w", err)
	}
	me, err := metrics.ModeWeightError(m, pts)
	if err != nil {
		return Score{}, fmt.Errorf("mode weights: %w", err)
	}
	return Score{SW2: sw, ModeError: me, NFE: res.NFE}, nil
}
