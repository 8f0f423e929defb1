package plots

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/scoresde/scoresde/lib/fileio"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ShowSVGLimit is the largest SVG, in bytes, that [Show] displays as SVG;
// larger figures are displayed as PNG.
const ShowSVGLimit = 256 << 10

// Save writes fig to <base>.png and <base>.svg (a trailing ".png" or ".svg"
// on base is dropped), creating missing parent directories, and returns the
// paths written. fig is a *plot.Plot, a *[Grid] or an image.Image.
//
// Plots and grids are drawn at width × height (vg units, points; zero means
// [DefaultWidth] or [DefaultHeight]); the PNG has [DPI] pixels per inch.
// An image.Image is written as PNG only, at its own pixel size (width and
// height are ignored), and only the .png path is returned.
//
// Each file is written to a temporary file in the same directory and then
// renamed, so a crash never leaves a half-written figure behind. Drawing
// briefly modifies the plot (as gonum's own rendering does), so one plot
// must not be saved or shown from two goroutines at once.
func Save(fig any, base string, width, height vg.Length) ([]string, error) {
	if err := checkFigure(fig); err != nil {
		return nil, err
	}
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".png"), ".svg")
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("plots: Save: %w", err)
	}
	if img, ok := fig.(image.Image); ok {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("plots: Save: encoding PNG: %w", err)
		}
		path := base + ".png"
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return nil, err
		}
		return []string{path}, nil
	}
	var written []string
	for _, format := range []string{"png", "svg"} {
		data, err := render(fig, format, width, height)
		if err != nil {
			return written, err
		}
		path := base + "." + format
		if err := writeFileAtomic(path, data); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// Show displays fig (a *plot.Plot, a *[Grid] or an image.Image) inline when
// the program runs inside a GoNB notebook, and does nothing otherwise. It
// sends the snippet of [HTML] as text/html: an <img> with the figure as a
// data URL, which survives the sanitizer of an untrusted notebook and scales
// down to the width of the output column. It returns an error only when the
// figure cannot be rendered (including an unsupported type).
func Show(fig any, width, height vg.Length) error {
	if !gonbui.IsNotebook {
		return nil
	}
	snippet, err := HTML(fig, width, height)
	if err != nil {
		return err
	}
	gonbui.DisplayHTML(snippet)
	return nil
}

// HTML returns fig (a *plot.Plot, a *[Grid] or an image.Image) as one HTML
// <img> element whose src is a data URL, for [Show] and for live displays
// that redraw a figure in place (gonbui.UpdateHTML):
//
//	<img src="data:image/svg+xml;base64,…" width="W" height="H" alt="…" style="max-width:100%;height:auto">
//
// Plots and grids are drawn at width × height (vg units, points; zero means
// the defaults) and embedded as SVG when that is at most [ShowSVGLimit]
// bytes, as PNG ([DPI] pixels per inch) otherwise; either way the width and
// height attributes give the nominal size in CSS pixels (96 per inch).
// Images are embedded as PNG, enlarged first by the integer nearest-neighbour
// factor of [DisplayScale] so that small ones (a row of 28-pixel digits) are
// legible; width and height are then ignored. The alt text is the plot's or
// grid's title (the first titled panel's for an untitled grid), or a
// generic description.
func HTML(fig any, width, height vg.Length) (string, error) {
	if err := checkFigure(fig); err != nil {
		return "", err
	}
	if img, ok := fig.(image.Image); ok {
		b := img.Bounds()
		k := DisplayScale(b.Dx())
		big := Enlarge(img, k)
		var buf bytes.Buffer
		if err := png.Encode(&buf, big); err != nil {
			return "", fmt.Errorf("plots: HTML: encoding PNG: %w", err)
		}
		return imgTag("image/png", buf.Bytes(), b.Dx()*k, b.Dy()*k,
			fmt.Sprintf("image of %d×%d pixels", b.Dx(), b.Dy())), nil
	}
	w, h := sizeOr(width, height)
	cssW := int(math.Round(w.Points() * 96 / 72))
	cssH := int(math.Round(h.Points() * 96 / 72))
	alt := figureTitle(fig)
	svg, err := render(fig, "svg", w, h)
	if err != nil {
		return "", err
	}
	if len(svg) <= ShowSVGLimit {
		return imgTag("image/svg+xml", svg, cssW, cssH, alt), nil
	}
	pngData, err := render(fig, "png", w, h)
	if err != nil {
		return "", err
	}
	return imgTag("image/png", pngData, cssW, cssH, alt), nil
}

// imgTag returns an <img> element showing data (of the given MIME type) at
// w × h CSS pixels, shrinking with the page.
func imgTag(mime string, data []byte, w, h int, alt string) string {
	return fmt.Sprintf(`<img src="data:%s;base64,%s" width="%d" height="%d" alt="%s" style="max-width:100%%;height:auto">`,
		mime, base64.StdEncoding.EncodeToString(data), w, h, html.EscapeString(alt))
}

// figureTitle returns the title of a plot or grid for alt texts.
func figureTitle(fig any) string {
	switch f := fig.(type) {
	case *plot.Plot:
		if f.Title.Text != "" {
			return f.Title.Text
		}
	case *Grid:
		if f.Title != "" {
			return f.Title
		}
		for _, p := range f.Panels {
			if p != nil && p.Title.Text != "" {
				return p.Title.Text
			}
		}
	}
	return "figure"
}

// DisplayWidth is the least width, in pixels, that [HTML] and [Show] give a
// small image by enlarging it.
const DisplayWidth = 600

// DisplayScale returns the integer factor k ≥ 1 by which [HTML] enlarges an
// image w pixels wide: the smallest that makes k·w at least [DisplayWidth]
// (1 for images already that wide). A grid of 28-pixel digits 12 columns
// wide (362 pixels) is shown twice as large, one 8-pixel colour image
// (12 pixels with padding) 50 times.
func DisplayScale(w int) int {
	if w <= 0 {
		return 1
	}
	return max(1, (DisplayWidth+w-1)/w)
}

// Enlarge returns img scaled up by the integer factor k (nearest neighbour,
// so pixels stay sharp squares), with its bounds starting at (0, 0); it
// returns img itself when k ≤ 1. Grey images stay *image.Gray; others
// become *image.RGBA.
func Enlarge(img image.Image, k int) image.Image {
	if k <= 1 {
		return img
	}
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx()*k, b.Dy()*k)
	if g, ok := img.(*image.Gray); ok {
		out := image.NewGray(r)
		for y := range r.Dy() {
			src := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y/k):]
			row := out.Pix[y*out.Stride : y*out.Stride+r.Dx()]
			for x := range row {
				row[x] = src[x/k]
			}
		}
		return out
	}
	out := image.NewRGBA(r)
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			for dy := range k {
				off := out.PixOffset(x*k, y*k+dy)
				for dx := range k {
					out.Pix[off+4*dx], out.Pix[off+4*dx+1], out.Pix[off+4*dx+2], out.Pix[off+4*dx+3] = c.R, c.G, c.B, c.A
				}
			}
		}
	}
	return out
}

// checkFigure returns an error unless fig is a figure Save and Show accept.
func checkFigure(fig any) error {
	switch f := fig.(type) {
	case *plot.Plot:
		if f == nil {
			return errors.New("plots: nil *plot.Plot")
		}
	case *Grid:
		if f == nil {
			return errors.New("plots: nil *plots.Grid")
		}
		_, _, err := f.layout()
		return err
	case image.Image:
		if f == nil {
			return errors.New("plots: nil image")
		}
	default:
		return fmt.Errorf("plots: unsupported figure type %T (want *plot.Plot, *plots.Grid or image.Image)", fig)
	}
	return nil
}

func sizeOr(width, height vg.Length) (vg.Length, vg.Length) {
	if width <= 0 {
		width = DefaultWidth
	}
	if height <= 0 {
		height = DefaultHeight
	}
	return width, height
}

// render draws a *plot.Plot or *Grid at width × height and encodes it as
// "png" or "svg". Panics raised while drawing are returned as errors.
func render(fig any, format string, width, height vg.Length) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: rendering %s: %v", format, r)
		}
	}()
	width, height = sizeOr(width, height)
	var (
		buf   bytes.Buffer
		dc    draw.Canvas
		write func() error
	)
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))
		dc = draw.New(c)
		write = func() error { _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); return err }
	case "svg":
		c := vgsvg.New(width, height)
		dc = draw.New(c)
		write = func() error { _, err := c.WriteTo(&buf); return err }
	default:
		return nil, fmt.Errorf("plots: unknown format %q", format)
	}
	switch f := fig.(type) {
	case *plot.Plot:
		drawPlot(f, dc)
	case *Grid:
		if err := f.draw(dc); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("plots: unsupported figure type %T", fig)
	}
	if err := write(); err != nil {
		return nil, fmt.Errorf("plots: encoding %s: %w", format, err)
	}
	if format == "svg" {
		return fixSVG(buf.Bytes()), nil
	}
	return buf.Bytes(), nil
}

// svgImage matches the opening of an <image> element written by vgsvg, up
// to its data URL's MIME type and the first base64 characters.
var svgImage = regexp.MustCompile(`<image ([^>]*?)xlink:href="data:image/[a-z+]+;base64,(iVBOR)?`)

// fixSVG repairs what gonum's SVG canvas writes:
//   - font families fall back to metric-compatible sans-serif fonts when
//     Liberation Sans is missing;
//   - embedded rasters (heat maps, colour bars, dense point clouds) are PNG
//     data labelled image/jpg, and lack preserveAspectRatio="none", so
//     browsers centre them in their box keeping the raster's own aspect
//     ratio and strict renderers drop them: the MIME type is corrected and
//     the raster stretched to its box, as the PNG canvas draws it.
func fixSVG(svg []byte) []byte {
	svg = bytes.ReplaceAll(svg, []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	return svgImage.ReplaceAllFunc(svg, func(m []byte) []byte {
		sub := svgImage.FindSubmatch(m)
		mime := "image/jpeg"
		if len(sub[2]) > 0 {
			mime = "image/png"
		}
		var out bytes.Buffer
		out.WriteString(`<image preserveAspectRatio="none" `)
		out.Write(sub[1])
		out.WriteString(`xlink:href="data:` + mime + `;base64,`)
		out.Write(sub[2])
		return out.Bytes()
	})
}

// writeFileAtomic writes data to path through fileio.WriteFile: a temporary
// file next to path renamed into place (a special file such as /dev/null is
// written in place, a symbolic link followed).
func writeFileAtomic(path string, data []byte) error {
	if err := fileio.WriteBytes(path, data); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
