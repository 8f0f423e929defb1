package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// VectorField draws f on an n×n grid of arrows over b. Arrow i, j sits at
// the centre of cell i, j of b cut into n×n equal cells and points along
// (u, v) = f(x, y). All arrows have one length (80% of a cell; those under
// 1/1000 of the longest shrink towards a dot), so the direction is legible
// everywhere, and the magnitude √(u²+v²) is shown by
// colour (from near-black purple through red to orange) with a colour bar
// labelled "magnitude" (see [WithColorBarLabel]). Non-finite and zero
// vectors are skipped.
//
// Options: [WithLogColor] for a logarithmic colour scale, [WithRange] or
// [ShareColorScale] for one scale across panels, [WithDensity] for a faint
// grey log-density underneath, [WithMarkers] to mark points (e.g. the
// modes), [WithProportionalArrows] for arrows as long as the vectors.
//
// The plot has equal aspect ratio and axes labelled x and y; set
// p.Title.Text for a title. It panics if n < 1 or b is empty.
func VectorField(f func(x, y float64) (u, v float64), b Bounds, n int, opts ...Option) *plot.Plot {
	b.check("VectorField")
	if n < 1 {
		panic(fmt.Sprintf("plots: VectorField: n = %d, want ≥ 1", n))
	}
	cfg := newConfig(opts)
	a := &arrows{n: n, b: b, u: make([]float64, n*n), v: make([]float64, n*n), proportional: cfg.proportional}
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := range n {
		for i := range n {
			x, y := a.at(i, j)
			u, v := f(x, y)
			a.u[j*n+i], a.v[j*n+i] = u, v
			if m := math.Hypot(u, v); finite(m) && (m > 0 || !cfg.logColor) {
				lo, hi = min(lo, m), max(hi, m)
			}
		}
	}
	label := cfg.colorBarLabel
	if label == "" {
		label = "magnitude"
	}
	a.bar = cfg.bar(lo, hi, label, ember.at, cfg.logColor)

	p := newPlane(b)
	if cfg.background != nil {
		const cellsPerSide = 120
		g := sampleCells(b.XMin, b.XMax, b.YMin, b.YMax, cellsPerSide, cellsPerSide, cfg.background)
		dlo, dhi := g.finiteRange()
		dlo = math.Max(dlo, dhi-densitySpan)
		p.Add(heatMap(g, newColorBar(dlo, dhi, "", fog.at), fog))
	}
	p.Add(a)
	if len(cfg.markers) > 0 {
		p.Add(&markers{points: cfg.markers})
	}
	addColorBar(p, a.bar)
	p.Add(frame{})
	return p
}

// densitySpan is the range of log-density, in nats below its largest value,
// that the background of a VectorField shades.
const densitySpan = 12

// arrows draws the n×n field of a VectorField.
type arrows struct {
	n            int
	b            Bounds
	u, v         []float64 // row-major, index j*n+i
	bar          *colorBar
	proportional bool
}

// at returns the centre of cell i, j.
func (a *arrows) at(i, j int) (x, y float64) {
	x = a.b.XMin + (float64(i)+0.5)*(a.b.XMax-a.b.XMin)/float64(a.n)
	y = a.b.YMin + (float64(j)+0.5)*(a.b.YMax-a.b.YMin)/float64(a.n)
	return x, y
}

func (a *arrows) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	// Canvas length per data unit along each axis.
	sx := float64(trX(a.b.XMax)-trX(a.b.XMin)) / (a.b.XMax - a.b.XMin)
	sy := float64(trY(a.b.YMax)-trY(a.b.YMin)) / (a.b.YMax - a.b.YMin)
	cell := math.Min(math.Abs(sx)*(a.b.XMax-a.b.XMin), math.Abs(sy)*(a.b.YMax-a.b.YMin)) / float64(a.n)
	var longest float64
	for k := range a.u {
		if l := math.Hypot(a.u[k]*sx, a.v[k]*sy); finite(l) {
			longest = math.Max(longest, l)
		}
	}
	if longest == 0 {
		return
	}
	width := vg.Length(math.Min(1.3, math.Max(0.6, cell/11)))
	for j := range a.n {
		for i := range a.n {
			k := j*a.n + i
			dx, dy := a.u[k]*sx, a.v[k]*sy
			l := math.Hypot(dx, dy)
			if !finite(l) || l == 0 {
				continue
			}
			// Proportional: one scale, the longest spans 90% of a cell;
			// otherwise every arrow spans 80% of a cell, except that arrows
			// under 1/1000 of the longest shrink in proportion, so that a
			// field that is zero but for rounding shows no direction.
			scale := 0.8 * cell / math.Max(l, 1e-3*longest)
			if a.proportional {
				scale = 0.9 * cell / longest
			}
			dx, dy, l = dx*scale, dy*scale, l*scale
			x, y := a.at(i, j)
			drawArrow(c, vg.Point{X: trX(x), Y: trY(y)}, dx, dy, l, width, a.bar.colorOf(math.Hypot(a.u[k], a.v[k])))
		}
	}
}

// drawArrow draws an arrow of canvas length l along (dx, dy), centred on
// mid, with a filled triangular head.
func drawArrow(c draw.Canvas, mid vg.Point, dx, dy, l float64, width vg.Length, col color.Color) {
	ux, uy := dx/l, dy/l // unit direction
	head := math.Min(0.4*l, 6)
	half := 0.45 * head
	tip := vg.Point{X: mid.X + vg.Length(dx/2), Y: mid.Y + vg.Length(dy/2)}
	tail := vg.Point{X: mid.X - vg.Length(dx/2), Y: mid.Y - vg.Length(dy/2)}
	base := vg.Point{X: tip.X - vg.Length(ux*head), Y: tip.Y - vg.Length(uy*head)}
	c.StrokeLine2(draw.LineStyle{Color: col, Width: width}, tail.X, tail.Y, base.X, base.Y)
	c.FillPolygon(col, []vg.Point{
		tip,
		{X: base.X - vg.Length(uy*half), Y: base.Y + vg.Length(ux*half)},
		{X: base.X + vg.Length(uy*half), Y: base.Y - vg.Length(ux*half)},
	})
}
