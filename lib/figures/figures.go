// Package figures builds the toy versions of the paper's figures from the exact scores of
// Gaussian mixtures. Each builder returns a figure that plots.Save writes as PNG and SVG and
// plots.Show displays in a notebook; Write produces the whole set for `scoresde figures`.
package figures

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"gonum.org/v1/plot"

	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// VETimeForSigma returns the time t at which the VE SDE's noise scale σ(t) equals sigma.
func VETimeForSigma(s *sde.VE, sigma float64) float64 {
	return math.Log(sigma/s.SigmaMin) / math.Log(s.SigmaMax/s.SigmaMin)
}

// field returns the exact score of p_t as a plotting function (2-D mixtures only).
func field(m *toy.Mixture, s sde.SDE, t float64) func(x, y float64) (float64, float64) {
	p := m
	if t > 0 {
		p = m.Perturb(s, t)
	}
	return func(x, y float64) (float64, float64) {
		g := p.Score([]float64{x, y})
		return g[0], g[1]
	}
}

// ScoreFieldGrid draws the exact score ∇x log p_t of a 2-D mixture at each of the times, side by
// side, on an n×n grid of arrows over the bounds. Titles give t and the kernel's std s(t).
func ScoreFieldGrid(m *toy.Mixture, s sde.SDE, times []float64, b plots.Bounds, n int) (*plots.Grid, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("score field: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	g := &plots.Grid{Rows: 1, Cols: len(times), Title: fmt.Sprintf("exact score of p_t: %s under %s", m.Name(), s.Name())}
	for _, t := range times {
		p := plots.VectorField(field(m, s, t), b, 21)
		p.Title.Text = fmt.Sprintf("t = %.3g, s(t) = %.3g", t, s.Std(t))
		g.Panels = append(g.Panels, p)
	}
	return g, nil
}

// DensityGrid draws log p_t of a 2-D mixture at each of the times, side by side, floored 20 nats
// below its peak so the colours show the modes.
func DensityGrid(m *toy.Mixture, s sde.SDE, times []float64, b plots.Bounds) (*plots.Grid, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("density: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	g := &plots.Grid{Rows: 1, Cols: len(times), Title: fmt.Sprintf("log p_t of %s under %s", m.Name(), s.Name())}
	for _, t := range times {
		p := m
		if t > 0 {
			p = m.Perturb(s, t)
		}
		pl := plots.LogDensity(clippedLogProb(p, 20), b, 120)
		pl.Title.Text = fmt.Sprintf("t = %.3g, s(t) = %.3g", t, s.Std(t))
		g.Panels = append(g.Panels, pl)
	}
	return g, nil
}

// clippedLogProb returns log p of a 2-D mixture floored at (its largest value at a mean) − span,
// so that a heat map's colours show the modes rather than the far tails.
func clippedLogProb(m *toy.Mixture, span float64) func(x, y float64) float64 {
	peak := math.Inf(-1)
	for _, mu := range m.Means() {
		peak = math.Max(peak, m.LogProb(mu))
	}
	return func(x, y float64) float64 { return math.Max(m.LogProb([]float64{x, y}), peak-span) }
}

// DensityWithSamples draws log p of a 2-D mixture with n samples on top.
func DensityWithSamples(m *toy.Mixture, b plots.Bounds, n int, seed uint64) (*plot.Plot, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("density: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	p := plots.LogDensity(clippedLogProb(m, 30), b, 150)
	p.Title.Text = fmt.Sprintf("%s: log-density and %d samples", m.Name(), n)
	if err := plots.AddScatter(p, m.Sample(toy.NewRand(seed), n), "samples", plots.Categorical(1)); err != nil {
		return nil, err
	}
	return p, nil
}

// SamplesOnDensity draws points (e.g. a sampler's output) over the log-density of a 2-D mixture.
func SamplesOnDensity(m *toy.Mixture, points [][]float64, b plots.Bounds, title string) (*plot.Plot, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("samples on density: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	p := plots.LogDensity(clippedLogProb(m, 30), b, 150)
	p.Title.Text = title
	if err := plots.AddScatter(p, points, "samples", plots.Categorical(3)); err != nil {
		return nil, err
	}
	return p, nil
}

// MarginalCurves draws the kernel's mean coefficient m(t) and std s(t) of each SDE over [0, T].
func MarginalCurves(sdes ...sde.SDE) *plots.Grid {
	const n = 200
	var means, stds []plots.Curve
	for _, s := range sdes {
		ts := make([]float64, n+1)
		m := make([]float64, n+1)
		sd := make([]float64, n+1)
		for i := range ts {
			ts[i] = s.T() * float64(i) / n
			m[i], sd[i] = s.MeanCoeff(ts[i]), s.Std(ts[i])
		}
		means = append(means, plots.Curve{Name: s.Name(), X: ts, Y: m})
		stds = append(stds, plots.Curve{Name: s.Name(), X: ts, Y: sd})
	}
	return &plots.Grid{Rows: 1, Cols: 2, Title: "perturbation kernels p_0t(x_t | x_0) = N(m(t)·x_0, s(t)²I)", Panels: []*plot.Plot{
		plots.Curves("mean coefficient m(t)", "t", "m(t)", means...),
		plots.Curves("standard deviation s(t)", "t", "s(t)", stds...),
	}}
}

// Figure1 is the paper's Figure 1 on a 1-D mixture: the density p_t over time, nPaths forward
// paths from data samples and nPaths reverse-SDE paths (exact score) from prior samples, each with
// `steps` Euler–Maruyama steps.
func Figure1(b compute.Backend, m *toy.Mixture, s sde.SDE, nPaths, steps int, seed int64) (*plot.Plot, error) {
	if m.Dim() != 1 {
		return nil, fmt.Errorf("figure 1: mixture %s has dimension %d, want 1", m.Name(), m.Dim())
	}
	r := toy.NewRand(uint64(seed))
	fwd, err := sde.SimulateForward(b, s, m.Sample(r, nPaths), steps, seed)
	if err != nil {
		return nil, err
	}
	prior := make([][]float64, nPaths)
	for i := range prior {
		prior[i] = []float64{s.PriorStd() * r.NormFloat64()}
	}
	rev, err := sde.SimulateReverse(b, s.Reverse(m.ScoreFn(s), false), prior, 0, steps, seed+1)
	if err != nil {
		return nil, err
	}
	reverse := rev.Coordinate(0)
	for _, path := range reverse { // align with increasing times
		for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
	}
	span := 3 * s.PriorStd()
	density := func(t, x float64) float64 {
		if t <= 0 {
			return math.Exp(m.LogProb([]float64{x}))
		}
		return math.Exp(m.Perturb(s, t).LogProb([]float64{x}))
	}
	p := plots.Figure1(density, -span, span, fwd.Times, fwd.Coordinate(0), reverse)
	p.Title.Text = fmt.Sprintf("%s under %s: forward SDE (data → noise) and reverse SDE (noise → data)", m.Name(), s.Name())
	return p, nil
}

// Figure5 compares the std of the discrete chain's kernel (SMLD for VE, DDPM for VP) with the
// continuous SDE's for each number of steps in ns: the paper's Figure 5 check.
func Figure5(b compute.Backend, s sde.SDE, ns []int) (*plot.Plot, error) {
	var curves []plots.Curve
	cont := ContinuousCurve(s)
	curves = append(curves, cont)
	for _, n := range ns {
		d, err := sde.WithN(s, n)
		if err != nil {
			return nil, err
		}
		k, err := sde.DiscreteKernel(b, d)
		if err != nil {
			return nil, err
		}
		curves = append(curves, plots.Curve{Name: fmt.Sprintf("discrete chain, N=%d", n), X: k.Times, Y: k.Std, Dashed: true})
	}
	chain := map[string]string{"ve": "SMLD", "vp": "DDPM", "subvp": "Euler–Maruyama"}[s.Name()]
	return plots.Curves(fmt.Sprintf("%s chain vs %s SDE: std of p_0t", chain, s.Name()), "t", "s(t)", curves...), nil
}

// ContinuousCurve is the SDE's s(t) over [0, T] as a curve.
func ContinuousCurve(s sde.SDE) plots.Curve {
	const n = 200
	c := plots.Curve{Name: "SDE (continuous)"}
	for i := range n + 1 {
		t := s.T() * float64(i) / n
		c.X = append(c.X, t)
		c.Y = append(c.Y, s.Std(t))
	}
	return c
}

// ForwardTrajectories draws n forward paths of a 2-D mixture's samples, coloured by time.
func ForwardTrajectories(b compute.Backend, m *toy.Mixture, s sde.SDE, n, steps int, bounds plots.Bounds, seed int64) (*plot.Plot, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("trajectories: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	p, err := sde.SimulateForward(b, s, m.Sample(toy.NewRand(uint64(seed)), n), steps, seed)
	if err != nil {
		return nil, err
	}
	paths := make([][][]float64, n)
	for i := range paths {
		paths[i] = p.Point(i)
	}
	pl := plots.Trajectories(paths, p.Times, bounds)
	pl.Title.Text = fmt.Sprintf("forward %s paths of %s samples", s.Name(), m.Name())
	return pl, nil
}

// LossCurve plots a training loss per step with its moving average over window steps.
func LossCurve(losses []float64, window int) *plot.Plot {
	steps := make([]float64, len(losses))
	smooth := make([]float64, len(losses))
	acc := 0.0
	for i, l := range losses {
		steps[i] = float64(i + 1)
		acc += l
		if i >= window {
			acc -= losses[i-window]
		}
		smooth[i] = acc / float64(min(i+1, window))
	}
	return plots.Curves("training loss", "step", "loss",
		plots.Curve{Name: "per step", X: steps, Y: losses, Dashed: true},
		plots.Curve{Name: fmt.Sprintf("mean of %d steps", window), X: steps, Y: smooth})
}
