package plots

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// colorBar is a vertical colour bar drawn to the right of the data area of
// the plot it belongs to. It reserves its room through GlyphBoxes, so the
// plot's data area shrinks to make space for it.
type colorBar struct {
	min, max float64
	label    string
	color    func(t float64) color.Color // t ∈ [0, 1]
}

const (
	cbGap   = vg.Length(8)   // between data area and bar
	cbWidth = vg.Length(9)   // bar width
	cbTick  = vg.Length(3)   // tick length
	cbPad   = vg.Length(2.5) // between ticks, labels and title
)

// newColorBar returns a colour bar for values in [lo, hi], widening a
// degenerate or non-finite range.
func newColorBar(lo, hi float64, label string, col func(float64) color.Color) *colorBar {
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if hi <= lo {
		d := math.Max(1, math.Abs(lo)) * 1e-3
		lo, hi = lo-d, hi+d
	}
	return &colorBar{min: lo, max: hi, label: label, color: col}
}

func (cb *colorBar) ticks() []plot.Tick {
	var ts []plot.Tick
	for _, t := range (niceTicks{}).Ticks(cb.min, cb.max) {
		if t.Label != "" && t.Value >= cb.min && t.Value <= cb.max {
			ts = append(ts, t)
		}
	}
	return ts
}

// width is the room, in vg units, taken right of the data area.
func (cb *colorBar) width(p *plot.Plot) vg.Length {
	var lw vg.Length
	for _, t := range cb.ticks() {
		lw = max(lw, p.Y.Tick.Label.Width(t.Label))
	}
	w := cbGap + cbWidth + cbTick + cbPad + lw
	if cb.label != "" {
		e := p.Y.Label.TextStyle.FontExtents()
		w += cbPad + e.Ascent + e.Descent + cbPad
	}
	return w
}

// GlyphBoxes reserves cb.width to the right of the data area (and no
// vertical room).
func (cb *colorBar) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{
		X: 1, Y: 0.5,
		Rectangle: vg.Rectangle{Max: vg.Point{X: cb.width(p)}},
	}}
}

// Plot draws the bar, its ticks, tick labels and rotated label.
func (cb *colorBar) Plot(c draw.Canvas, p *plot.Plot) {
	const steps = 256
	img := image.NewNRGBA(image.Rect(0, 0, 1, steps))
	for i := range steps {
		img.Set(0, steps-1-i, cb.color((float64(i)+0.5)/steps))
	}
	x0 := c.Max.X + cbGap
	bar := vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x0 + cbWidth, Y: c.Max.Y}}
	c.DrawImage(bar, img)
	line := draw.LineStyle{Color: frameColor, Width: vg.Points(0.6)}
	c.SetLineStyle(line)
	c.Stroke(bar.Path())

	sty := p.Y.Tick.Label
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	xt := bar.Max.X
	var lw vg.Length
	for _, t := range cb.ticks() {
		y := c.Min.Y + vg.Length((t.Value-cb.min)/(cb.max-cb.min))*(c.Max.Y-c.Min.Y)
		c.StrokeLine2(line, xt, y, xt+cbTick, y)
		c.FillText(sty, vg.Point{X: xt + cbTick + cbPad, Y: y}, t.Label)
		lw = max(lw, sty.Width(t.Label))
	}
	if cb.label != "" {
		ls := p.Y.Label.TextStyle
		ls.Rotation = math.Pi / 2 // reads bottom to top, like the y axis label
		ls.XAlign, ls.YAlign = draw.XCenter, draw.YTop
		x := xt + cbTick + cbPad + lw + cbPad
		c.FillText(ls, vg.Point{X: x, Y: (c.Min.Y + c.Max.Y) / 2}, cb.label)
	}
}

// legendBackdrop is a legend thumbnail that paints a translucent white box
// behind the whole legend, so entries stay legible over heat maps. It is
// attached to the first legend entry (see addLegend).
type legendBackdrop struct{ p *plot.Plot }

func (b legendBackdrop) Thumbnail(icon *draw.Canvas) {
	l := &b.p.Legend
	size := l.Rectangle(draw.Canvas{}).Size()
	pad := vg.Points(3)
	var r vg.Rectangle
	r.Max.Y = icon.Max.Y + pad
	r.Min.Y = r.Max.Y - size.Y - 2*pad - l.TextStyle.FontExtents().Descent
	if l.Left {
		r.Min.X = icon.Min.X - pad
		r.Max.X = r.Min.X + size.X + 2*pad
	} else {
		r.Max.X = icon.Max.X + pad
		r.Min.X = r.Max.X - size.X - 2*pad
	}
	icon.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 0xd0})
	icon.Fill(r.Path())
}

// addLegend adds a legend entry, preceded by the backdrop when it is the
// first one.
func addLegend(p *plot.Plot, name string, thumbs ...plot.Thumbnailer) {
	if p.Legend.Rectangle(draw.Canvas{}).Size().Y == 0 {
		thumbs = append([]plot.Thumbnailer{legendBackdrop{p}}, thumbs...)
	}
	p.Legend.Add(name, thumbs...)
}

// lineThumb draws a short horizontal line in a legend.
type lineThumb draw.LineStyle

func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(draw.LineStyle(l), c.Min.X, y, c.Max.X, y)
}
