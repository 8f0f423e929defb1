package plots

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a figure made of panels laid out in Rows × Cols equal tiles,
// filled row by row (panel i goes to row i/Cols, column i%Cols); nil panels
// leave their tile blank. Title, when not empty, is drawn above all panels.
// When Rows or Cols is zero it is derived from len(Panels) (both zero: one
// row). Render it with [Save] or [Show]; the size given there is that of the
// whole figure.
type Grid struct {
	Rows, Cols int
	Panels     []*plot.Plot
	Title      string
}

// layout returns the effective rows and columns of g.
func (g *Grid) layout() (rows, cols int, err error) {
	rows, cols = g.Rows, g.Cols
	n := len(g.Panels)
	switch {
	case rows < 0 || cols < 0:
		return 0, 0, fmt.Errorf("plots: Grid has %d rows and %d columns", rows, cols)
	case n == 0:
		return 0, 0, errors.New("plots: Grid has no panels")
	case rows == 0 && cols == 0:
		rows, cols = 1, n
	case rows == 0:
		rows = (n + cols - 1) / cols
	case cols == 0:
		cols = (n + rows - 1) / rows
	}
	if rows*cols < n {
		return 0, 0, fmt.Errorf("plots: Grid of %d×%d tiles cannot hold %d panels", rows, cols, n)
	}
	return rows, cols, nil
}

// draw renders g onto c.
func (g *Grid) draw(c draw.Canvas) error {
	rows, cols, err := g.layout()
	if err != nil {
		return err
	}
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if g.Title != "" {
		sty := text.Style{
			Color: color.Black, Font: gridTitleFont, XAlign: draw.XCenter, YAlign: draw.YTop,
			Handler: plot.DefaultTextHandler,
		}
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - vg.Points(4)}, g.Title)
		c.Max.Y -= sty.Height(g.Title) + vg.Points(10)
	}
	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Points(10), PadY: vg.Points(10),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4),
	}
	for i, p := range g.Panels {
		if p != nil {
			drawPlot(p, tiles.At(c, i%cols, i/cols))
		}
	}
	return nil
}

// drawPlot draws p onto c, inside a small margin. It keeps an equal aspect
// ratio when p asks for it (see SetEqualAspect) and places the legend
// relative to the data area (gonum places it relative to the area inside
// the axes, which the tick labels may overhang).
func drawPlot(p *plot.Plot, c draw.Canvas) {
	if p.BackgroundColor != nil {
		c.SetColor(p.BackgroundColor)
		c.Fill(c.Rectangle.Path())
	}
	c = draw.Crop(c, margin, -margin, margin, -margin)
	full := c
	if EqualAspect(p) {
		c = fitAspect(p, full)
	}
	orig := p.Legend
	legend := orig // a copy: placing it leaves p's own settings alone
	outside, skip := placeLegend(p, &legend, c)
	if outside && EqualAspect(p) {
		c = fitAspect(p, full) // again, with the legend's room reserved
	}
	p.Legend = plot.NewLegend()
	func() {
		defer func() { p.Legend = orig }()
		p.Draw(c)
	}()
	dc := p.DataCanvas(c)
	if outside {
		dc.Min.X = dc.Max.X + skip + legendGap + legendClear
		dc.Max.X = c.Max.X
	}
	// The legend's backdrop reads the placement from p.Legend.
	p.Legend = legend
	legend.Draw(dc)
	p.Legend = orig
	if st, ok := legends.get(p); ok {
		st.room = 0
	}
}

// margin is left blank around each plot drawn by Save, Show and Grid.
const margin = vg.Length(4)

// fitAspect shrinks c, keeping it centred, so that p's data area has the
// aspect ratio of p's axis ranges. The data area is c minus margins (axes,
// title, colour bar) that do not depend on c's size, so one step suffices.
func fitAspect(p *plot.Plot, c draw.Canvas) draw.Canvas {
	xr, yr := p.X.Max-p.X.Min, p.Y.Max-p.Y.Min
	_, linX := p.X.Scale.(plot.LinearScale)
	_, linY := p.Y.Scale.(plot.LinearScale)
	if !(xr > 0 && yr > 0) || !finite(xr/yr) || !linX || !linY {
		return c
	}
	size := p.DataCanvas(c).Size()
	w, h := float64(size.X), float64(size.Y)
	if w <= 0 || h <= 0 {
		return c
	}
	if want := w * yr / xr; h > want {
		d := vg.Length((h - want) / 2)
		c.Min.Y += d
		c.Max.Y -= d
	} else {
		d := vg.Length((w - h*xr/yr) / 2)
		c.Min.X += d
		c.Max.X -= d
	}
	return c
}

// ImageGridPad is the padding, in pixels, that [ImageGrid] leaves around and
// between images.
const ImageGridPad = 2

// ImageGrid tiles images into one image, row by row, with cols columns (or
// len(images) when fewer) and ImageGridPad white pixels around and between
// tiles. Each image is a flat []float64 of h*w*c values in [0, 1] (clamped;
// NaN reads 0), row-major and channel-last: value (y, x, ch) is at index
// (y*w+x)*c+ch, with c = 1 (grey) or c = 3 (RGB). With n images, columns =
// min(cols, n) and rows = ⌈n/columns⌉, the result measures
// columns*w + (columns+1)*ImageGridPad by rows*h + (rows+1)*ImageGridPad
// pixels; it is an *image.Gray for c = 1 and an *image.RGBA for c = 3.
func ImageGrid(images [][]float64, h, w, c, cols int) (image.Image, error) {
	switch {
	case len(images) == 0:
		return nil, errors.New("plots: ImageGrid: no images")
	case h <= 0 || w <= 0:
		return nil, fmt.Errorf("plots: ImageGrid: image size %d×%d, want positive", h, w)
	case c != 1 && c != 3:
		return nil, fmt.Errorf("plots: ImageGrid: %d channels, want 1 or 3", c)
	case cols <= 0:
		return nil, fmt.Errorf("plots: ImageGrid: %d columns, want ≥ 1", cols)
	}
	for i, im := range images {
		if len(im) != h*w*c {
			return nil, fmt.Errorf("plots: ImageGrid: image %d has %d values, want h*w*c = %d", i, len(im), h*w*c)
		}
	}
	cols = min(cols, len(images))
	rows := (len(images) + cols - 1) / cols
	const pad = ImageGridPad
	bounds := image.Rect(0, 0, cols*w+(cols+1)*pad, rows*h+(rows+1)*pad)
	level := func(v float64) uint8 {
		if math.IsNaN(v) {
			return 0
		}
		return uint8(math.Round(255 * math.Min(1, math.Max(0, v))))
	}
	var out interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	if c == 1 {
		g := image.NewGray(bounds)
		for i := range g.Pix {
			g.Pix[i] = 0xff
		}
		out = g
	} else {
		g := image.NewRGBA(bounds)
		for i := range g.Pix {
			g.Pix[i] = 0xff
		}
		out = g
	}
	for n, im := range images {
		x0 := pad + (n%cols)*(w+pad)
		y0 := pad + (n/cols)*(h+pad)
		for y := range h {
			for x := range w {
				k := (y*w + x) * c
				if c == 1 {
					out.Set(x0+x, y0+y, color.Gray{Y: level(im[k])})
				} else {
					out.Set(x0+x, y0+y, color.RGBA{R: level(im[k]), G: level(im[k+1]), B: level(im[k+2]), A: 0xff})
				}
			}
		}
	}
	return out, nil
}
