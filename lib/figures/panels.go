package figures

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"

	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// SnapshotIndices returns k indices spread evenly over n snapshots, the first (0) and the last
// (n−1) included, in increasing order without repeats: all n when k ≥ n, none when n or k is 0.
func SnapshotIndices(n, k int) []int {
	if n <= 0 || k <= 0 {
		return nil
	}
	if k >= n {
		k = n
	}
	if k == 1 {
		return []int{n - 1}
	}
	out := make([]int, 0, k)
	for i := range k {
		j := int(math.Round(float64(i) * float64(n-1) / float64(k-1)))
		if len(out) == 0 || j > out[len(out)-1] {
			out = append(out, j)
		}
	}
	return out
}

// Snapshots draws chosen snapshots of a sampler's run side by side, one small panel each:
// points[k] is the batch ([N][2]) of snapshot k, drawn as dots over the bounds and titled
// labels[k] ("snapshot k" when labels is short). Unlike one plot of all paths, each panel shows
// where the whole batch is at one noise level. Pick the snapshots with SnapshotIndices; for a
// density underneath, use SnapshotsOnDensity.
func Snapshots(points [][][]float64, labels []string, b plots.Bounds) *plots.Grid {
	g := &plots.Grid{Rows: 1, Cols: max(1, len(points))}
	for k, pts := range points {
		p := plots.Scatter(pts, b, plots.WithColor(plots.Categorical(3)), plots.WithRadius(1.3))
		p.Title.Text = label(labels, k, fmt.Sprintf("snapshot %d", k))
		g.Panels = append(g.Panels, p)
	}
	return g
}

// SnapshotsOnDensity is Snapshots over the density each snapshot should follow: panel k shows
// points[k] on a grey log p_t of the 2-D mixture m perturbed by the SDE at times[k] (for annealed
// Langevin at noise level σ on the VE SDE, t = VETimeForSigma(ve, σ)). Titles default to
// "t = …, s(t) = …".
func SnapshotsOnDensity(m *toy.Mixture, s sde.SDE, times []float64, points [][][]float64, labels []string, b plots.Bounds) (*plots.Grid, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("snapshots: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	if len(times) != len(points) {
		return nil, fmt.Errorf("snapshots: %d times for %d snapshots", len(times), len(points))
	}
	g := &plots.Grid{Rows: 1, Cols: max(1, len(points))}
	for k, pts := range points {
		p := plots.LogDensity(clippedLogProb(perturbed(m, s, times[k]), 20), b, 100, plots.WithGrey(true), plots.WithLevels(5))
		if err := plots.AddScatter(p, pts, "", plots.Categorical(3)); err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", k, err)
		}
		p.Title.Text = label(labels, k, timeTitle(s, times[k]))
		g.Panels = append(g.Panels, p)
	}
	return g, nil
}

func label(labels []string, k int, fallback string) string {
	if k < len(labels) && labels[k] != "" {
		return labels[k]
	}
	return fallback
}

// SamplesByClass draws points of a 2-D mixture's classes over its log-density in light grey:
// point i has class classes[i] and the colour plots.Categorical(classes[i]), with one legend entry
// per class ("class k"), so samples guided towards each class can be told apart.
func SamplesByClass(m *toy.Mixture, points [][]float64, classes []int, b plots.Bounds, title string) (*plot.Plot, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("samples by class: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	p := plots.LogDensity(clippedLogProb(m, 20), b, 120, plots.WithGrey(true), plots.WithLevels(6))
	p.Title.Text = title
	if err := plots.AddScatterByClass(p, points, classes); err != nil {
		return nil, fmt.Errorf("samples by class: %w", err)
	}
	return p, nil
}

// Imputation compares imputed values with the exact conditional densities they should follow:
// for each case k, the histogram density of imputed[k] (bins equal bins over [lo, hi], drawn as a
// dashed line through the bin centres) and exact[k] (solid), both in the colour of case k and
// named labels[k] (e.g. "x1 = 0.5") once in the legend, which also keys solid and dashed. Set
// the title and the x label on the returned plot (defaults: "imputed against exact conditional
// densities", "x").
func Imputation(labels []string, imputed [][]float64, exact []func(x float64) float64, lo, hi float64, bins int) (*plot.Plot, error) {
	switch {
	case len(imputed) != len(exact):
		return nil, fmt.Errorf("imputation: %d sets of imputed values for %d exact densities", len(imputed), len(exact))
	case !(lo < hi):
		return nil, fmt.Errorf("imputation: empty range [%g, %g]", lo, hi)
	case bins < 1:
		return nil, fmt.Errorf("imputation: %d bins, want ≥ 1", bins)
	}
	const fine = 200
	var curves []plots.Curve
	width := (hi - lo) / float64(bins)
	for k := range imputed {
		col := plots.Categorical(k)
		xs, dens := make([]float64, fine+1), make([]float64, fine+1)
		for i := range xs {
			xs[i] = lo + (hi-lo)*float64(i)/fine
			dens[i] = exact[k](xs[i])
		}
		centres, hist := make([]float64, bins), make([]float64, bins)
		for i := range centres {
			centres[i] = lo + (float64(i)+0.5)*width
		}
		n := len(imputed[k])
		for _, v := range imputed[k] {
			if i := int(math.Floor((v - lo) / width)); i >= 0 && i < bins {
				hist[i] += 1 / (float64(n) * width)
			}
		}
		curves = append(curves,
			plots.Curve{Name: label(labels, k, fmt.Sprintf("case %d", k)), X: xs, Y: dens, Color: col, Width: 2},
			plots.Curve{X: centres, Y: hist, Color: col, Dashed: true})
	}
	key := plots.Categorical(7)
	curves = append(curves,
		plots.Curve{Name: "exact density", Color: key, Width: 2},
		plots.Curve{Name: "imputed (histogram)", Color: key, Dashed: true})
	return plots.Curves("imputed against exact conditional densities", "x", "density", curves...), nil
}
