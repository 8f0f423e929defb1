package plots

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one named line y(x) of a [Curves] plot: points (X[k], Y[k]) in
// data units, joined in order; X and Y have the same length. Dashed draws
// it with a dashed line. Non-finite points break the line.
type Curve struct {
	Name   string
	X, Y   []float64
	Dashed bool
}

// Curves draws named curves as lines, in [Categorical] colours by position,
// with a legend (curves with an empty Name are left out of it) and light
// grid lines: for example means and standard deviations over time or errors
// against sample size (see [LogX] and [LogY] for logarithmic axes).
// It panics if a curve's X and Y lengths differ.
func Curves(title, xlabel, ylabel string, curves ...Curve) *plot.Plot {
	p := newPlot()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(6)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridLineColor, gridLineColor
	grid.Vertical.Width, grid.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(grid)
	for i, cv := range curves {
		if len(cv.X) != len(cv.Y) {
			panic(fmt.Sprintf("plots: Curves: curve %d (%q) has %d x and %d y values", i, cv.Name, len(cv.X), len(cv.Y)))
		}
		sty := draw.LineStyle{Color: Categorical(i), Width: vg.Points(1.5)}
		if cv.Dashed {
			sty.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		var segs []plotter.XYs
		var cur plotter.XYs
		for k := range cv.X {
			if !finite(cv.X[k]) || !finite(cv.Y[k]) {
				if len(cur) > 0 {
					segs, cur = append(segs, cur), nil
				}
				continue
			}
			cur = append(cur, plotter.XY{X: cv.X[k], Y: cv.Y[k]})
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
		}
		for _, seg := range segs {
			l, err := plotter.NewLine(seg)
			if err != nil {
				panic("plots: Curves: " + err.Error())
			}
			l.LineStyle = sty
			p.Add(l)
		}
		if cv.Name != "" {
			addLegend(p, cv.Name, lineThumb(sty))
		}
	}
	return p
}

// LogX switches the horizontal axis of p to a logarithmic scale; every x
// value drawn must then be positive. Ticks are labelled at powers of ten,
// and also at 2 and 5 times them when the axis spans less than three
// decades.
func LogX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
}

// LogY is [LogX] for the vertical axis.
func LogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
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
