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
// the centre of cell i, j of b cut into n×n equal cells, points along
// (u, v) = f(x, y) and is coloured by the magnitude √(u²+v²) on a viridis
// palette, shown by a colour bar labelled "magnitude" (see
// [WithColorBarLabel]). Arrows are scaled by one common factor so the
// longest spans 90% of a cell; their lengths stay proportional to the
// magnitude. Non-finite vectors are skipped.
//
// The plot has equal aspect ratio and axes labelled x and y; set
// p.Title.Text for a title. It panics if n < 1 or b is empty.
func VectorField(f func(x, y float64) (u, v float64), b Bounds, n int, opts ...Option) *plot.Plot {
	b.check("VectorField")
	if n < 1 {
		panic(fmt.Sprintf("plots: VectorField: n = %d, want ≥ 1", n))
	}
	cfg := newConfig(opts)
	a := &arrows{n: n, b: b, u: make([]float64, n*n), v: make([]float64, n*n)}
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := range n {
		for i := range n {
			x, y := a.at(i, j)
			u, v := f(x, y)
			a.u[j*n+i], a.v[j*n+i] = u, v
			if m := math.Hypot(u, v); finite(m) {
				lo, hi = min(lo, m), max(hi, m)
			}
		}
	}
	label := cfg.colorBarLabel
	if label == "" {
		label = "magnitude"
	}
	a.bar = newColorBar(lo, hi, label, viridis.at)

	p := newPlane(b)
	p.Add(a, a.bar, frame{})
	return p
}

// arrows draws the n×n field of a VectorField.
type arrows struct {
	n    int
	b    Bounds
	u, v []float64 // row-major, index j*n+i
	bar  *colorBar
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
	scale := 0.9 * cell / longest
	width := vg.Length(math.Min(1.1, math.Max(0.5, cell/14)))
	for j := range a.n {
		for i := range a.n {
			k := j*a.n + i
			dx, dy := a.u[k]*sx*scale, a.v[k]*sy*scale
			l := math.Hypot(dx, dy)
			if !finite(l) || l == 0 {
				continue
			}
			x, y := a.at(i, j)
			mag := (math.Hypot(a.u[k], a.v[k]) - a.bar.min) / (a.bar.max - a.bar.min)
			drawArrow(c, vg.Point{X: trX(x), Y: trY(y)}, dx, dy, l, width, a.bar.color(mag))
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
