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

// heatMap returns a rasterized heat map of g over [lo, hi] on the ramp r:
// values below lo (-Inf included) take the lowest colour, values above hi
// the highest, NaN is transparent.
func heatMap(g *cells, lo, hi float64, r ramp) plot.Plotter {
	h := plotter.NewHeatMap(g, r)
	h.Min, h.Max = lo, hi
	h.Underflow, h.Overflow = r.at(0), r.at(1)
	h.NaN = color.Transparent
	h.Rasterized = true
	return quiet{h}
}

// LogDensity draws logp as a heat map on an n×n grid of cells over b (each
// cell coloured by logp at its centre, viridis palette, colour bar labelled
// "log p(x)", see [WithColorBarLabel]) with 8 contour lines of logp on top
// (see [WithLevels]), evenly spaced between its smallest and largest finite
// values. -Inf takes the lowest colour; NaN cells are left blank.
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
	bar := newColorBar(lo, hi, label, viridis.at)

	p := newPlane(b)
	p.Add(heatMap(g, bar.min, bar.max, viridis))
	levels := cfg.levels
	if levels < 0 {
		levels = 8
	}
	if levels > 0 && lo < hi {
		// Contour a copy where -Inf and NaN are pulled to the floor.
		floor := &cells{}
		*floor = *g
		floor.z = make([]float64, len(g.z))
		for i, v := range g.z {
			floor.z[i] = v
			if !finite(v) {
				floor.z[i] = lo
				if v > 0 {
					floor.z[i] = hi
				}
			}
		}
		zs := make([]float64, levels)
		for i := range zs {
			zs[i] = lo + (hi-lo)*float64(i+1)/float64(levels+1)
		}
		p.Add(&contours{g: floor, levels: zs, style: draw.LineStyle{Color: color.NRGBA{R: 255, G: 255, B: 255, A: 0xb0}, Width: vg.Points(0.7)}})
	}
	p.Add(bar, frame{})
	return p
}

// Figure1 reproduces the layout of Figure 1 of Song et al. (2021): the
// density p_t(x) = density(t, x) of a 1-D process as a heat map with time t
// on the horizontal axis (from times[0] to times[len-1], or [0, 1] when times
// has fewer than two entries) and x ∈ [xmin, xmax] vertical, with forward
// paths (orange, "forward SDE") and reverse paths (purple, "reverse SDE")
// drawn on top. forward[i][k] and reverse[i][k] are the positions of path i
// at times[k]; either set may be empty.
//
// By default each time column of the heat map is divided by its maximum
// (colour bar "p(x, t) / max p(·, t)"), so the density stays visible as it
// spreads; [WithColumnNormalization](false) shows p_t(x) itself. Non-finite
// density values are left blank. It panics if xmin ≥ xmax or a path's length
// differs from len(times). WideWidth × WideHeight suits it.
func Figure1(density func(t, x float64) float64, xmin, xmax float64, times []float64, forward, reverse [][]float64, opts ...Option) *plot.Plot {
	if !(xmin < xmax) || !finite(xmin) || !finite(xmax) {
		panic(fmt.Sprintf("plots: Figure1: empty or non-finite x range [%v, %v]", xmin, xmax))
	}
	for name, paths := range map[string][][]float64{"forward": forward, "reverse": reverse} {
		for i, path := range paths {
			if len(path) != len(times) {
				panic(fmt.Sprintf("plots: Figure1: %s path %d has %d steps, want len(times) = %d", name, i, len(path), len(times)))
			}
		}
	}
	cfg := newConfig(opts)
	t0, t1 := 0.0, 1.0
	if len(times) >= 2 {
		t0, t1 = math.Inf(1), math.Inf(-1)
		for _, t := range times {
			t0, t1 = min(t0, t), max(t1, t)
		}
		if !(t0 < t1) || !finite(t0+t1) {
			t0, t1 = 0, 1
		}
	}

	const cols, rows = 200, 150
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
	bar := newColorBar(lo, hi, label, mist.at)

	p := newPlot()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = t0, t1, xmin, xmax
	tight(p)
	p.X.Label.Text, p.Y.Label.Text = "t", "x"
	p.Add(heatMap(g, bar.min, bar.max, mist))
	fwd := draw.LineStyle{Color: withAlpha(rgb(0xe66100), 0.85), Width: vg.Points(0.9)}
	rev := draw.LineStyle{Color: withAlpha(rgb(0x5e3c99), 0.85), Width: vg.Points(0.9)}
	if len(forward) > 0 {
		p.Add(&timePaths{times: times, paths: forward, style: fwd})
		addLegend(p, "forward SDE", lineThumb(withWidth(fwd, 2)))
	}
	if len(reverse) > 0 {
		p.Add(&timePaths{times: times, paths: reverse, style: rev})
		addLegend(p, "reverse SDE", lineThumb(withWidth(rev, 2)))
	}
	p.Add(bar, frame{})
	return p
}

func withWidth(s draw.LineStyle, w vg.Length) draw.LineStyle { s.Width = w; return s }

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
