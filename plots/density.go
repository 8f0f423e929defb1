package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// cells holds values sampled at the centres of a cols×rows grid over a
// rectangle; it implements plotter.GridXYZ.
type cells struct {
	x0, dx, y0, dy float64
	cols, rows     int
	z              []float64 // row-major, index r*cols+c
}

func sampleCells(xmin, xmax, ymin, ymax float64, cols, rows int, f func(x, y float64) float64) *cells {
	g := &cells{
		x0: xmin, dx: (xmax - xmin) / float64(cols),
		y0: ymin, dy: (ymax - ymin) / float64(rows),
		cols: cols, rows: rows, z: make([]float64, cols*rows),
	}
	for r := range rows {
		for c := range cols {
			g.z[r*cols+c] = f(g.X(c), g.Y(r))
		}
	}
	return g
}

func (g *cells) Dims() (c, r int)   { return g.cols, g.rows }
func (g *cells) Z(c, r int) float64 { return g.z[r*g.cols+c] }
func (g *cells) X(c int) float64    { return g.x0 + (float64(c)+0.5)*g.dx }
func (g *cells) Y(r int) float64    { return g.y0 + (float64(r)+0.5)*g.dy }

// finiteRange returns the smallest and largest finite values of g
// (+Inf, -Inf when there is none).
func (g *cells) finiteRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range g.z {
		if finite(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// heatMap returns a rasterized heat map of g coloured on the ramp r over
// the range of bar, read when it draws (so [ShareColorScale] applies):
// values below the range (-Inf included) take the lowest colour, values
// above it the highest, NaN is transparent.
func heatMap(g *cells, bar *colorBar, r ramp) plot.Plotter {
	h := plotter.NewHeatMap(g, r)
	h.Underflow, h.Overflow = r.at(0), r.at(1)
	h.NaN = color.Transparent
	h.Rasterized = true
	return &barHeatMap{h: h, bar: bar}
}

// barHeatMap draws a heat map over the current range of its colour bar.
// It hides the heat map's glyph boxes and data range, which ask for
// padding around every cell and would detach the map from the axes.
type barHeatMap struct {
	h   *plotter.HeatMap
	bar *colorBar
}

func (b *barHeatMap) Plot(c draw.Canvas, p *plot.Plot) {
	b.h.Min, b.h.Max = b.bar.min, b.bar.max
	b.h.Plot(c, p)
}

// LogDensity draws logp as a heat map on an n×n grid of cells over b (each
// cell coloured by logp at its centre, viridis palette, colour bar labelled
// "log p(x)", see [WithColorBarLabel] and [WithRange]) with 8 contour lines
// of logp on top (see [WithLevels]), evenly spaced between its smallest and
// largest finite values. -Inf takes the lowest colour; NaN cells are left
// blank. [WithMarkers] marks points with crosses; [WithGrey] draws it as a
// light grey backdrop without colour bar.
//
// The plot has equal aspect ratio and axes labelled x and y. It panics if
// n < 2 or b is empty.
func LogDensity(logp func(x, y float64) float64, b Bounds, n int, opts ...Option) *plot.Plot {
	b.check("LogDensity")
	if n < 2 {
		panic(fmt.Sprintf("plots: LogDensity: n = %d, want ≥ 2", n))
	}
	cfg := newConfig(opts)
	g := sampleCells(b.XMin, b.XMax, b.YMin, b.YMax, n, n, logp)
	lo, hi := g.finiteRange()
	label := cfg.colorBarLabel
	if label == "" {
		label = "log p(x)"
	}
	pal, line := viridis, color.Color(color.NRGBA{R: 255, G: 255, B: 255, A: 0xb0})
	if cfg.grey {
		pal, line = fog, color.NRGBA{R: 0x70, G: 0x74, B: 0x7c, A: 0x90}
	}
	bar := cfg.bar(lo, hi, label, pal.at, false)

	p := newPlane(b)
	p.Add(heatMap(g, bar, pal))
	levels := cfg.levels
	if levels < 0 {
		levels = 8
	}
	if levels > 0 && lo < hi {
		p.Add(&contours{g: floored(g, lo, hi), levels: evenLevels(lo, hi, levels),
			style: draw.LineStyle{Color: line, Width: vg.Points(0.7)}})
	}
	if len(cfg.markers) > 0 {
		p.Add(&markers{points: cfg.markers})
	}
	if !cfg.grey {
		addColorBar(p, bar)
	}
	p.Add(frame{})
	return p
}

// floored returns a copy of g where -Inf and NaN are pulled to lo and +Inf
// to hi, for contouring.
func floored(g *cells, lo, hi float64) *cells {
	f := &cells{}
	*f = *g
	f.z = make([]float64, len(g.z))
	for i, v := range g.z {
		f.z[i] = v
		if !finite(v) {
			f.z[i] = lo
			if v > 0 {
				f.z[i] = hi
			}
		}
	}
	return f
}

// evenLevels returns k levels evenly spaced strictly inside (lo, hi).
func evenLevels(lo, hi float64, k int) []float64 {
	zs := make([]float64, k)
	for i := range zs {
		zs[i] = lo + (hi-lo)*float64(i+1)/float64(k+1)
	}
	return zs
}

// markers draws a cross, dark on a white halo, at each point inside the
// axes.
type markers struct{ points [][]float64 }

func (m *markers) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	const arm = 3.5
	for _, q := range m.points {
		if len(q) < 2 || !inRange(p, q[0], q[1]) {
			continue
		}
		x, y := trX(q[0]), trY(q[1])
		for _, sty := range []draw.LineStyle{
			{Color: color.White, Width: vg.Points(2.8)},
			{Color: color.Black, Width: vg.Points(1.2)},
		} {
			c.StrokeLine2(sty, x-arm, y-arm, x+arm, y+arm)
			c.StrokeLine2(sty, x-arm, y+arm, x+arm, y-arm)
		}
	}
}

// Path colours of [Figure1] and the default of [TimeDensity].
var (
	forwardColor = rgb(0xe66100)
	reverseColor = rgb(0x5e3c99)
)

// TimeDensity draws the density p_t(x) = density(t, x) of a 1-D process as a
// heat map with time t on the horizontal axis (from the smallest to the
// largest of times, or [0, 1] when times has fewer than two entries) and
// x ∈ [xmin, xmax] vertical, with paths drawn on top: paths[i][k] is the
// position of path i at times[k]. It is one strip of [Figure1].
//
// By default each time column of the heat map is divided by its maximum
// (colour bar "p(x, t) / max p(·, t)"), so the density stays visible as it
// spreads; [WithColumnNormalization](false) shows p_t(x) itself. Options:
// [WithColor] for the paths (default orange), [WithColorBarLabel],
// [WithRange]. Non-finite density values are left blank, non-finite path
// points break the path. It panics if xmin ≥ xmax or a path's length
// differs from len(times). WideWidth × WideHeight suits it.
func TimeDensity(density func(t, x float64) float64, xmin, xmax float64, times []float64, paths [][]float64, opts ...Option) *plot.Plot {
	if !(xmin < xmax) || !finite(xmin) || !finite(xmax) {
		panic(fmt.Sprintf("plots: TimeDensity: empty or non-finite x range [%v, %v]", xmin, xmax))
	}
	for i, path := range paths {
		if len(path) != len(times) {
			panic(fmt.Sprintf("plots: TimeDensity: path %d has %d steps, want len(times) = %d", i, len(path), len(times)))
		}
	}
	cfg := newConfig(opts)
	t0, t1 := 0.0, 1.0
	if len(times) >= 2 {
		t0, t1 = math.Inf(1), math.Inf(-1)
		for _, t := range times {
			if finite(t) {
				t0, t1 = min(t0, t), max(t1, t)
			}
		}
		if !(t0 < t1) {
			t0, t1 = 0, 1
		}
	}

	const cols, rows = 240, 160
	g := sampleCells(t0, t1, xmin, xmax, cols, rows, density)
	label := "p(x, t)"
	if cfg.columnNorm {
		label = "p(x, t) / max p(·, t)"
		for c := range cols {
			m := 0.0
			for r := range rows {
				if v := g.Z(c, r); finite(v) {
					m = math.Max(m, v)
				}
			}
			for r := range rows {
				if m > 0 {
					g.z[r*cols+c] /= m
				}
			}
		}
	}
	if cfg.colorBarLabel != "" {
		label = cfg.colorBarLabel
	}
	lo, hi := g.finiteRange()
	lo = math.Min(lo, 0)
	bar := cfg.bar(lo, hi, label, mist.at, false)

	p := newPlot()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = t0, t1, xmin, xmax
	tight(p)
	p.X.Label.Text, p.Y.Label.Text = "t", "x"
	p.Add(heatMap(g, bar, mist))
	col := cfg.color
	if col == nil {
		col = forwardColor
	}
	if len(paths) > 0 {
		p.Add(&timePaths{times: times, paths: paths, style: draw.LineStyle{Color: withAlpha(col, 0.9), Width: vg.Points(1)}})
	}
	addColorBar(p, bar)
	p.Add(frame{})
	return p
}

// Figure1 reproduces the layout of Figure 1 of Song et al. (2021) for a 1-D
// process: two strips, one above the other, each a [TimeDensity] of
// density(t, x) on the same axes — the forward paths (orange, "forward SDE:
// data → noise") on top and the reverse-SDE paths (purple, "reverse SDE:
// noise → data") below. forward[i][k] and reverse[i][k] are the positions
// of path i at times[k]; a strip whose set is empty is left out. Options
// are those of TimeDensity. It panics if xmin ≥ xmax or a path's length
// differs from len(times). WideWidth × 1.6·WideHeight suits it.
func Figure1(density func(t, x float64) float64, xmin, xmax float64, times []float64, forward, reverse [][]float64, opts ...Option) *Grid {
	g := &Grid{Cols: 1}
	for _, strip := range []struct {
		paths [][]float64
		col   color.Color
		title string
	}{
		{forward, forwardColor, "forward SDE: data (t = 0) → noise (t = 1)"},
		{reverse, reverseColor, "reverse SDE: noise (t = 1) → data (t = 0)"},
	} {
		if len(strip.paths) == 0 {
			continue
		}
		p := TimeDensity(density, xmin, xmax, times, strip.paths, append(append([]Option(nil), opts...), WithColor(strip.col))...)
		p.Title.Text = strip.title
		g.Panels = append(g.Panels, p)
	}
	if len(g.Panels) == 0 {
		p := TimeDensity(density, xmin, xmax, times, nil, opts...)
		g.Panels = append(g.Panels, p)
	}
	g.Rows = len(g.Panels)
	return g
}

// timePaths draws 1-D paths x(t): points (times[k], paths[i][k]).
type timePaths struct {
	times []float64
	paths [][]float64
	style draw.LineStyle
}

func (tp *timePaths) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, path := range tp.paths {
		pts := make([]vg.Point, 0, len(path))
		for k, x := range path {
			if !finite(x) || !finite(tp.times[k]) {
				c.StrokeLines(tp.style, c.ClipLinesXY(pts)...)
				pts = pts[:0]
				continue
			}
			pts = append(pts, vg.Point{X: trX(tp.times[k]), Y: trY(x)})
		}
		c.StrokeLines(tp.style, c.ClipLinesXY(pts)...)
	}
}
