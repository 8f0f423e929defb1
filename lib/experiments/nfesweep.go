package experiments

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
	"gonum.org/v1/plot"
)

// NFESweepOptions configures NFESweep. Start from DefaultNFESweep.
type NFESweepOptions struct {
	// Methods are registered sampler names (sampling.Methods); empty: every registered method.
	Methods []string
	// Schedule is the grid of every method ("" uses each method's default).
	Schedule string
	// Steps are the grid sizes to try (the NFE follows from each method's evaluations per step).
	Steps []int
	// Score, when set, replaces the mixture's exact score (e.g. a learned one); the SW2 is still
	// measured against the mixture's samples.
	Score sde.ScoreFn
	// Denoise ends every run with the reverse-diffusion denoising step (one more NFE).
	Denoise bool
	Repeats
}

// DefaultNFESweep returns every method on its own grid at 5, 10, 20 and 40 steps, 1000 samples,
// 5 seeds, denoising on.
func DefaultNFESweep() NFESweepOptions {
	return NFESweepOptions{Steps: []int{5, 10, 20, 40}, Denoise: true, Repeats: DefaultRepeats()}
}

// NFESweep measures sample quality against the number of score evaluations: for each method and
// grid size, Seeds independent runs (own sampler seed, own fresh reference sample) scored by SW2
// to the mixture. The table has one row per method and one column per entry of Steps; the cell
// is the SW2 (mean ± sd) and NFE[i][j] the evaluations it cost. The floor row is the SW2 of two
// data samples.
func NFESweep(b compute.Backend, m *toy.Mixture, s sde.SDE, o NFESweepOptions) (*Table, [][]int, error) {
	start := time.Now()
	if err := o.validate(); err != nil {
		return nil, nil, fmt.Errorf("NFE sweep: %w", err)
	}
	if len(o.Steps) == 0 {
		return nil, nil, fmt.Errorf("NFE sweep: no steps: pass Steps (e.g. DefaultNFESweep().Steps)")
	}
	names := o.Methods
	if len(names) == 0 {
		names = sampling.MethodNames(false, false)
	}
	for _, n := range names {
		if _, err := sampling.LookupMethod(n); err != nil {
			return nil, nil, fmt.Errorf("NFE sweep: %w", err)
		}
	}
	score := o.Score
	if score == nil {
		score = m.ScoreFn(s)
	}
	cols := len(o.Steps)
	sw := make([][][]float64, len(names))
	nfe := make([][]int, len(names))
	for i := range names {
		nfe[i] = make([]int, cols)
		sw[i] = make([][]float64, cols)
		for j := range sw[i] {
			sw[i][j] = make([]float64, o.Seeds)
		}
	}
	err := o.forEach(len(names)*cols*o.Seeds, func(job int) error {
		i, j, k := job/(cols*o.Seeds), job/o.Seeds%cols, job%o.Seeds
		cell := i*cols + j
		res, err := sampling.Sample(b, s, score, []int{o.Samples, m.Dim()}, sampling.SolveOptions{Method: names[i],
			Schedule: o.Schedule, Steps: o.Steps[j], Denoise: o.Denoise}, sampling.Run{Seed: int64(runSeed(o.Seed, seedSampler, cell, k))})
		if err != nil {
			if strings.Contains(err.Error(), "non-finite") {
				sw[i][j][k] = math.Inf(1) // diverged: scored +Inf, shown as such
				return nil
			}
			return fmt.Errorf("NFE sweep, %s with %d steps, run %d: %w", names[i], o.Steps[j], k, err)
		}
		nfe[i][j] = res.NFE
		if sw[i][j][k], _, err = o.score(m, res.Points(), cell, k); err != nil {
			return fmt.Errorf("NFE sweep, %s with %d steps, run %d: %w", names[i], o.Steps[j], k, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	fl, _, err := o.floor(m)
	if err != nil {
		return nil, nil, fmt.Errorf("NFE sweep: %w", err)
	}
	grid := o.Schedule
	if grid == "" {
		grid = "each method's own"
	}
	t := &Table{Title: fmt.Sprintf("SW2 to data against steps on %s (d=%d), %s SDE, %s grid, %d samples, %d seeds", m.Name(), m.Dim(), sde.PaperName(s), grid, o.Samples, o.Seeds),
		RowHeader: "method (NFE per step)", Runs: o.Seeds}
	for _, st := range o.Steps {
		t.Cols = append(t.Cols, fmt.Sprintf("%d steps", st))
		t.Floor = append(t.Floor, fl)
	}
	for i, n := range names {
		mt, _ := sampling.LookupMethod(n)
		t.Rows = append(t.Rows, fmt.Sprintf("%s (%d)", n, mt.EvalsPerStep))
		for j := range o.Steps {
			t.setCell(i, j, Summarize(sw[i][j]))
		}
	}
	t.Note = spreadNote(o.Repeats) + fmt.Sprintf(" The floor is %s; a cell within about two of its standard errors of it is as good as exact sampling.", fl)
	t.Elapsed = time.Since(start)
	return t, nfe, nil
}

// NFEFigure draws an NFESweep table as SW2 against NFE (log–log), one curve per method (dashed
// for stochastic methods), with the floor as a grey dashed line.
func NFEFigure(t *Table, nfe [][]int, title string) *plot.Plot {
	var curves []plots.Curve
	for i, name := range t.Rows {
		var xs, ys []float64
		for j := range t.Cols {
			if v := t.Values[i][j]; !math.IsNaN(v) && !math.IsInf(v, 0) && nfe[i][j] > 0 {
				xs, ys = append(xs, float64(nfe[i][j])), append(ys, v)
			}
		}
		// Stochastic methods dashed, so that curves sharing a colour stay apart.
		method, _ := sampling.LookupMethod(strings.Fields(name)[0])
		curves = append(curves, plots.Curve{Name: name, X: xs, Y: ys, Marks: true, Color: plots.Categorical(i),
			Dashed: method != nil && method.Stochastic})
	}
	if len(t.Floor) > 0 {
		lo, hi := math.Inf(1), 0.0
		for _, row := range nfe {
			for _, v := range row {
				if v > 0 {
					lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
				}
			}
		}
		if hi > 0 {
			curves = append(curves, plots.Curve{Name: "floor (data vs data)", X: []float64{lo, hi}, Y: []float64{t.Floor[0].Mean, t.Floor[0].Mean}, Dashed: true, Color: plots.Categorical(7)})
		}
	}
	p := plots.Curves(title, "NFE (score evaluations)", "SW2 to data", curves...)
	plots.LogX(p)
	plots.LogY(p)
	return p
}
