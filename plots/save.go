package plots

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
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
// the program runs inside a GoNB notebook, and does nothing otherwise. Plots
// and grids are drawn at width × height (vg units, points; zero means the
// defaults) and sent as SVG when it is at most [ShowSVGLimit] bytes, as a
// PNG ([DPI] pixels per inch, displayed at the nominal size) otherwise;
// images are sent as PNG at their pixel size. It returns an error only when
// the figure cannot be rendered (including an unsupported type).
func Show(fig any, width, height vg.Length) error {
	if !gonbui.IsNotebook {
		return nil
	}
	if err := checkFigure(fig); err != nil {
		return err
	}
	if img, ok := fig.(image.Image); ok {
		return gonbui.DisplayImage(img)
	}
	svg, err := render(fig, "svg", width, height)
	if err != nil {
		return err
	}
	if len(svg) <= ShowSVGLimit {
		gonbui.DisplaySVG(string(svg))
		return nil
	}
	pngData, err := render(fig, "png", width, height)
	if err != nil {
		return err
	}
	w, _ := sizeOr(width, height)
	gonbui.DisplayHTML(fmt.Sprintf(`<img src="data:image/png;base64,%s" style="width:%.0fpx"/>`,
		base64.StdEncoding.EncodeToString(pngData), w.Points()*96/72))
	return nil
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
		// Let viewers without Liberation fonts fall back to a metric-compatible
		// sans-serif font.
		return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
	}
	return buf.Bytes(), nil
}

// writeFileAtomic writes data to a temporary file next to path, then renames
// it to path.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("plots: writing %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
