package plots

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"regexp"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// imgSnippet parses the snippet of HTML.
var imgSnippet = regexp.MustCompile(`^<img src="data:([a-z/+]+);base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)" alt="([^"]*)" style="max-width:100%;height:auto">$`)

func TestHTML(t *testing.T) {
	titled := Scatter(gaussianCloud(50, 1), Square(-3, 3))
	titled.Title.Text = `two <clusters> & "noise"`
	big := Scatter(gaussianCloud(RasterThreshold, 2), Square(-3, 3)) // vector circles: SVG over the limit
	grid := &Grid{Panels: []*plot.Plot{nil, titled}}
	digits := image.NewGray(image.Rect(0, 0, 30, 30))
	rgb := image.NewRGBA(image.Rect(0, 0, 362, 32))

	for _, c := range []struct {
		name       string
		fig        any
		w, h       vg.Length
		mime       string
		wantW      int
		wantH      int
		alt        string
		imageWidth int // pixel width of the embedded image (0: not checked)
	}{
		{"small plot as SVG", titled, 300, 240, "image/svg+xml", 400, 320, `two &lt;clusters&gt; &amp; &#34;noise&#34;`, 0},
		{"default size", titled, 0, 0, "image/svg+xml", 454, 378, `two &lt;clusters&gt; &amp; &#34;noise&#34;`, 0},
		{"large plot as PNG", big, 300, 240, "image/png", 400, 320, "figure", 625},
		{"grid takes a panel's title", grid, 600, 240, "image/svg+xml", 800, 320, `two &lt;clusters&gt; &amp; &#34;noise&#34;`, 0},
		{"small image enlarged", digits, 0, 0, "image/png", 600, 600, "image of 30×30 pixels", 600},
		{"digit row doubled", rgb, 10, 10, "image/png", 724, 64, "image of 362×32 pixels", 724},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := HTML(c.fig, c.w, c.h)
			if err != nil {
				t.Fatal(err)
			}
			m := imgSnippet.FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("HTML = %.200q…, not an <img> with a data URL", s)
			}
			if m[1] != c.mime || m[3] != fmt.Sprint(c.wantW) || m[4] != fmt.Sprint(c.wantH) || m[5] != c.alt {
				t.Errorf("got %s %s×%s alt %q, want %s %d×%d alt %q", m[1], m[3], m[4], m[5], c.mime, c.wantW, c.wantH, c.alt)
			}
			data, err := base64.StdEncoding.DecodeString(m[2])
			if err != nil {
				t.Fatal(err)
			}
			switch c.mime {
			case "image/svg+xml":
				if !bytes.Contains(data, []byte("<svg")) || len(data) > ShowSVGLimit {
					t.Errorf("embedded SVG: %d bytes, <svg> present: %v", len(data), bytes.Contains(data, []byte("<svg")))
				}
			case "image/png":
				img, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if c.imageWidth > 0 && img.Bounds().Dx() != c.imageWidth {
					t.Errorf("embedded PNG is %d pixels wide, want %d", img.Bounds().Dx(), c.imageWidth)
				}
			}
		})
	}
	if _, err := HTML(3.5, 0, 0); err == nil || !strings.Contains(err.Error(), "unsupported figure type") {
		t.Errorf("HTML(float64) error = %v, want unsupported figure type", err)
	}
}

func TestDisplayScaleAndEnlarge(t *testing.T) {
	for _, c := range []struct{ w, k int }{{0, 1}, {12, 50}, {30, 20}, {52, 12}, {242, 3}, {362, 2}, {482, 2}, {600, 1}, {2000, 1}} {
		t.Run(fmt.Sprint(c.w), func(t *testing.T) {
			if got := DisplayScale(c.w); got != c.k {
				t.Errorf("DisplayScale(%d) = %d, want %d", c.w, got, c.k)
			}
		})
	}
	g := image.NewGray(image.Rect(5, 5, 7, 6)) // 2×1, offset bounds
	g.SetGray(5, 5, color.Gray{Y: 10})
	g.SetGray(6, 5, color.Gray{Y: 200})
	rgb := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgb.Set(0, 0, color.NRGBA{R: 255, A: 255})
	rgb.Set(1, 0, color.NRGBA{B: 255, A: 255})
	for _, c := range []struct {
		name  string
		img   image.Image
		left  color.Color
		right color.Color
	}{
		{"grey", g, color.Gray{Y: 10}, color.Gray{Y: 200}},
		{"colour", rgb, color.RGBA{R: 255, A: 255}, color.RGBA{B: 255, A: 255}},
	} {
		t.Run(c.name, func(t *testing.T) {
			big := Enlarge(c.img, 3)
			if b := big.Bounds(); b != image.Rect(0, 0, 6, 3) {
				t.Fatalf("bounds %v, want 6×3 at the origin", b)
			}
			same := func(a, b color.Color) bool {
				r1, g1, b1, a1 := a.RGBA()
				r2, g2, b2, a2 := b.RGBA()
				return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
			}
			for y := range 3 {
				for x := range 6 {
					want := c.left
					if x >= 3 {
						want = c.right
					}
					if !same(big.At(x, y), want) {
						t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, big.At(x, y), want)
					}
				}
			}
			if Enlarge(c.img, 1) != c.img {
				t.Error("Enlarge by 1 did not return the image itself")
			}
		})
	}
}

// TestSVGRasters checks that every raster of an SVG is stretched to its box
// and labelled with its real type.
func TestSVGRasters(t *testing.T) {
	density := LogDensity(mixtureLogp, Square(-3, 3), 40)
	cloud := Scatter(gaussianCloud(RasterThreshold+1, 4), Square(-3, 3))
	for _, c := range []struct {
		name   string
		fig    any
		images int
	}{
		{"heat map and colour bar", density, 2},
		{"rasterized cloud", cloud, 1},
		{"grid", &Grid{Panels: []*plot.Plot{density, cloud}}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			svg, err := render(c.fig, "svg", DefaultWidth, DefaultHeight)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(svg, []byte("data:image/jpg;base64,iVBOR")) {
				t.Error("SVG labels PNG data as image/jpg")
			}
			tags := regexp.MustCompile(`<image [^>]*>`).FindAll(svg, -1)
			if len(tags) != c.images {
				t.Errorf("%d <image> elements, want %d", len(tags), c.images)
			}
			for _, tag := range tags {
				if !bytes.Contains(tag, []byte(`preserveAspectRatio="none"`)) || !bytes.Contains(tag, []byte(`data:image/png;base64,iVBOR`)) {
					t.Errorf("<image> without preserveAspectRatio=\"none\" or PNG type: %.120s", tag)
				}
			}
		})
	}
}

// TestDeterministic renders figures twice and compares the bytes: nothing
// drawn may depend on map iteration order or other run-to-run state.
func TestDeterministic(t *testing.T) {
	build := map[string]func() any{
		"log-density with contours": func() any { return LogDensity(mixtureLogp, Square(-3, 3), 60) },
		"vector field":              func() any { return VectorField(mixtureScore, Square(-3, 3), 15) },
		"grid": func() any {
			return &Grid{Panels: []*plot.Plot{LogDensity(mixtureLogp, Square(-3, 3), 50), Scatter(gaussianCloud(200, 1), Square(-3, 3))}}
		},
	}
	for _, name := range []string{"log-density with contours", "vector field", "grid"} {
		for _, format := range []string{"svg", "png"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				var first []byte
				for i := range 3 {
					data, err := render(build[name](), format, DefaultWidth, DefaultHeight)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = data
					} else if !bytes.Equal(data, first) {
						t.Fatalf("render %d differs from the first (%d and %d bytes)", i, len(data), len(first))
					}
				}
			})
		}
	}
}

func TestIsoLines(t *testing.T) {
	// r² = x² + y² on a 41×41 grid over [-2, 2]²: the level 1 is one closed
	// circle of radius 1; the level 9 (r = 3) crosses no cell.
	g := sampleCells(-2, 2, -2, 2, 41, 41, func(x, y float64) float64 { return x*x + y*y })
	for _, c := range []struct {
		name  string
		z     float64
		lines int
	}{
		{"circle", 1, 1},
		{"outside the grid", 9, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := isoLines(g, c.z)
			if len(lines) != c.lines {
				t.Fatalf("%d lines, want %d", len(lines), c.lines)
			}
			for _, l := range lines {
				if l[0] != l[len(l)-1] {
					t.Errorf("line of %d points is not closed: %v … %v", len(l), l[0], l[len(l)-1])
				}
				for _, q := range l {
					if r := math.Hypot(q[0], q[1]); math.Abs(r-1) > 0.01 {
						t.Fatalf("point %v at radius %.4f, want 1", q, r)
					}
				}
			}
		})
	}
	// A line that leaves the grid is open: the level x = 0.5 of f = x.
	open := isoLines(sampleCells(-1, 1, -1, 1, 10, 10, func(x, _ float64) float64 { return x }), 0.5)
	if len(open) != 1 || len(open[0]) != 10 {
		t.Fatalf("vertical line: %d lines (%v), want one of 10 points", len(open), open)
	}
	for _, q := range open[0] {
		if math.Abs(q[0]-0.5) > 1e-12 {
			t.Fatalf("point %v not on x = 0.5", q)
		}
	}
}
