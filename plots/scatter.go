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
// density shows), [WithRadius] (default 2 points up to 300 points, 1.6 up
// to 1,500, 1.25 beyond) and [WithName] (legend entry, placed where no
// point lies, see [LegendAuto]). Past RasterThreshold points the cloud is
// rasterized.
//
// The plot has equal aspect ratio and axes labelled x and y. It panics if b
// is empty or a row of points has fewer than 2 values.
func Scatter(points [][]float64, b Bounds, opts ...Option) *plot.Plot {
	b.check("Scatter")
	cfg := newConfig(opts)
	p := newPlane(b)
	if _, err := addCloud(p, points, cfg); err != nil {
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
	_, err := addCloud(p, points, &config{color: c, name: name})
	return err
}

// addCloud adds the cloud points to p, drawn as cfg says, and returns it.
func addCloud(p *plot.Plot, points [][]float64, cfg *config) (*cloud, error) {
	for i, pt := range points {
		if len(pt) < 2 {
			return nil, fmt.Errorf("plots: point %d has %d coordinates, want 2", i, len(pt))
		}
	}
	cl := &cloud{points: points, color: cfg.color, radius: cfg.radius, raster: len(points) > RasterThreshold}
	if cl.color == nil {
		cl.color = Categorical(0)
	}
	n := len(points)
	if cl.radius <= 0 {
		switch {
		case n <= 300:
			cl.radius = vg.Points(2)
		case n <= 1500:
			cl.radius = vg.Points(1.6)
		default:
			cl.radius = vg.Points(1.25)
		}
	}
	switch {
	case cl.raster:
		cl.alpha = 0.45
	case n > 1000:
		cl.alpha = 0.6
	default:
		cl.alpha = 0.75
	}
	p.Add(cl)
	st := legendFor(p)
	st.clouds = append(st.clouds, cl)
	if cfg.name != "" {
		addLegend(p, cfg.name, cl)
	}
	return cl, nil
}

// cloud draws a point cloud, as vector circles or as one raster image.
// With classes set, point i takes the colour Categorical(classes[i])
// instead of color; points are drawn in order either way, so no class
// hides another wholesale.
type cloud struct {
	points  [][]float64
	color   color.Color
	classes []int
	alpha   float64
	radius  vg.Length
	raster  bool
}

// colorAt returns the colour of point i.
func (cl *cloud) colorAt(i int) color.Color {
	if cl.classes != nil {
		return Categorical(cl.classes[i])
	}
	return cl.color
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
	for i, pt := range cl.points {
		if inRange(p, pt[0], pt[1]) {
			if cl.classes != nil {
				sty.Color = withAlpha(cl.colorAt(i), cl.alpha)
			}
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
	rgba := func(i int) ([3]float32, float64) {
		col := color.NRGBAModel.Convert(cl.colorAt(i)).(color.NRGBA)
		return [3]float32{float32(col.R) / 255, float32(col.G) / 255, float32(col.B) / 255}, cl.alpha * float64(col.A) / 255
	}
	var src [3]float32
	var a0 float64
	if len(cl.points) > 0 {
		src, a0 = rgba(0)
	}

	// Premultiplied RGBA accumulation buffer, "over" compositing.
	buf := make([]float32, 4*w*h)
	sx := float64(w) / (p.X.Max - p.X.Min)
	sy := float64(h) / (p.Y.Max - p.Y.Min)
	for i, pt := range cl.points {
		if !inRange(p, pt[0], pt[1]) {
			continue
		}
		if cl.classes != nil {
			src, a0 = rgba(i)
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

// ScatterByClass draws a labelled point cloud over b: point i ([N][2] rows
// of points, data units) has class classes[i] ≥ 0 and the colour
// [Categorical](classes[i]), and the legend names each class present
// ("class k", or names from [WithClassNames]). Points are drawn in their
// order, semi-transparent, so overlapping classes stay visible. Options:
// [WithRadius], [WithClassNames]. Past [RasterThreshold] points the cloud is
// rasterized, as in [Scatter].
//
// The plot has equal aspect ratio and axes labelled x and y. It panics if b
// is empty, a row of points has fewer than 2 values, len(classes) differs
// from len(points) or a class is negative.
func ScatterByClass(points [][]float64, classes []int, b Bounds, opts ...Option) *plot.Plot {
	b.check("ScatterByClass")
	cfg := newConfig(opts)
	p := newPlane(b)
	if err := addClassCloud(p, points, classes, cfg.radius, cfg.names); err != nil {
		panic(err.Error())
	}
	p.Add(frame{})
	return p
}

// AddScatterByClass adds the labelled cloud of [ScatterByClass] to p (for
// example over a [LogDensity]): point i of points ([N][2], data units) in
// the colour [Categorical](classes[i]), with a legend entry per class
// present, named names[k] for class k ("class k" when names has no entry).
// It returns an error if a row has fewer than 2 values, the lengths differ
// or a class is negative.
func AddScatterByClass(p *plot.Plot, points [][]float64, classes []int, names ...string) error {
	return addClassCloud(p, points, classes, 0, names)
}

// addClassCloud adds a cloud coloured by class, with points of the given
// radius (0: the default).
func addClassCloud(p *plot.Plot, points [][]float64, classes []int, radius vg.Length, names []string) error {
	if len(classes) != len(points) {
		return fmt.Errorf("plots: %d classes for %d points", len(classes), len(points))
	}
	present := map[int]bool{}
	top := -1
	for i, k := range classes {
		if k < 0 {
			return fmt.Errorf("plots: point %d has class %d, want ≥ 0", i, k)
		}
		present[k] = true
		top = max(top, k)
	}
	cl, err := addCloud(p, points, &config{color: Categorical(0), radius: radius})
	if err != nil {
		return err
	}
	cl.classes = classes
	for k := 0; k <= top; k++ {
		if !present[k] {
			continue
		}
		name := fmt.Sprintf("class %d", k)
		if k < len(names) && names[k] != "" {
			name = names[k]
		}
		addLegend(p, name, &cloud{color: Categorical(k), radius: cl.radius})
	}
	return nil
}
