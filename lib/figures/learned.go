package figures

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/plot"

	"github.com/scoresde/scoresde/lib/experiments"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// GraphField evaluates a 2-D score graph function at time t one point at a time (one compiled
// graph), as a plotting function.
func GraphField(b compute.Backend, score sde.ScoreFn, t float64) (func(x, y float64) (float64, float64), error) {
	exec, err := NewExec(b, func(x, tt *Node) *Node { return score(x, tt) })
	if err != nil {
		return nil, err
	}
	var firstErr error
	return func(x, y float64) (float64, float64) {
		out, err := exec.Call1(tensors.FromFlatDataAndDimensions([]float32{float32(x), float32(y)}, 1, 2), float32(t))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return math.NaN(), math.NaN()
		}
		v := tensors.MustCopyFlatData[float32](out)
		return float64(v[0]), float64(v[1])
	}, nil
}

// LearnedVsExact draws the exact score of a 2-D mixture (top row) and a learned score (bottom
// row) at each of the times, n×n arrows per panel over the bounds. As in ScoreFieldGrid, arrows
// have one length, colour gives |s| on one log scale shared by all panels (the same colour is the
// same magnitude in the exact and the learned field), and p_t is drawn faintly underneath.
func LearnedVsExact(b compute.Backend, learned sde.ScoreFn, m *toy.Mixture, s sde.SDE, times []float64, bounds plots.Bounds, n int) (*plots.Grid, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("learned vs exact: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	if n < 1 {
		return nil, fmt.Errorf("learned vs exact: %d arrows per side, want ≥ 1", n)
	}
	g := &plots.Grid{Rows: 2, Cols: len(times), Title: fmt.Sprintf("exact (top) and learned (bottom) scores of %s, %s SDE", m.Name(), sde.PaperName(s))}
	var bottom []*plot.Plot
	for _, t := range times {
		p := scoreField(field(m, s, t), m, s, t, bounds, n)
		p.Title.Text = fmt.Sprintf("exact, t = %s", short(t))
		g.Panels = append(g.Panels, p)
		f, err := GraphField(b, learned, t)
		if err != nil {
			return nil, err
		}
		q := scoreField(f, m, s, t, bounds, n)
		q.Title.Text = fmt.Sprintf("learned, t = %s", short(t))
		bottom = append(bottom, q)
	}
	g.Panels = append(g.Panels, bottom...)
	plots.ShareColorScale(g.Panels...)
	return g, nil
}

// ScoreErrorHeatmap draws log10 ‖s_θ(x, t) − ∇log p_t(x)‖ over the plane with data samples on top:
// the learned score is accurate where the data is and wrong where it is rare.
func ScoreErrorHeatmap(b compute.Backend, learned sde.ScoreFn, m *toy.Mixture, s sde.SDE, t float64, bounds plots.Bounds) (*plot.Plot, error) {
	f, err := experiments.ScoreErrorMap(b, learned, m, s, t, bounds.XMin, bounds.XMax, 101)
	if err != nil {
		return nil, err
	}
	p := plots.LogDensity(func(x, y float64) float64 { return math.Log10(f(x, y) + 1e-6) }, bounds, 101,
		plots.WithColorBarLabel("log10 ‖s_θ − exact score‖"))
	p.Title.Text = fmt.Sprintf("score error at t = %.3g, with data", t)
	data := m.Perturb(s, t).Sample(toy.NewRand(1), 500)
	if err := plots.AddScatter(p, data, "x_t samples", plots.Categorical(3)); err != nil {
		return nil, err
	}
	return p, nil
}
