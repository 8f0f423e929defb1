package plots

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LegendPlacement says where [Save], [Show] and [Grid] draw a plot's legend.
type LegendPlacement int

const (
	// LegendAuto puts the legend in the first corner of the data area (top
	// right, top left, bottom right, bottom left) that none of the plot's
	// [Curves] lines and none of its scatter points ([Scatter],
	// [AddScatter], [ScatterByClass]) passes through, and right of the data
	// area when every corner is taken. Other plotters are not looked at. It
	// is the default of [Curves] and of plots with scatter points.
	LegendAuto LegendPlacement = iota
	// LegendTopLeft and the other corners put the legend inside the data
	// area, in that corner.
	LegendTopLeft
	LegendTopRight
	LegendBottomLeft
	LegendBottomRight
	// LegendOutside puts the legend right of the data area (and of its
	// colour bar), top-aligned with it; the data area shrinks to make room.
	LegendOutside
)

// legendState is what the package knows of a plot's legend: where it goes
// and the curves and point clouds it must not cover. It never refers to the
// plot.
type legendState struct {
	place  LegendPlacement
	lines  []*curveLine
	clouds []*cloud
	room   vg.Length // width reserved right of the data area while drawing
}

var legends plotState[*legendState]

// legendFor returns the legend state of p, adding it (with the room
// reserver it needs) on first use.
func legendFor(p *plot.Plot) *legendState {
	if st, ok := legends.get(p); ok {
		return st
	}
	st := &legendState{}
	legends.set(p, st)
	p.Add(&legendRoom{st: st})
	return st
}

// SetLegend chooses where p's legend is drawn. Plots without curves or
// scatter points draw it at the top left of the data area unless told
// otherwise.
func SetLegend(p *plot.Plot, place LegendPlacement) { legendFor(p).place = place }

// legendRoom reserves the room of an outside legend right of the data area.
type legendRoom struct{ st *legendState }

func (r *legendRoom) Plot(draw.Canvas, *plot.Plot) {}

func (r *legendRoom) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	if r.st.room <= 0 {
		return nil
	}
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: r.st.room}}}}
}

// Gap between the data area and an outside legend, and room kept free
// around a legend inside the data area (enough for half a thick line).
const (
	legendGap   = vg.Length(8)
	legendClear = vg.Length(5)
)

// placeLegend decides where the legend l of p goes when p is drawn on c: it
// sets l's corner and offsets, and the room reserved right of the data area.
// It reports whether the legend goes outside, and then the width of the
// colour bars it must skip.
func placeLegend(p *plot.Plot, l *plot.Legend, c draw.Canvas) (outside bool, skip vg.Length) {
	st, ok := legends.get(p)
	if !ok {
		return false, 0
	}
	st.room = 0
	size := l.Rectangle(draw.Canvas{}).Size()
	if size.Y == 0 {
		return false, 0
	}
	corner := func(place LegendPlacement) {
		l.Top = place == LegendTopLeft || place == LegendTopRight
		l.Left = place == LegendTopLeft || place == LegendBottomLeft
		l.XOffs, l.YOffs = vg.Points(6), -vg.Points(4)
		if !l.Left {
			l.XOffs = -vg.Points(6)
		}
		if !l.Top {
			l.YOffs = vg.Points(4)
		}
	}
	place := st.place
	if place == LegendAuto {
		place = LegendOutside
		dc := p.DataCanvas(c)
		for _, try := range []LegendPlacement{LegendTopRight, LegendTopLeft, LegendBottomRight, LegendBottomLeft} {
			corner(try)
			if !st.covers(p, dc, legendBox(l, size, dc)) {
				place = try
				break
			}
		}
	}
	if place != LegendOutside {
		corner(place)
		return false, 0
	}
	bars, _ := colorBars.get(p)
	for _, cb := range bars {
		skip = max(skip, cb.width(p))
	}
	l.Top, l.Left, l.XOffs, l.YOffs = true, true, 0, 0
	st.room = skip + legendGap + size.X + 2*legendClear
	return true, skip
}

// legendBox returns where l (of the given size) is drawn in dc, grown by
// legendClear on each side.
func legendBox(l *plot.Legend, size vg.Point, dc draw.Canvas) vg.Rectangle {
	var r vg.Rectangle
	if l.Left {
		r.Min.X = dc.Min.X + l.XOffs
		r.Max.X = r.Min.X + size.X
	} else {
		r.Max.X = dc.Max.X + l.XOffs
		r.Min.X = r.Max.X - size.X
	}
	if l.Top {
		r.Max.Y = dc.Max.Y + l.YOffs
		r.Min.Y = r.Max.Y - size.Y
	} else {
		r.Min.Y = dc.Min.Y + l.YOffs
		r.Max.Y = r.Min.Y + size.Y
	}
	d := legendClear
	return vg.Rectangle{Min: vg.Point{X: r.Min.X - d, Y: r.Min.Y - d}, Max: vg.Point{X: r.Max.X + d, Y: r.Max.Y + d}}
}

// covers reports whether any of the lines passes through r (sampled every
// point or so along each segment).
func (st *legendState) covers(p *plot.Plot, dc draw.Canvas, r vg.Rectangle) bool {
	in := func(q vg.Point) bool {
		return q.X >= r.Min.X && q.X <= r.Max.X && q.Y >= r.Min.Y && q.Y <= r.Max.Y
	}
	for _, l := range st.lines {
		for _, run := range l.runs(dc, p) {
			for k, q := range run {
				if in(q) {
					return true
				}
				if k == 0 {
					continue
				}
				a := run[k-1]
				d := math.Hypot(float64(q.X-a.X), float64(q.Y-a.Y))
				steps := int(math.Min(1000, d))
				for s := 1; s < steps; s++ {
					f := vg.Length(float64(s) / float64(steps))
					if in(vg.Point{X: a.X + f*(q.X-a.X), Y: a.Y + f*(q.Y-a.Y)}) {
						return true
					}
				}
			}
		}
	}
	trX, trY := p.Transforms(&dc)
	for _, cl := range st.clouds {
		rr := r
		rr.Min.X, rr.Min.Y, rr.Max.X, rr.Max.Y = r.Min.X-cl.radius, r.Min.Y-cl.radius, r.Max.X+cl.radius, r.Max.Y+cl.radius
		for _, pt := range cl.points {
			if !inRange(p, pt[0], pt[1]) {
				continue
			}
			if q := (vg.Point{X: trX(pt[0]), Y: trY(pt[1])}); q.X >= rr.Min.X && q.X <= rr.Max.X && q.Y >= rr.Min.Y && q.Y <= rr.Max.Y {
				return true
			}
		}
	}
	return false
}
