package plots

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// contours draws iso-lines of values sampled at cell centres (marching
// squares). Unlike gonum's contour plotter, which collects its paths in
// maps, it emits the same paths in the same order on every run, so vector
// output is byte-for-byte reproducible.
type contours struct {
	g      *cells
	levels []float64
	style  draw.LineStyle
	lines  [][][2]float64 // per level, in data units; built on first use
	built  bool
}

// Plot strokes every contour line, clipped to the data area.
func (ct *contours) Plot(c draw.Canvas, p *plot.Plot) {
	if !ct.built {
		ct.lines = nil
		for _, z := range ct.levels {
			ct.lines = append(ct.lines, isoLines(ct.g, z)...)
		}
		ct.built = true
	}
	trX, trY := p.Transforms(&c)
	for _, line := range ct.lines {
		pts := make([]vg.Point, len(line))
		for i, q := range line {
			pts[i] = vg.Point{X: trX(q[0]), Y: trY(q[1])}
		}
		c.StrokeLines(ct.style, c.ClipLinesXY(pts)...)
	}
}

// isoLines returns the polylines where g crosses level z, in data units,
// cell by cell in row-major order. Closed loops repeat their first point at
// the end. Corners at or above z count as inside; an ambiguous saddle is
// resolved by the mean of its four corners. Non-finite values end lines.
func isoLines(g *cells, z float64) [][][2]float64 {
	cols, rows := g.cols, g.rows
	if cols < 2 || rows < 2 {
		return nil
	}
	// Edge ids: the horizontal edge from corner (c, r) to (c+1, r) is
	// 2(r·cols+c), the vertical one from (c, r) to (c, r+1) is 2(r·cols+c)+1.
	hEdge := func(c, r int) int { return 2 * (r*cols + c) }
	vEdge := func(c, r int) int { return 2*(r*cols+c) + 1 }
	cross := func(e int) [2]float64 {
		k := e / 2
		c, r := k%cols, k/cols
		c2, r2 := c+1, r
		if e%2 == 1 {
			c2, r2 = c, r+1
		}
		z1, z2 := g.Z(c, r), g.Z(c2, r2)
		f := 0.5
		if z2 != z1 {
			f = math.Min(1, math.Max(0, (z-z1)/(z2-z1)))
		}
		x1, y1, x2, y2 := g.X(c), g.Y(r), g.X(c2), g.Y(r2)
		return [2]float64{x1 + f*(x2-x1), y1 + f*(y2-y1)}
	}
	type segment struct{ a, b int } // edge ids
	var segs []segment
	for r := range rows - 1 {
		for c := range cols - 1 {
			// Corners counter-clockwise from the lower left.
			z0, z1, z2, z3 := g.Z(c, r), g.Z(c+1, r), g.Z(c+1, r+1), g.Z(c, r+1)
			if !finite(z0) || !finite(z1) || !finite(z2) || !finite(z3) {
				continue
			}
			code := 0
			for i, v := range [4]float64{z0, z1, z2, z3} {
				if v >= z {
					code |= 1 << i
				}
			}
			if code == 0 || code == 15 {
				continue
			}
			bottom, right, top, left := hEdge(c, r), vEdge(c+1, r), hEdge(c, r+1), vEdge(c, r)
			add := func(a, b int) { segs = append(segs, segment{a, b}) }
			switch code {
			case 1, 14:
				add(left, bottom)
			case 2, 13:
				add(bottom, right)
			case 3, 12:
				add(left, right)
			case 4, 11:
				add(right, top)
			case 6, 9:
				add(bottom, top)
			case 7, 8:
				add(left, top)
			case 5, 10:
				// Saddle: corners 0 and 2 share a side, 1 and 3 the other.
				centre := (z0 + z1 + z2 + z3) / 4
				if (centre >= z) == (code == 5) {
					add(left, top)
					add(bottom, right)
				} else {
					add(left, bottom)
					add(right, top)
				}
			}
		}
	}
	// Each edge is crossed by at most two segments (one per adjacent cell):
	// chain them into polylines, in the order the segments were found.
	at := make(map[int][]int, 2*len(segs)) // edge id → segments touching it
	for i, s := range segs {
		at[s.a] = append(at[s.a], i)
		at[s.b] = append(at[s.b], i)
	}
	used := make([]bool, len(segs))
	next := func(edge, from int) int { // the other unused segment at edge
		for _, j := range at[edge] {
			if j != from && !used[j] {
				return j
			}
		}
		return -1
	}
	// walk follows the chain of unused segments from edge e of segment i and returns the edges
	// it passes, marking their segments used.
	walk := func(i, e int) []int {
		var edges []int
		for cur := i; ; {
			j := next(e, cur)
			if j < 0 {
				return edges
			}
			used[j] = true
			if segs[j].a == e {
				e = segs[j].b
			} else {
				e = segs[j].a
			}
			edges = append(edges, e)
			cur = j
		}
	}
	var lines [][][2]float64
	for i := range segs {
		if used[i] {
			continue
		}
		used[i] = true
		// Walk forward from b, then backward from a.
		fwd := append([]int{segs[i].a, segs[i].b}, walk(i, segs[i].b)...)
		var back []int
		if fwd[len(fwd)-1] != fwd[0] { // not a closed loop
			back = walk(i, segs[i].a)
		}
		line := make([][2]float64, 0, len(back)+len(fwd))
		for k := len(back) - 1; k >= 0; k-- {
			line = append(line, cross(back[k]))
		}
		for _, e := range fwd {
			line = append(line, cross(e))
		}
		lines = append(lines, line)
	}
	return lines
}
