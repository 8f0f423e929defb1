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
// plot's data area shrinks to make space for it. The plotters it colours
// read min and max when they draw, so [ShareColorScale] can still change
// them after the plot is built.
type colorBar struct {
	min, max float64
	log      bool // logarithmic scale (min > 0)
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
	cb := &colorBar{label: label, color: col}
	cb.setRange(lo, hi)
	return cb
}

// newLogColorBar returns a colour bar on a logarithmic scale for positive
// values in [lo, hi]; lo is raised to at least hi/1000, so the bar spans
// at most three decades (smaller values take the lowest colour).
func newLogColorBar(lo, hi float64, label string, col func(float64) color.Color) *colorBar {
	cb := &colorBar{label: label, color: col, log: true}
	cb.setRange(lo, hi)
	return cb
}

// setRange sets the bar's range, widening a degenerate or non-finite one.
func (cb *colorBar) setRange(lo, hi float64) {
	if cb.log {
		if !(hi > 0) || !finite(hi) {
			lo, hi = 0.1, 1
		}
		if !(lo > 0) || !finite(lo) || lo < hi*1e-3 {
			lo = hi * 1e-3
		}
		if hi <= lo*(1+1e-9) {
			lo, hi = lo/1.01, hi*1.01
		}
		cb.min, cb.max = lo, hi
		return
	}
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if hi <= lo {
		d := math.Max(1, math.Abs(lo)) * 1e-3
		lo, hi = lo-d, hi+d
	}
	cb.min, cb.max = lo, hi
}

// norm maps v onto [0, 1] along the bar (values outside the range are
// clamped; NaN stays NaN).
func (cb *colorBar) norm(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	var t float64
	if cb.log {
		if v <= 0 {
			return 0
		}
		t = math.Log(v/cb.min) / math.Log(cb.max/cb.min)
	} else {
		t = (v - cb.min) / (cb.max - cb.min)
	}
	return math.Min(1, math.Max(0, t))
}

// colorOf returns the colour of the value v.
func (cb *colorBar) colorOf(v float64) color.Color { return cb.color(cb.norm(v)) }

func (cb *colorBar) ticks() []plot.Tick {
	var ts []plot.Tick
	var all []plot.Tick
	if cb.log {
		all = (logTicks{}).Ticks(cb.min, cb.max)
	} else {
		all = (niceTicks{}).Ticks(cb.min, cb.max)
	}
	for _, t := range all {
		if t.Label != "" && t.Value >= cb.min*(1-1e-9) && t.Value <= cb.max*(1+1e-9) {
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
		y := c.Min.Y + vg.Length(cb.norm(t.Value))*(c.Max.Y-c.Min.Y)
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

// colorBars records the colour bars of each plot, for ShareColorScale.
var colorBars plotState[[]*colorBar]

// addColorBar adds cb to p (drawn after everything added before it) and
// records it.
func addColorBar(p *plot.Plot, cb *colorBar) {
	bars, _ := colorBars.get(p)
	colorBars.set(p, append(bars, cb))
	p.Add(cb)
}

// ShareColorScale gives the colour bars of the panels one common range, so
// that a colour means the same value in every panel (exact and learned
// scores, one field at several noise levels): bars with the same label
// (for example "log p(x)" or "|s|") take the smallest minimum and largest
// maximum among them; bars with different labels are left apart. It
// applies to plots built by [VectorField], [LogDensity], [Trajectories],
// [TimeDensity] and [Figure1]; nil panels and plots without a colour bar
// are skipped. Call it after building the panels and before drawing them.
func ShareColorScale(panels ...*plot.Plot) {
	type group struct {
		bars   []*colorBar
		lo, hi float64
	}
	var order []string
	groups := map[string]*group{}
	for _, p := range panels {
		if p == nil {
			continue
		}
		bars, _ := colorBars.get(p)
		for _, cb := range bars {
			g := groups[cb.label]
			if g == nil {
				g = &group{lo: math.Inf(1), hi: math.Inf(-1)}
				groups[cb.label] = g
				order = append(order, cb.label)
			}
			g.bars = append(g.bars, cb)
			g.lo, g.hi = min(g.lo, cb.min), max(g.hi, cb.max)
		}
	}
	for _, label := range order {
		g := groups[label]
		for _, cb := range g.bars {
			cb.setRange(g.lo, g.hi)
		}
	}
}

// ColorRange returns the range of the first colour bar of p (as drawn, after
// [WithRange] or [ShareColorScale]), and false when p has none.
func ColorRange(p *plot.Plot) (lo, hi float64, ok bool) {
	bars, _ := colorBars.get(p)
	if len(bars) == 0 {
		return 0, 0, false
	}
	return bars[0].min, bars[0].max, true
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
