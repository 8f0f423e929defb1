package figures

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// outDir returns $FIGURES_TEST_OUT when set (to look at the figures), a temporary directory
// otherwise.
func outDir(t *testing.T) string {
	if d := os.Getenv("FIGURES_TEST_OUT"); d != "" {
		return d
	}
	return t.TempDir()
}

func TestSnapshotIndices(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want []int
	}{
		{100, 5, []int{0, 25, 50, 74, 99}},
		{3, 5, []int{0, 1, 2}},
		{10, 1, []int{9}},
		{10, 2, []int{0, 9}},
		{0, 3, nil},
		{5, 0, nil},
	} {
		t.Run(fmt.Sprintf("%d of %d", c.k, c.n), func(t *testing.T) {
			if got := SnapshotIndices(c.n, c.k); !slices.Equal(got, c.want) {
				t.Errorf("SnapshotIndices(%d, %d) = %v, want %v", c.n, c.k, got, c.want)
			}
		})
	}
}

func ExampleSnapshotIndices() {
	// Five of the 100 snapshots of a run recorded every 10 steps.
	fmt.Println(SnapshotIndices(100, 5))
	// Output: [0 25 50 74 99]
}

// TestPanels builds the panel helpers on samples with known laws and saves them.
func TestPanels(t *testing.T) {
	dir := outDir(t)
	ncsn := mixture("ncsn")
	eight := mixture("8gaussians")
	ve := sde.NewVE()
	r := toy.NewRand(3)

	var snaps [][][]float64
	var times []float64
	var labels []string
	for _, sigma := range []float64{20, 5, 1, 0.1} {
		tt := VETimeForSigma(ve, sigma)
		times = append(times, tt)
		snaps = append(snaps, ncsn.Perturb(ve, tt).Sample(r, 400))
		labels = append(labels, fmt.Sprintf("σ = %g", sigma))
	}
	onDensity, err := SnapshotsOnDensity(ncsn, ve, times, snaps, labels, plots.Square(-20, 20))
	if err != nil {
		t.Fatal(err)
	}
	pts, classes := eight.SampleLabeled(r, 800)
	byClass, err := SamplesByClass(eight, pts, classes, plots.Square(-6, 6), "samples by class")
	if err != nil {
		t.Fatal(err)
	}
	var imputed [][]float64
	var exact []func(float64) float64
	var cases []string
	for k, mu := range []float64{-2, 0.5, 3} {
		c, err := toy.NewMixture([]float64{0.5, 0.5}, [][]float64{{mu - 1}, {mu + 1}}, [][][]float64{{{0.25}}, {{0.25}}})
		if err != nil {
			t.Fatal(err)
		}
		var xs []float64
		for _, v := range c.Sample(toy.NewRand(uint64(k)), 2000) {
			xs = append(xs, v[0])
		}
		imputed = append(imputed, xs)
		exact = append(exact, func(x float64) float64 { return c.Prob([]float64{x}) })
		cases = append(cases, fmt.Sprintf("x1 = %g", mu))
	}
	imp, err := Imputation(cases, imputed, exact, -5, 6, 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fig  any
		w, h float64
	}{
		{"snapshots", Snapshots(snaps, labels[:2], plots.Square(-20, 20)), 1000, 280},
		{"snapshots-on-density", onDensity, 1000, 280},
		{"samples-by-class", byClass, 360, 320},
		{"imputation", imp, 520, 300},
		{"loss-curve", LossCurve(noisyLoss(2000), 100), 420, 260},
	} {
		t.Run(c.name, func(t *testing.T) {
			files, err := plots.Save(c.fig, filepath.Join(dir, c.name), vg.Length(c.w), vg.Length(c.h))
			if err != nil || len(files) != 2 {
				t.Fatalf("Save: %v, %v", files, err)
			}
		})
	}
	if got := Snapshots(snaps, nil, plots.Square(-1, 1)).Panels[3].Title.Text; got != "snapshot 3" {
		t.Errorf("default snapshot title %q", got)
	}

	for _, bad := range []struct {
		name string
		err  func() error
		want string
	}{
		{"times and snapshots", func() error {
			_, err := SnapshotsOnDensity(ncsn, ve, times[:1], snaps, nil, plots.Square(-1, 1))
			return err
		}, "1 times for 4 snapshots"},
		{"1-D mixture", func() error {
			_, err := SamplesByClass(mixture("bimodal1d"), nil, nil, plots.Square(-1, 1), "")
			return err
		}, "dimension 1, want 2"},
		{"classes", func() error {
			_, err := SamplesByClass(eight, pts, classes[:3], plots.Square(-1, 1), "")
			return err
		}, "3 classes for 800 points"},
		{"imputation lengths", func() error { _, err := Imputation(nil, imputed, exact[:1], 0, 1, 5); return err }, "3 sets of imputed values for 1"},
		{"imputation range", func() error { _, err := Imputation(nil, nil, nil, 1, 1, 5); return err }, "empty range"},
	} {
		t.Run("error/"+bad.name, func(t *testing.T) {
			if err := bad.err(); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("error %v, want %q", err, bad.want)
			}
		})
	}
}

// noisyLoss is a decaying loss with noise, as a training run logs it.
func noisyLoss(n int) []float64 {
	r := toy.NewRand(9)
	out := make([]float64, n)
	for i := range out {
		out[i] = 0.4 + 0.6/(1+float64(i)/100) + 0.08*r.NormFloat64()
	}
	return out
}

// TestLearnedVsExact draws the exact score against itself through a graph: both rows share one
// colour scale, so the ranges of all panels are equal.
func TestLearnedVsExact(t *testing.T) {
	m := mixture("8gaussians")
	s := sde.NewVP()
	g, err := LearnedVsExact(backend.MustNew(), m.ScoreFn(s), m, s, []float64{0.05, 0.5}, plots.Square(-6, 6), 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Panels) != 4 {
		t.Fatalf("%d panels, want 4", len(g.Panels))
	}
	lo0, hi0, _ := plots.ColorRange(g.Panels[0])
	for i, p := range g.Panels {
		lo, hi, ok := plots.ColorRange(p)
		if !ok || lo != lo0 || hi != hi0 {
			t.Errorf("panel %d: colour range [%g, %g], want the shared [%g, %g]", i, lo, hi, lo0, hi0)
		}
	}
	if _, err := plots.Save(g, filepath.Join(outDir(t), "learned-vs-exact"), 700, 520); err != nil {
		t.Fatal(err)
	}
}
