package plots

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func TestShareColorScale(t *testing.T) {
	weak := func(x, y float64) (float64, float64) { return -0.01 * x, -0.01 * y }
	a := VectorField(mixtureScore, Square(-3, 3), 9, WithLogColor(true))
	b := VectorField(weak, Square(-3, 3), 9, WithLogColor(true))
	d := LogDensity(mixtureLogp, Square(-3, 3), 20)
	loA, hiA, _ := ColorRange(a)
	loB, hiB, _ := ColorRange(b)
	loD, hiD, _ := ColorRange(d)
	if !(hiB < loA*10) {
		t.Fatalf("test fields overlap too much: [%g, %g] and [%g, %g]", loA, hiA, loB, hiB)
	}
	ShareColorScale(a, nil, b, d, Scatter(nil, Square(-1, 1)))
	for _, c := range []struct {
		name   string
		p      *plot.Plot
		lo, hi float64
	}{
		{"strong field", a, math.Max(loB, hiA*1e-3), hiA},
		{"weak field", b, math.Max(loB, hiA*1e-3), hiA},
		{"density keeps its own scale", d, loD, hiD},
	} {
		t.Run(c.name, func(t *testing.T) {
			lo, hi, ok := ColorRange(c.p)
			if !ok || math.Abs(lo-c.lo) > 1e-12*math.Abs(c.lo) || math.Abs(hi-c.hi) > 1e-12*math.Abs(c.hi) {
				t.Errorf("range [%g, %g] (%v), want [%g, %g]", lo, hi, ok, c.lo, c.hi)
			}
		})
	}
	if _, _, ok := ColorRange(Scatter(nil, Square(-1, 1))); ok {
		t.Error("a scatter plot has a colour range")
	}
	fixed := LogDensity(mixtureLogp, Square(-3, 3), 20, WithRange(-50, 0))
	if lo, hi, _ := ColorRange(fixed); lo != -50 || hi != 0 {
		t.Errorf("WithRange(-50, 0): range [%g, %g]", lo, hi)
	}
}

func TestColorBarLog(t *testing.T) {
	cb := newLogColorBar(1e-6, 10, "m", ember.at)
	if cb.min != 0.01 || cb.max != 10 {
		t.Fatalf("range [%g, %g], want three decades [0.01, 10]", cb.min, cb.max)
	}
	for _, c := range []struct{ v, want float64 }{{0.01, 0}, {0.1, 1.0 / 3}, {10, 1}, {1e-9, 0}, {0, 0}, {100, 1}} {
		if got := cb.norm(c.v); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("norm(%g) = %g, want %g", c.v, got, c.want)
		}
	}
	var labels []string
	for _, tk := range cb.ticks() {
		labels = append(labels, tk.Label)
	}
	if len(labels) != 4 || labels[0] != "0.01" || labels[3] != "10" {
		t.Errorf("log bar labels %v, want 0.01 0.1 1 10", labels)
	}
}

// legendCorner draws p and returns where placeLegend put its legend.
func legendCorner(p *plot.Plot) (top, left, outside bool) {
	c := draw.Crop(vgimgCanvas(DefaultWidth, DefaultHeight), margin, -margin, margin, -margin)
	l := p.Legend
	outside, _ = placeLegend(p, &l, c)
	return l.Top, l.Left, outside
}

func TestLegendPlacement(t *testing.T) {
	xs := []float64{0, 0.25, 0.5, 0.75, 1}
	rising := []float64{0, 0.25, 0.5, 0.75, 1}
	falling := []float64{1, 0.75, 0.5, 0.25, 0}
	flatTop := []float64{1, 1, 1, 1, 1}
	for _, c := range []struct {
		name                   string
		curves                 []Curve
		place                  LegendPlacement
		top, left, wantOutside bool
	}{
		{"rising line leaves the top left", []Curve{{Name: "a", X: xs, Y: rising}}, LegendAuto, true, true, false},
		{"falling line leaves the top right", []Curve{{Name: "a", X: xs, Y: falling}}, LegendAuto, true, false, false},
		{"a line along the top sends it down", []Curve{{Name: "a", X: xs, Y: falling}, {Name: "b", X: xs, Y: flatTop}}, LegendAuto, false, true, false},
		{"no free corner: outside", []Curve{{Name: "a", X: xs, Y: falling}, {Name: "b", X: xs, Y: rising}}, LegendAuto, true, true, true},
		{"asked for", []Curve{{Name: "a", X: xs, Y: falling}}, LegendBottomRight, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := Curves("", "x", "y", c.curves...)
			SetLegend(p, c.place)
			top, left, outside := legendCorner(p)
			if outside != c.wantOutside || (!outside && (top != c.top || left != c.left)) {
				t.Errorf("legend top=%v left=%v outside=%v, want top=%v left=%v outside=%v", top, left, outside, c.top, c.left, c.wantOutside)
			}
			if _, err := render(p, "png", 200, 150); err != nil {
				t.Fatal(err)
			}
		})
	}
	// An outside legend takes room from the data area.
	p := Curves("", "x", "y", Curve{Name: "a long curve name", X: xs, Y: falling}, Curve{Name: "b", X: xs, Y: rising})
	c := vgimgCanvas(DefaultWidth, DefaultHeight)
	before := p.DataCanvas(c).Size().X
	l := p.Legend
	if out, _ := placeLegend(p, &l, c); !out {
		t.Fatal("legend not outside")
	}
	if after := p.DataCanvas(c).Size().X; after > before-vg.Points(40) {
		t.Errorf("data area %v wide with the legend outside, %v without", after, before)
	}
}

func TestLogAxesSkipNonPositive(t *testing.T) {
	p := Curves("", "t", "s", Curve{Name: "s", X: []float64{0, 0.5, 1}, Y: []float64{0, 0.01, 50}})
	LogY(p)
	LogX(p)
	if p.Y.Min != 0.01 || p.X.Min != 0.5 {
		t.Errorf("log axes start at x=%g, y=%g; want the smallest positive values 0.5, 0.01", p.X.Min, p.Y.Min)
	}
	for _, format := range []string{"png", "svg"} {
		if _, err := render(p, format, 0, 0); err != nil {
			t.Errorf("%s: %v", format, err)
		}
	}
}

func TestScatterByClass(t *testing.T) {
	pts := gaussianCloud(RasterThreshold+10, 5)
	classes := make([]int, len(pts))
	for i := range classes {
		classes[i] = i % 3
	}
	for _, c := range []struct {
		name    string
		points  [][]float64
		classes []int
		want    string // error text; empty for success
	}{
		{"vector", pts[:200], classes[:200], ""},
		{"rasterized", pts, classes, ""},
		{"lengths", pts[:5], classes[:4], "4 classes for 5 points"},
		{"negative class", pts[:2], []int{0, -1}, "class -1"},
		{"short point", [][]float64{{1}}, []int{0}, "1 coordinates"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := LogDensity(mixtureLogp, Square(-3, 3), 20, WithGrey(true))
			err := AddScatterByClass(p, c.points, c.classes, "left")
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := ColorRange(p); ok {
				t.Error("a grey density has a colour bar")
			}
			for _, format := range []string{"png", "svg"} {
				if _, err := render(p, format, 0, 0); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
