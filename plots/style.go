package plots

import (
	"fmt"
	"image/color"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"weak"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Default figure sizes, in vg units (points). DefaultWidth × DefaultHeight
// suits a single 2-D panel with a colour bar; WideWidth × WideHeight suits
// [Figure1] and line plots over time.
const (
	DefaultWidth  = 12 * vg.Centimeter
	DefaultHeight = 10 * vg.Centimeter
	WideWidth     = 16 * vg.Centimeter
	WideHeight    = 8 * vg.Centimeter
)

// DPI is the resolution, in pixels per inch, of the PNG files written by
// [Save] and displayed by [Show]: a figure of width w (in vg units, points)
// becomes round(w/72*DPI) pixels wide.
const DPI = 150

// Bounds is a rectangle of the plane in data units: x in [XMin, XMax] and
// y in [YMin, YMax].
type Bounds struct{ XMin, XMax, YMin, YMax float64 }

// Square returns the bounds [lo, hi] × [lo, hi].
func Square(lo, hi float64) Bounds { return Bounds{lo, hi, lo, hi} }

// BoundsOf returns the smallest bounds holding every finite point of points
// ([N][2]), enlarged on each side by margin times the extent along that axis.
// It returns [-1, 1]² when there is no finite point.
func BoundsOf(points [][]float64, margin float64) Bounds {
	b := Bounds{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, p := range points {
		if len(p) < 2 || !finite(p[0]) || !finite(p[1]) {
			continue
		}
		b.XMin, b.XMax = min(b.XMin, p[0]), max(b.XMax, p[0])
		b.YMin, b.YMax = min(b.YMin, p[1]), max(b.YMax, p[1])
	}
	if b.XMin > b.XMax {
		return Square(-1, 1)
	}
	grow := func(lo, hi float64) (float64, float64) {
		d := (hi - lo) * margin
		if hi == lo {
			d = math.Max(1, math.Abs(lo)) * math.Max(margin, 0.05)
		}
		return lo - d, hi + d
	}
	b.XMin, b.XMax = grow(b.XMin, b.XMax)
	b.YMin, b.YMax = grow(b.YMin, b.YMax)
	return b
}

// check panics unless b is a non-empty finite rectangle.
func (b Bounds) check(fn string) {
	if !(b.XMin < b.XMax && b.YMin < b.YMax) || !finite(b.XMin) || !finite(b.XMax) || !finite(b.YMin) || !finite(b.YMax) {
		panic(fmt.Sprintf("plots: %s: empty or non-finite bounds %+v", fn, b))
	}
}

// apply sets the axis ranges of p to b.
func (b Bounds) apply(p *plot.Plot) {
	p.X.Min, p.X.Max = b.XMin, b.XMax
	p.Y.Min, p.Y.Max = b.YMin, b.YMax
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Option adjusts a builder. Each builder documents the options it reads and
// ignores the others.
type Option func(*config)

type config struct {
	color         color.Color
	name          string
	radius        vg.Length
	colorBarLabel string
	levels        int
	columnNorm    bool
	hasRange      bool
	rangeLo       float64
	rangeHi       float64
	logColor      bool
	proportional  bool
	background    func(x, y float64) float64
	markers       [][]float64
	names         []string
	grey          bool
}

func newConfig(opts []Option) *config {
	cfg := &config{levels: -1, columnNorm: true}
	for _, o := range opts {
		o(cfg)
	}
	return cfg
}

// bar returns the colour bar for data in [lo, hi]: cfg's range when set
// ([WithRange]), on a log scale when asked for ([WithLogColor]).
func (cfg *config) bar(lo, hi float64, label string, col func(float64) color.Color, log bool) *colorBar {
	if cfg.hasRange {
		lo, hi = cfg.rangeLo, cfg.rangeHi
	}
	if log {
		return newLogColorBar(lo, hi, label, col)
	}
	return newColorBar(lo, hi, label, col)
}

// WithColor sets the colour of scatter points ([Scatter]) or of the paths
// of [TimeDensity].
func WithColor(c color.Color) Option { return func(cfg *config) { cfg.color = c } }

// WithName sets the legend name of a point cloud ([Scatter]).
func WithName(name string) Option { return func(cfg *config) { cfg.name = name } }

// WithRadius sets the radius of scatter points, in vg units ([Scatter],
// [ScatterByClass]).
func WithRadius(r vg.Length) Option { return func(cfg *config) { cfg.radius = r } }

// WithColorBarLabel sets the label of the colour bar ([VectorField],
// [LogDensity], [Trajectories], [TimeDensity], [Figure1]).
func WithColorBarLabel(label string) Option {
	return func(cfg *config) { cfg.colorBarLabel = label }
}

// WithRange fixes the range of the colour bar to [lo, hi] instead of the
// range of the data ([VectorField], [LogDensity], [Trajectories],
// [TimeDensity], [Figure1]); values outside take the end colours. Give
// every panel of a comparison the same range, or call [ShareColorScale] on
// the built panels.
func WithRange(lo, hi float64) Option {
	return func(cfg *config) { cfg.hasRange, cfg.rangeLo, cfg.rangeHi = true, lo, hi }
}

// WithLogColor chooses a logarithmic colour scale for the magnitudes of a
// [VectorField] (default off): the bar is labelled at powers of ten and
// spans at most three decades below the largest magnitude, so both the
// strong far field and the weak field near the modes stay distinguishable.
func WithLogColor(on bool) Option { return func(cfg *config) { cfg.logColor = on } }

// WithProportionalArrows makes the arrows of a [VectorField] as long as the
// vectors (one common scale, the longest spanning 90% of a cell) instead of
// all of one length (default off).
func WithProportionalArrows(on bool) Option { return func(cfg *config) { cfg.proportional = on } }

// WithDensity draws logp faintly in grey under a [VectorField] (darker is
// more probable, over the 12 nats below its largest value on the grid), so
// the arrows can be read against where the data lies.
func WithDensity(logp func(x, y float64) float64) Option {
	return func(cfg *config) { cfg.background = logp }
}

// WithMarkers marks the points ([N][2], data units; e.g. a mixture's means)
// with a cross on a [VectorField] or [LogDensity].
func WithMarkers(points [][]float64) Option { return func(cfg *config) { cfg.markers = points } }

// WithClassNames names the classes of [ScatterByClass] in its legend (class
// k is names[k]; missing names read "class k").
func WithClassNames(names ...string) Option { return func(cfg *config) { cfg.names = names } }

// WithGrey draws a [LogDensity] in light greys with grey contours and no
// colour bar: a quiet backdrop for coloured points ([AddScatter],
// [AddScatterByClass]).
func WithGrey(on bool) Option { return func(cfg *config) { cfg.grey = on } }

// WithLevels sets the number of contour lines of [LogDensity] (0 draws none).
func WithLevels(k int) Option { return func(cfg *config) { cfg.levels = k } }

// WithColumnNormalization chooses whether [TimeDensity] and [Figure1]
// divide each time column of the density by its maximum (the default,
// true), so the shape of p_t stays visible while it spreads out, or show
// p_t(x) as is (false).
func WithColumnNormalization(on bool) Option {
	return func(cfg *config) { cfg.columnNorm = on }
}

// Fonts: Liberation Sans at sizes legible on a 12 cm wide figure.
var (
	sans          = font.Font{Typeface: "Liberation", Variant: "Sans"}
	titleFont     = font.From(sans, 12)
	labelFont     = font.From(sans, 10)
	tickFont      = font.From(sans, 8.5)
	legendFont    = font.From(sans, 9)
	gridTitleFont = font.From(sans, 13)
	frameColor    = color.Gray{Y: 0x40}
	gridLineColor = color.Gray{Y: 0xe4}
)

// newPlot returns a plot with the package's fonts and a legend at the
// top-left corner of the data area.
func newPlot() *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Font = titleFont
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = labelFont
		a.Tick.Label.Font = tickFont
		a.Tick.Length = vg.Points(4)
		a.Tick.Marker = niceTicks{}
		a.LineStyle.Color = frameColor
		a.Tick.LineStyle.Color = frameColor
		a.LineStyle.Width = vg.Points(0.6)
		a.Tick.LineStyle.Width = vg.Points(0.6)
	}
	p.Legend.TextStyle.Font = legendFont
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(6)
	p.Legend.YOffs = -vg.Points(4)
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Legend.Padding = vg.Points(2)
	return p
}

// newPlane returns a plot of the plane over b: tight axes labelled x and y,
// a frame around the data area and equal aspect ratio.
func newPlane(b Bounds) *plot.Plot {
	p := newPlot()
	b.apply(p)
	p.X.Label.Text, p.Y.Label.Text = "x", "y"
	tight(p)
	SetEqualAspect(p, true)
	return p
}

// tight makes the axes touch the data area and leaves their lines to the
// frame plotter.
func tight(p *plot.Plot) {
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.LineStyle.Width, p.Y.LineStyle.Width = 0, 0
}

// frame draws the outline of the data area, above everything added before it.
type frame struct{}

func (frame) Plot(c draw.Canvas, _ *plot.Plot) {
	c.SetLineStyle(draw.LineStyle{Color: frameColor, Width: vg.Points(0.6)})
	c.Stroke(c.Rectangle.Path())
}

// plotState attaches a value to plots without keeping them alive: keys are
// weak pointers, removed once their plot is garbage collected. V must not
// refer to the plot itself.
type plotState[V any] struct{ m sync.Map } // weak.Pointer[plot.Plot] → V

func (s *plotState[V]) get(p *plot.Plot) (V, bool) {
	v, ok := s.m.Load(weak.Make(p))
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (s *plotState[V]) set(p *plot.Plot, v V) {
	k := weak.Make(p)
	if _, loaded := s.m.Swap(k, v); !loaded {
		runtime.AddCleanup(p, func(k weak.Pointer[plot.Plot]) { s.m.Delete(k) }, k)
	}
}

func (s *plotState[V]) del(p *plot.Plot) { s.m.Delete(weak.Make(p)) }

// equalAspect records the plots drawn with equal aspect ratio.
var equalAspect plotState[struct{}]

// SetEqualAspect chooses whether p is drawn with equal aspect ratio (one data
// unit has the same length along x and y) by [Save], [Show] and [Grid]: the
// data area is shrunk, horizontally or vertically, and centred. The 2-D
// builders turn it on; p.Save and other gonum renderers ignore it.
func SetEqualAspect(p *plot.Plot, on bool) {
	if !on {
		equalAspect.del(p)
		return
	}
	equalAspect.set(p, struct{}{})
}

// EqualAspect reports whether p is drawn with equal aspect ratio
// (see [SetEqualAspect]).
func EqualAspect(p *plot.Plot) bool {
	_, ok := equalAspect.get(p)
	return ok
}

// Viridis returns the colour at t ∈ [0, 1] of a viridis-like perceptually
// uniform palette (dark purple at 0, green at 0.6, yellow at 1); t is clamped.
func Viridis(t float64) color.Color { return viridis.at(t) }

// Categorical returns the i-th colour (i ≥ 0, cycling after 10) of a palette
// of distinct colours for curves and point clouds.
func Categorical(i int) color.Color {
	return categorical[((i%len(categorical))+len(categorical))%len(categorical)]
}

var categorical = []color.Color{
	rgb(0x1f77b4), rgb(0xff7f0e), rgb(0x2ca02c), rgb(0xd62728), rgb(0x9467bd),
	rgb(0x8c564b), rgb(0xe377c2), rgb(0x7f7f7f), rgb(0xbcbd22), rgb(0x17becf),
}

func rgb(hex uint32) color.RGBA {
	return color.RGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

// withAlpha returns c with opacity a ∈ [0, 1].
func withAlpha(c color.Color, a float64) color.NRGBA {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(math.Round(float64(n.A) * a))
	return n
}

// ramp is a palette given by evenly spaced control colours, interpolated
// linearly in RGB.
type ramp []color.RGBA

var (
	// viridis samples matplotlib's viridis at t = 0, 0.1, …, 1.
	viridis = ramp{
		rgb(0x440154), rgb(0x482475), rgb(0x414487), rgb(0x355f8d), rgb(0x2a788e),
		rgb(0x21918c), rgb(0x22a884), rgb(0x44bf70), rgb(0x7ad151), rgb(0xbddf26),
		rgb(0xfde725),
	}
	// mist goes from white to a blue-grey, a light background for
	// trajectories drawn in saturated colours.
	mist = ramp{rgb(0xffffff), rgb(0xe2e7ef), rgb(0xbfc9da), rgb(0x9aaac4), rgb(0x768bad)}
	// fog goes from white to a light grey, a faint density under arrows.
	fog = ramp{rgb(0xffffff), rgb(0xb9bec7)}
	// ember samples matplotlib's inferno at t = 0.05, 0.125, …, 0.8: from
	// near-black purple through red to orange, every colour dark enough to
	// read as a thin line on white or light grey.
	ember = ramp{
		rgb(0x0a0722), rgb(0x240c4f), rgb(0x420a68), rgb(0x5f136e), rgb(0x7e1e6c),
		rgb(0x9b2964), rgb(0xbc3754), rgb(0xd44842), rgb(0xe9612e), rgb(0xf67e14),
		rgb(0xfca50a),
	}
)

func (r ramp) at(t float64) color.Color {
	if math.IsNaN(t) {
		return color.Transparent
	}
	t = math.Min(1, math.Max(0, t)) * float64(len(r)-1)
	i := min(int(t), len(r)-2)
	f := t - float64(i)
	a, b := r[i], r[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-f) + float64(y)*f)) }
	return color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 0xff}
}

// Colors returns 256 samples of r; it implements palette.Palette.
func (r ramp) Colors() []color.Color {
	cs := make([]color.Color, 256)
	for i := range cs {
		cs[i] = r.at(float64(i) / 255)
	}
	return cs
}

// niceStep returns the step between labelled ticks of niceTicks over a
// range of the given width: 1, 2 or 5 times a power of ten, about a sixth
// of it.
func niceStep(width float64) float64 {
	raw := width / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw*0.75 {
			return m * mag
		}
	}
	return 10 * mag
}

// niceTicks places about six labelled ticks at multiples of 1, 2 or 5 times
// a power of ten, with a minor tick halfway between labelled ones.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo < hi) || !finite(hi-lo) {
		return (plot.DefaultTicks{}).Ticks(lo, hi)
	}
	step := niceStep(hi - lo)
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	format := func(v float64) string {
		if a := math.Abs(v); a >= 1e6 || (a > 0 && step < 1e-4) {
			return strconv.FormatFloat(v, 'g', 3, 64)
		}
		s := strconv.FormatFloat(v, 'f', decimals, 64)
		if strings.Trim(s, "-0.") == "" {
			s = "0"
		}
		return s
	}
	var ts []plot.Tick
	half := step / 2
	for k := math.Ceil(lo/half - 1e-9); ; k++ {
		v := k * half
		if v > hi+1e-9*half {
			break
		}
		t := plot.Tick{Value: v}
		if int64(k)%2 == 0 {
			t.Label = format(v)
		}
		ts = append(ts, t)
	}
	return ts
}
