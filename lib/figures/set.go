package figures

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"gonum.org/v1/plot/vg"

	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// Figure is one figure of the set written by Write.
type Figure struct {
	// Name is the file name without extension.
	Name string
	// Caption says what the figure shows, for listings and the README gallery.
	Caption string
	// Width and Height are the rendered size.
	Width, Height vg.Length
	// Build makes the figure (a *plot.Plot or *plots.Grid) on the backend.
	Build func(b compute.Backend) (any, error)
}

func mixture(name string) *toy.Mixture {
	m, err := toy.LoadMixture(name)
	if err != nil {
		panic(err) // presets are fixed and tested
	}
	return m
}

// Set returns the figures written by `scoresde figures`, in order.
func Set() []Figure {
	ve, vp := sde.NewVE(), sde.NewVP()
	cm := vg.Centimeter
	return []Figure{
		{Name: "score-fields-ncsn-ve", Caption: "Exact score of the NCSN mixture 0.8·N((5,5),I)+0.2·N((−5,−5),I) perturbed by the VE SDE at σ = 0.1, 1, 3, 10 (one colour scale)",
			Width: 40 * cm, Height: 11 * cm, Build: func(compute.Backend) (any, error) {
				var ts []float64
				for _, sig := range []float64{0.1, 1, 3, 10} {
					ts = append(ts, VETimeForSigma(ve, sig))
				}
				return ScoreFieldGrid(mixture("ncsn"), ve, ts, plots.Square(-10, 10), 21)
			}},
		{Name: "densities-8gaussians-vp", Caption: "log p_t of 8 Gaussians under the VP SDE at t = 0, 0.1, 0.3, 1",
			Width: 40 * cm, Height: 11 * cm, Build: func(compute.Backend) (any, error) {
				return DensityGrid(mixture("8gaussians"), vp, []float64{0, 0.1, 0.3, 1}, plots.Square(-6, 6))
			}},
		{Name: "density-ncsn", Caption: "log-density of the NCSN mixture with 2,000 samples",
			Width: 14 * cm, Height: 12 * cm, Build: func(compute.Backend) (any, error) {
				return DensityWithSamples(mixture("ncsn"), plots.Square(-10, 10), 2000, 1)
			}},
		{Name: "kernels", Caption: "Mean coefficient m(t) and std s(t) of the VE, VP and sub-VP kernels",
			Width: 26 * cm, Height: 10 * cm, Build: func(compute.Backend) (any, error) {
				return MarginalCurves(vp, sde.NewSubVP(), ve), nil
			}},
		{Name: "figure1-bimodal-vp", Caption: "Figure 1 on a 1-D mixture: forward paths to noise (top) and reverse-SDE paths back to data (bottom), VP, exact score",
			Width: 24 * cm, Height: 16 * cm, Build: func(b compute.Backend) (any, error) {
				return Figure1(b, mixture("bimodal1d"), vp, 8, 500, 7)
			}},
		{Name: "figure5-ddpm-vp", Caption: "Figure 5 (b, c): the DDPM chain's mean coefficient and variance against the VP SDE's for N = 10, 50, 1000",
			Width: 30 * cm, Height: 11 * cm, Build: func(b compute.Backend) (any, error) {
				v := *vp
				v.Beta1 = 9 // keeps β1/N < 1 at N = 10
				return Figure5Grid(b, &v, []int{10, 50, 1000})
			}},
		{Name: "figure5-smld-ve", Caption: "Figure 5 (a): the SMLD chain's variance against the VE SDE's for N = 10, 50, 1000 (log axis)",
			Width: 16 * cm, Height: 11 * cm, Build: func(b compute.Backend) (any, error) {
				return Figure5Grid(b, ve, []int{10, 50, 1000})
			}},
		{Name: "trajectories-ncsn-vp", Caption: "Forward VP paths of NCSN-mixture samples, coloured by time",
			Width: 14 * cm, Height: 12 * cm, Build: func(b compute.Backend) (any, error) {
				return ForwardTrajectories(b, mixture("ncsn"), vp, 40, 200, plots.Square(-9, 9), 3)
			}},
	}
}

// Names lists the names of Set.
func Names() []string {
	var out []string
	for _, f := range Set() {
		out = append(out, f.Name)
	}
	return out
}

// Write builds the figures named in only (all when empty) into dir as PNG and SVG, reporting each
// to log, and returns the files written.
func Write(b compute.Backend, dir string, only []string, log io.Writer) ([]string, error) {
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	for _, n := range Names() {
		delete(want, n)
	}
	if len(want) > 0 {
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		return nil, fmt.Errorf("unknown figure(s) %s: choose from %s", strings.Join(unknown, ", "), strings.Join(Names(), ", "))
	}
	for _, n := range only {
		want[n] = true
	}
	var files []string
	for _, f := range Set() {
		if len(want) > 0 && !want[f.Name] {
			continue
		}
		start := time.Now()
		fig, err := f.Build(b)
		if err != nil {
			return files, fmt.Errorf("figure %s: %w", f.Name, err)
		}
		written, err := plots.Save(fig, filepath.Join(dir, f.Name), f.Width, f.Height)
		files = append(files, written...)
		if err != nil {
			return files, fmt.Errorf("figure %s: %w", f.Name, err)
		}
		if log != nil {
			fmt.Fprintf(log, "%-26s %5.1fs  %s\n", f.Name, time.Since(start).Seconds(), strings.Join(written, " "))
		}
	}
	return files, nil
}
