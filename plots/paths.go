package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Trajectories draws paths in the plane over b as lines coloured by time on
// a viridis palette, with a dot at each path's last point and a colour bar
// labelled "t" (see [WithColorBarLabel] and [WithRange]). paths[i][k] is the point [2]
// (x, y, data units) of path i at step k, reached at time times[k]; times
// has one entry per step, in any order (forward or reverse time). When times
// is nil, steps are coloured by their index k and the bar is labelled
// "step". Non-finite points break a path; parts outside b are clipped.
//
// The plot has equal aspect ratio and axes labelled x and y. It panics if b
// is empty, a path has a different number of steps than times or a point has
// fewer than 2 values.
func Trajectories(paths [][][]float64, times []float64, b Bounds, opts ...Option) *plot.Plot {
	b.check("Trajectories")
	cfg := newConfig(opts)
	label := "t"
	if times == nil {
		label = "step"
		steps := 0
		for _, path := range paths {
			steps = max(steps, len(path))
		}
		times = make([]float64, steps)
		for k := range times {
			times[k] = float64(k)
		}
	}
	for i, path := range paths {
		if len(path) != len(times) {
			panic(fmt.Sprintf("plots: Trajectories: path %d has %d steps, want len(times) = %d", i, len(path), len(times)))
		}
		for k, pt := range path {
			if len(pt) < 2 {
				panic(fmt.Sprintf("plots: Trajectories: point %d of path %d has %d coordinates, want 2", k, i, len(pt)))
			}
		}
	}
	if cfg.colorBarLabel != "" {
		label = cfg.colorBarLabel
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range times {
		if finite(t) {
			lo, hi = min(lo, t), max(hi, t)
		}
	}
	bar := cfg.bar(lo, hi, label, viridis.at, false)
	p := newPlane(b)
	p.Add(&planePaths{paths: paths, times: times, bar: bar})
	addColorBar(p, bar)
	p.Add(frame{})
	return p
}

// planePaths draws time-coloured 2-D paths. Consecutive segments whose
// colours fall in the same of colourBins bins are drawn as one polyline,
// which keeps vector output compact for long paths.
type planePaths struct {
	paths [][][]float64
	times []float64
	bar   *colorBar
}

const colorBins = 64

func (pp *planePaths) bin(k int) int {
	t := pp.bar.norm(pp.times[k])
	return min(colorBins-1, max(0, int(t*colorBins)))
}

func (pp *planePaths) style(bin int) draw.LineStyle {
	return draw.LineStyle{
		Color: withAlpha(pp.bar.color((float64(bin)+0.5)/colorBins), 0.85),
		Width: vg.Points(0.8),
	}
}

func (pp *planePaths) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ok := func(pt []float64) bool { return finite(pt[0]) && finite(pt[1]) }
	at := func(pt []float64) vg.Point { return vg.Point{X: trX(pt[0]), Y: trY(pt[1])} }
	for _, path := range pp.paths {
		var run []vg.Point
		runBin := -1
		flush := func() {
			if len(run) > 1 {
				c.StrokeLines(pp.style(runBin), c.ClipLinesXY(run)...)
			}
			run = run[:0]
		}
		for k := 1; k < len(path); k++ {
			a, b := path[k-1], path[k]
			if !ok(a) || !ok(b) || !finite(pp.times[k]) {
				flush()
				continue
			}
			if bin := pp.bin(k); bin != runBin || len(run) == 0 {
				flush()
				runBin = bin
				run = append(run, at(a))
			}
			run = append(run, at(b))
		}
		flush()
	}
	// End dots, on top of all lines.
	for _, path := range pp.paths {
		k := len(path) - 1
		if k < 0 || !ok(path[k]) || !inRange(p, path[k][0], path[k][1]) || !finite(pp.times[k]) {
			continue
		}
		col := pp.bar.colorOf(pp.times[k])
		c.DrawGlyphNoClip(draw.GlyphStyle{Color: col, Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}, at(path[k]))
	}
}
