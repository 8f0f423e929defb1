// Package figures builds the toy versions of the paper's figures from the exact scores of
// Gaussian mixtures. Each builder returns a figure that plots.Save writes as PNG and SVG and
// plots.Show displays in a notebook; Write produces the whole set for `scoresde figures`.
package figures

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

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
// side, on an n×n grid of arrows over the bounds. Arrows all have one length and their colour gives
// |s| on one logarithmic scale shared by all panels, over a faint grey log p_t with the modes
// marked, so the panels compare: the field weakens as the noise grows. Titles give t and the
// kernel's std s(t). Each panel stands on its own too (e.g. plots.Show(g.Panels[0], …)).
func ScoreFieldGrid(m *toy.Mixture, s sde.SDE, times []float64, b plots.Bounds, n int) (*plots.Grid, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("score field: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	if n < 1 {
		return nil, fmt.Errorf("score field: %d arrows per side, want ≥ 1", n)
	}
	g := &plots.Grid{Rows: 1, Cols: len(times), Title: fmt.Sprintf("exact score of p_t: %s under the %s SDE", m.Name(), sde.PaperName(s))}
	for _, t := range times {
		p := scoreField(field(m, s, t), m, s, t, b, n)
		p.Title.Text = timeTitle(s, t)
		g.Panels = append(g.Panels, p)
	}
	plots.ShareColorScale(g.Panels...)
	return g, nil
}

// scoreField draws f over b as a score field of the mixture m at time t: one arrow length,
// colour |s| on a log scale, the density of p_t underneath and its means marked.
func scoreField(f func(x, y float64) (float64, float64), m *toy.Mixture, s sde.SDE, t float64, b plots.Bounds, n int) *plot.Plot {
	pt := perturbed(m, s, t)
	return plots.VectorField(f, b, n,
		plots.WithLogColor(true),
		plots.WithColorBarLabel("|s(x, t)| (log scale)"),
		plots.WithDensity(func(x, y float64) float64 { return pt.LogProb([]float64{x, y}) }),
		plots.WithMarkers(pt.Means()))
}

// perturbed returns p_t of the mixture (the mixture itself at t ≤ 0).
func perturbed(m *toy.Mixture, s sde.SDE, t float64) *toy.Mixture {
	if t > 0 {
		return m.Perturb(s, t)
	}
	return m
}

// timeTitle names the time t of the SDE s for a panel title: "t = 0.27, s(t) = 0.1".
func timeTitle(s sde.SDE, t float64) string {
	return fmt.Sprintf("t = %s, s(t) = %s", short(t), short(s.Std(t)))
}

// short formats v with up to 3 significant digits, without exponent for ordinary sizes.
func short(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// DensityGrid draws log p_t of a 2-D mixture at each of the times, side by side, floored 20 nats
// below its peak so the colours show the modes.
func DensityGrid(m *toy.Mixture, s sde.SDE, times []float64, b plots.Bounds) (*plots.Grid, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("density: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	g := &plots.Grid{Rows: 1, Cols: len(times), Title: fmt.Sprintf("log p_t of %s under the %s SDE", m.Name(), sde.PaperName(s))}
	for _, t := range times {
		pl := plots.LogDensity(clippedLogProb(perturbed(m, s, t), 20), b, 120)
		pl.Title.Text = timeTitle(s, t)
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

// MarginalCurves draws the kernel's mean coefficient m(t) (left) and std s(t) (right, log axis:
// it spans 0.01 to 50 for VE and starts near 0 for VP and sub-VP) of each SDE over [0, T]. A curve
// equal to an earlier one (VP and sub-VP share m(t)) is drawn dashed over it and named, say,
// "sub-VP (= VP)", so both stay visible. Legends sit where no curve passes.
func MarginalCurves(sdes ...sde.SDE) *plots.Grid {
	const n = 200
	var means, stds []plots.Curve
	for i, s := range sdes {
		ts := make([]float64, n+1)
		m := make([]float64, n+1)
		sd := make([]float64, n+1)
		for i := range ts {
			ts[i] = s.T() * float64(i) / n
			m[i], sd[i] = s.MeanCoeff(ts[i]), s.Std(ts[i])
		}
		means = append(means, plots.Curve{Name: sde.PaperName(s), X: ts, Y: m, Color: plots.Categorical(i), Width: 2})
		stds = append(stds, plots.Curve{Name: sde.PaperName(s), X: ts, Y: sd, Color: plots.Categorical(i), Width: 2})
	}
	markEqual(means)
	markEqual(stds)
	sp := plots.Curves("standard deviation s(t)", "t", "s(t)", stds...)
	plots.LogY(sp)
	return &plots.Grid{Rows: 1, Cols: 2, Title: "perturbation kernels p_0t(x_t | x_0) = N(m(t)·x_0, s(t)²I)", Panels: []*plot.Plot{
		plots.Curves("mean coefficient m(t)", "t", "m(t)", means...),
		sp,
	}}
}

// markEqual dashes every curve that coincides with an earlier one (same x, y within 1e-9 of the
// largest |y|), thins it so the solid one shows on both sides, and names it "<name> (= <earlier>)".
func markEqual(cs []plots.Curve) {
	for i := range cs {
		for j := range i {
			if cs[j].Dashed || !sameCurve(cs[i], cs[j]) {
				continue
			}
			cs[i].Dashed, cs[i].Width = true, 1.5
			cs[j].Width = 3.5
			cs[i].Name = fmt.Sprintf("%s (= %s)", cs[i].Name, cs[j].Name)
			break
		}
	}
}

func sameCurve(a, b plots.Curve) bool {
	if len(a.X) != len(b.X) || len(a.X) == 0 {
		return false
	}
	scale := 0.0
	for k := range a.Y {
		scale = math.Max(scale, math.Max(math.Abs(a.Y[k]), math.Abs(b.Y[k])))
	}
	for k := range a.X {
		if a.X[k] != b.X[k] || math.Abs(a.Y[k]-b.Y[k]) > 1e-9*scale {
			return false
		}
	}
	return true
}

// Figure1 is the paper's Figure 1 on a 1-D mixture: the density p_t over time in two strips, the
// top one with nPaths forward paths from data samples and the bottom one with nPaths reverse-SDE
// paths (exact score) from prior samples, each with `steps` Euler–Maruyama steps.
func Figure1(b compute.Backend, m *toy.Mixture, s sde.SDE, nPaths, steps int, seed int64) (*plots.Grid, error) {
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
	rev, err := sde.SimulateReverse(b, sde.ReverseOf(s, m.ScoreFn(s), false), prior, 0, steps, seed+1)
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
	density := func(t, x float64) float64 { return math.Exp(perturbed(m, s, t).LogProb([]float64{x})) }
	g := plots.Figure1(density, -span, span, fwd.Times, fwd.Coordinate(0), reverse)
	g.Title = fmt.Sprintf("%s under the %s SDE, exact score", m.Name(), sde.PaperName(s))
	return g, nil
}

// figure5Curves returns the continuous SDE's mean coefficient and variance curves followed by
// those of the discrete chain for each number of steps in ns. Chains with at most 50 steps are
// marked at each step.
func figure5Curves(b compute.Backend, s sde.SDE, ns []int) (means, vars []plots.Curve, err error) {
	const n = 200
	cm := plots.Curve{Name: sde.PaperName(s) + " SDE", Width: 2.5, Color: plots.Categorical(0)}
	cv := cm
	for i := range n + 1 {
		t := s.T() * float64(i) / n
		sd := s.Std(t)
		cm.X, cm.Y = append(cm.X, t), append(cm.Y, s.MeanCoeff(t))
		cv.X, cv.Y = append(cv.X, t), append(cv.Y, sd*sd)
	}
	means, vars = []plots.Curve{cm}, []plots.Curve{cv}
	for i, steps := range ns {
		d, err := sde.WithN(s, steps)
		if err != nil {
			return nil, nil, err
		}
		k, err := sde.DiscreteKernel(b, d)
		if err != nil {
			return nil, nil, err
		}
		v := make([]float64, len(k.Std))
		for j, sd := range k.Std {
			v[j] = sd * sd
		}
		c := plots.Curve{Name: fmt.Sprintf("%s, N = %d", sde.ChainName(s), steps), Dashed: true, Marks: steps <= 50, Color: plots.Categorical(i + 1)}
		cm, cv := c, c
		cm.X, cm.Y = k.Times, k.Mean
		cv.X, cv.Y = k.Times, v
		means, vars = append(means, cm), append(vars, cv)
	}
	return means, vars, nil
}

// Figure5 compares the variance s(t)² of the discrete chain's kernel (SMLD for VE, DDPM for VP)
// with the continuous SDE's for each number of steps in ns: the paper's Figure 5 check, (a) for
// VE (on a log axis, since σ is geometric) and (c) for VP. See Figure5Grid for the mean panel too.
func Figure5(b compute.Backend, s sde.SDE, ns []int) (*plot.Plot, error) {
	_, vars, err := figure5Curves(b, s, ns)
	if err != nil {
		return nil, err
	}
	p := plots.Curves(fmt.Sprintf("Figure 5: %s chain vs %s SDE, variance s(t)² of p_0t", sde.ChainName(s), sde.PaperName(s)), "t", "variance s(t)²", vars...)
	if s.PriorStd() > 1 { // exploding variance: a log axis
		plots.LogY(p)
	}
	return p, nil
}

// Figure5Grid is the paper's Figure 5 for one SDE: the mean coefficient m(t) of the discrete
// chain's kernel against the SDE's (panel (b) for DDPM and VP; left out when m(t) = 1 throughout,
// as for VE) beside the variance panel of Figure5.
func Figure5Grid(b compute.Backend, s sde.SDE, ns []int) (*plots.Grid, error) {
	means, _, err := figure5Curves(b, s, ns)
	if err != nil {
		return nil, err
	}
	vp, err := Figure5(b, s, ns)
	if err != nil {
		return nil, err
	}
	g := &plots.Grid{Rows: 1, Cols: 1, Panels: []*plot.Plot{vp}}
	for _, v := range means[0].Y {
		if math.Abs(v-1) > 1e-12 { // m(t) varies: add its panel
			g.Title = fmt.Sprintf("Figure 5: %s chain vs %s SDE, perturbation kernel p_0t", sde.ChainName(s), sde.PaperName(s))
			vp.Title.Text = "variance s(t)²"
			g.Panels = []*plot.Plot{plots.Curves("mean coefficient m(t)", "t", "m(t)", means...), vp}
			g.Cols = 2
			break
		}
	}
	return g, nil
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
	pl.Title.Text = fmt.Sprintf("forward %s paths of %s samples", sde.PaperName(s), m.Name())
	return pl, nil
}

// LossCurve plots a training loss per step (a thin faint line) with its moving average over window
// steps (a thick one).
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
	blue := color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	faint := blue
	faint.A = 0x50
	return plots.Curves("training loss", "step", "loss",
		plots.Curve{Name: "per step", X: steps, Y: losses, Color: faint, Width: 0.8},
		plots.Curve{Name: fmt.Sprintf("mean of %d steps", window), X: steps, Y: smooth, Color: blue, Width: 2})
}
