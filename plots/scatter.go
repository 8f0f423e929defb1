package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// RasterThreshold is the number of points above which [Scatter] and
// [AddScatter] rasterize a cloud into an image (plotter.Image) at the output
// resolution instead of drawing one vector circle per point, which keeps SVG
// files and notebook output small.
const RasterThreshold = 3000

// rasterDPI is the resolution of rasterized clouds on canvases that have
// none of their own (SVG).
const rasterDPI = 144

// Scatter draws a point cloud over b. points is [N][2] (x, y per row, in data
// units); points outside b or with non-finite coordinates are not drawn.
// Options: [WithColor] (default [Categorical](0), drawn semi-transparent so
// density shows), [WithRadius] (default 2 points, 1.2 past
// [RasterThreshold] points) and [WithName] (legend entry). Past
// RasterThreshold points the cloud is rasterized.
//
// The plot has equal aspect ratio and axes labelled x and y. It panics if b
// is empty or a row of points has fewer than 2 values.
func Scatter(points [][]float64, b Bounds, opts ...Option) *plot.Plot {
	b.check("Scatter")
	cfg := newConfig(opts)
	p := newPlane(b)
	if err := addCloud(p, points, cfg); err != nil {
		panic(err.Error())
	}
	p.Add(frame{})
	return p
}

// AddScatter adds the cloud points ([N][2], data units) to p, drawn in
// colour c ([Categorical](1) when nil) with the legend entry name (none when
// empty). The same rasterization rule as [Scatter] applies and points outside
// p's axis ranges are not drawn. It returns an error if a row has fewer than
// 2 values.
func AddScatter(p *plot.Plot, points [][]float64, name string, c color.Color) error {
	if c == nil {
		c = Categorical(1)
	}
	return addCloud(p, points, &config{color: c, name: name})
}

func addCloud(p *plot.Plot, points [][]float64, cfg *config) error {
	for i, pt := range points {
		if len(pt) < 2 {
			return fmt.Errorf("plots: point %d has %d coordinates, want 2", i, len(pt))
		}
	}
	cl := &cloud{points: points, color: cfg.color, radius: cfg.radius, raster: len(points) > RasterThreshold}
	if cl.color == nil {
		cl.color = Categorical(0)
	}
	if cl.radius <= 0 {
		cl.radius = vg.Points(2)
		if cl.raster {
			cl.radius = vg.Points(1.2)
		}
	}
	cl.alpha = 0.75
	if cl.raster {
		cl.alpha = 0.45
	}
	p.Add(cl)
	if cfg.name != "" {
		addLegend(p, cfg.name, cl)
	}
	return nil
}

// cloud draws a point cloud, as vector circles or as one raster image.
type cloud struct {
	points [][]float64
	color  color.Color
	alpha  float64
	radius vg.Length
	raster bool
}

// Thumbnail draws one opaque point for the legend.
func (cl *cloud) Thumbnail(c *draw.Canvas) {
	c.DrawGlyphNoClip(draw.GlyphStyle{Color: cl.color, Radius: max(cl.radius, 2.5), Shape: draw.CircleGlyph{}}, c.Center())
}

func (cl *cloud) Plot(c draw.Canvas, p *plot.Plot) {
	if cl.raster {
		cl.plotRaster(c, p)
		return
	}
	trX, trY := p.Transforms(&c)
	sty := draw.GlyphStyle{Color: withAlpha(cl.color, cl.alpha), Radius: cl.radius, Shape: draw.CircleGlyph{}}
	for _, pt := range cl.points {
		if inRange(p, pt[0], pt[1]) {
			c.DrawGlyphNoClip(sty, vg.Point{X: trX(pt[0]), Y: trY(pt[1])})
		}
	}
}

func inRange(p *plot.Plot, x, y float64) bool {
	return x >= p.X.Min && x <= p.X.Max && y >= p.Y.Min && y <= p.Y.Max
}

// plotRaster stamps anti-aliased discs into an image the size of the data
// area at the canvas resolution and draws it as a plotter.Image.
func (cl *cloud) plotRaster(c draw.Canvas, p *plot.Plot) {
	dpi := float64(rasterDPI)
	if d, ok := c.Canvas.(interface{ DPI() float64 }); ok {
		dpi = d.DPI()
	}
	size := c.Size()
	w := max(1, int(math.Round(size.X.Dots(dpi))))
	h := max(1, int(math.Round(size.Y.Dots(dpi))))
	r := cl.radius.Dots(dpi)
	col := color.NRGBAModel.Convert(cl.color).(color.NRGBA)
	src := [3]float32{float32(col.R) / 255, float32(col.G) / 255, float32(col.B) / 255}
	a0 := cl.alpha * float64(col.A) / 255

	// Premultiplied RGBA accumulation buffer, "over" compositing.
	buf := make([]float32, 4*w*h)
	sx := float64(w) / (p.X.Max - p.X.Min)
	sy := float64(h) / (p.Y.Max - p.Y.Min)
	for _, pt := range cl.points {
		if !inRange(p, pt[0], pt[1]) {
			continue
		}
		px := (pt[0] - p.X.Min) * sx
		py := (p.Y.Max - pt[1]) * sy // image rows grow downwards
		x0, x1 := max(0, int(px-r-1)), min(w-1, int(px+r+1))
		y0, y1 := max(0, int(py-r-1)), min(h-1, int(py+r+1))
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				d := math.Hypot(float64(x)+0.5-px, float64(y)+0.5-py)
				cov := math.Min(1, r+0.5-d)
				if cov <= 0 {
					continue
				}
				a := float32(a0 * cov)
				q := buf[4*(y*w+x):]
				for ch := range 3 {
					q[ch] = src[ch]*a + q[ch]*(1-a)
				}
				q[3] = a + q[3]*(1-a)
			}
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		for ch := range 4 {
			img.Pix[4*i+ch] = uint8(255*min(1, buf[4*i+ch]) + 0.5)
		}
	}
	plotter.NewImage(img, p.X.Min, p.Y.Min, p.X.Max, p.Y.Max).Plot(c, p)
}
