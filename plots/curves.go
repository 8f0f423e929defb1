package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one named line y(x) of a [Curves] plot: points (X[k], Y[k]) in
// data units, joined in order; X and Y have the same length. Non-finite
// points break the line, and so do non-positive ones on a logarithmic axis
// ([LogX], [LogY]). A curve without points only adds its legend entry
// (for example a key to what solid and dashed lines mean).
type Curve struct {
	Name string
	X, Y []float64
	// Dashed draws the curve with a dashed line.
	Dashed bool
	// Color is the line colour; nil means [Categorical] of the curve's
	// position among the curves.
	Color color.Color
	// Width is the line width; 0 means 1.5 points.
	Width vg.Length
	// Marks draws a dot at every point, for curves with few points (e.g.
	// a discrete chain with N = 10 steps).
	Marks bool
}

// Curves draws named curves as lines, in [Categorical] colours by position
// (see [Curve] for colour, width, dashes and marks), with a legend (curves
// with an empty Name are left out of it) and light grid lines: for example
// means and standard deviations over time or errors against sample size
// (see [LogX] and [LogY] for logarithmic axes). The legend goes to a corner
// of the data area that no curve passes through, or to the right of the
// data area when there is none (see [SetLegend]). An axis whose data stay
// positive but come within a tenth of their range of 0 starts at 0. It
// panics if a curve's X and Y lengths differ.
func Curves(title, xlabel, ylabel string, curves ...Curve) *plot.Plot {
	p := newPlot()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.Legend.ThumbnailWidth = vg.Points(20)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridLineColor, gridLineColor
	grid.Vertical.Width, grid.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(grid)
	st := legendFor(p)
	for i, cv := range curves {
		if len(cv.X) != len(cv.Y) {
			panic(fmt.Sprintf("plots: Curves: curve %d (%q) has %d x and %d y values", i, cv.Name, len(cv.X), len(cv.Y)))
		}
		col := cv.Color
		if col == nil {
			col = Categorical(i)
		}
		sty := draw.LineStyle{Color: col, Width: cv.Width}
		if sty.Width <= 0 {
			sty.Width = vg.Points(1.5)
		}
		if cv.Dashed {
			sty.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		l := &curveLine{x: cv.X, y: cv.Y, style: sty, marks: cv.Marks}
		if l.hasFinite() {
			p.Add(l)
			st.lines = append(st.lines, l)
		}
		if cv.Name != "" {
			addLegend(p, cv.Name, l)
		}
	}
	// Start a positive axis at 0 when the data nearly reach it, so that 0
	// is labelled (LogX and LogY move it back to the smallest positive
	// value), and let both ends fall on labelled ticks when they are close.
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		if a.Min > 0 && a.Min < 0.1*(a.Max-a.Min) {
			a.Min = 0
		}
		a.Min, a.Max = snapToTicks(a.Min, a.Max)
	}
	return p
}

// snapToTicks widens [lo, hi] to the nearest labelled ticks of niceTicks
// when they lie within a tenth of a tick step outside, so that both ends of
// the axis are labelled.
func snapToTicks(lo, hi float64) (float64, float64) {
	if !(lo < hi) || !finite(hi-lo) {
		return lo, hi
	}
	step := niceStep(hi - lo)
	if up := math.Ceil(hi/step-1e-9) * step; up-hi < 0.1*step {
		hi = up
	}
	if down := math.Floor(lo/step+1e-9) * step; lo-down < 0.1*step {
		lo = down
	}
	return lo, hi
}

// curveLine draws one curve of Curves.
type curveLine struct {
	x, y  []float64
	style draw.LineStyle
	marks bool
}

func (l *curveLine) hasFinite() bool {
	for k := range l.x {
		if finite(l.x[k]) && finite(l.y[k]) {
			return true
		}
	}
	return false
}

// DataRange returns the range of the finite points.
func (l *curveLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for k := range l.x {
		if finite(l.x[k]) && finite(l.y[k]) {
			xmin, xmax = min(xmin, l.x[k]), max(xmax, l.x[k])
			ymin, ymax = min(ymin, l.y[k]), max(ymax, l.y[k])
		}
	}
	return xmin, xmax, ymin, ymax
}

// runs returns the drawable stretches of the curve on p's axes, in canvas
// coordinates of c.
func (l *curveLine) runs(c draw.Canvas, p *plot.Plot) [][]vg.Point {
	trX, trY := p.Transforms(&c)
	_, logX := p.X.Scale.(plot.LogScale)
	_, logY := p.Y.Scale.(plot.LogScale)
	var out [][]vg.Point
	var cur []vg.Point
	for k := range l.x {
		x, y := l.x[k], l.y[k]
		if !finite(x) || !finite(y) || (logX && x <= 0) || (logY && y <= 0) {
			if len(cur) > 0 {
				out, cur = append(out, cur), nil
			}
			continue
		}
		cur = append(cur, vg.Point{X: trX(x), Y: trY(y)})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func (l *curveLine) Plot(c draw.Canvas, p *plot.Plot) {
	dot := draw.GlyphStyle{Color: l.style.Color, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
	for _, run := range l.runs(c, p) {
		c.StrokeLines(l.style, c.ClipLinesXY(run)...)
		if l.marks {
			for _, pt := range run {
				if c.Contains(pt) {
					c.DrawGlyphNoClip(dot, pt)
				}
			}
		}
	}
}

// Thumbnail draws the curve's line (and a dot) in a legend.
func (l *curveLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
	if l.marks {
		c.DrawGlyphNoClip(draw.GlyphStyle{Color: l.style.Color, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}, c.Center())
	}
}

// LogX switches the horizontal axis of p to a logarithmic scale. Points
// with x ≤ 0 are left out of [Curves] lines; when the axis reaches 0 or
// below, it starts at the smallest positive x of the plot's curves instead
// (or 1/1000 of its maximum). Ticks are labelled at powers of ten, and also
// at 2 and 5 times them when the axis spans less than three decades.
func LogX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	if !(p.X.Min > 0) {
		p.X.Min = smallestPositive(p, p.X.Max, func(l *curveLine) []float64 { return l.x })
	}
	if !(p.X.Max > p.X.Min) {
		p.X.Max = p.X.Min * 10
	}
}

// LogY is [LogX] for the vertical axis.
func LogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	if !(p.Y.Min > 0) {
		p.Y.Min = smallestPositive(p, p.Y.Max, func(l *curveLine) []float64 { return l.y })
	}
	if !(p.Y.Max > p.Y.Min) {
		p.Y.Max = p.Y.Min * 10
	}
}

// smallestPositive returns the smallest positive finite coordinate of the
// curves of p, or hi/1000 (1e-3 when hi ≤ 0) when there is none.
func smallestPositive(p *plot.Plot, hi float64, coord func(*curveLine) []float64) float64 {
	v := math.Inf(1)
	if st, ok := legends.get(p); ok {
		for _, l := range st.lines {
			for _, c := range coord(l) {
				if c > 0 && finite(c) {
					v = math.Min(v, c)
				}
			}
		}
	}
	if finite(v) {
		return v
	}
	if hi > 0 && finite(hi) {
		return hi / 1000
	}
	return 1e-3
}

// logTicks marks 1…9 times each power of ten, labelling the powers of ten
// (and 2 and 5 times them over short ranges).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && lo < hi) || !finite(hi) {
		return plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	}
	short := math.Log10(hi/lo) < 3
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, e)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (short && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', 6, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}
