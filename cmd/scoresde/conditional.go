package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gomlx/compute"
	imgdata "github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/guidance"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/toy"
)

// sourceImages returns the n images that --inpaint-mask and --colorize start from, in the model's
// data scale: "test" (the test split of an image model's data set, the first n), "data" (samples of
// the --data mixture), or an (n, d) .npy file.
func sourceImages(md *model, src, dataDir string, n int, seed int64, stderr io.Writer) ([][]float64, error) {
	switch {
	case src == "test":
		if !isImageSet(md.dataName) {
			return nil, usagef("--images test needs a model trained on %s; use --images data or a .npy file", strings.Join(imageSets, " or "))
		}
		imgs, err := loadImages(md.dataName, dataDir, "test", stderr)
		if err != nil {
			return nil, fmt.Errorf("--images test: %w", err)
		}
		set, err := imgdata.NewSet(imgs, md.centered)
		if err != nil {
			return nil, err
		}
		if n > imgs.Len() {
			return nil, usagef("--n=%d, but the test set has %d images", n, imgs.Len())
		}
		return set.Rows(0, n), nil
	case src == "data":
		if md.mixture == nil {
			return nil, usagef("--images data needs a toy mixture (--data); use --images test or a .npy file")
		}
		return md.mixture.Sample(toy.NewRand(uint64(seed)+17), n), nil
	case strings.HasSuffix(strings.ToLower(src), ".npy"):
		pts, err := npy.ReadPoints(src)
		if err != nil {
			return nil, fmt.Errorf("--images: %w", err)
		}
		if len(pts) > n {
			pts = pts[:n]
		}
		return pts, nil
	}
	return nil, usagef("--images %q: use test, data or an (n, d) .npy file", src)
}

// conditionalSample runs --inpaint-mask or --colorize: it returns the samples and the rows of a
// picture (for each image: the original, the condition, the sample).
func conditionalSample(b compute.Backend, md *model, src [][]float64, maskSpec string, colorize bool, o guidance.InpaintOptions, run sampling.Run) (*sampling.Result, [][]float64, error) {
	if md.image == nil {
		return nil, nil, usagef("--inpaint-mask and --colorize need an image model (a checkpoint trained on %s, or --data colorblocks)", strings.Join(imageSets, "/"))
	}
	h, w, c := md.image[0], md.image[1], md.image[2]
	low := 0.0 // the darkest value of the data scale, drawn for unknown pixels
	if md.centered {
		low = -1
	}
	if colorize {
		if c != 3 {
			return nil, nil, usagef("--colorize needs a colour model (3 channels); this one has %d", c)
		}
		var gray [][]float64
		switch len(src[0]) {
		case h * w * 3:
			var err error
			if gray, err = guidance.ToGray(src, h, w); err != nil {
				return nil, nil, err
			}
		case h * w:
			gray, src = src, nil
		default:
			return nil, nil, usagef("--images: %d values per image, want %d (colour) or %d (gray) for %d×%d images", len(src[0]), h*w*3, h*w, h, w)
		}
		res, err := guidance.Colorize(b, md.sde, md.score, gray, h, w, o, run)
		if err != nil {
			return nil, nil, err
		}
		var rows [][]float64
		for i, g := range gray {
			rgb := make([]float64, 3*len(g))
			for p, v := range g {
				rgb[3*p], rgb[3*p+1], rgb[3*p+2] = v, v, v
			}
			if src != nil {
				rows = append(rows, src[i])
			} else {
				rows = append(rows, rgb)
			}
			rows = append(rows, rgb, res.Points()[i])
		}
		return res, rows, nil
	}
	if len(src[0]) != md.dim {
		return nil, nil, usagef("--images: %d values per image, want %d (%d×%d×%d)", len(src[0]), md.dim, h, w, c)
	}
	var mask []float64
	var err error
	if strings.HasSuffix(strings.ToLower(maskSpec), ".png") {
		mask, err = guidance.MaskFromPNG(maskSpec, h, w, c)
	} else {
		mask, err = guidance.MaskFromName(maskSpec, h, w, c)
	}
	if err != nil {
		return nil, nil, usageError{"--inpaint-mask: " + err.Error() + " (names: " + strings.Join(guidance.MaskNames(), ", ") + ", or a PNG file)"}
	}
	masks := make([][]float64, len(src))
	for i := range masks {
		masks[i] = mask
	}
	res, err := guidance.Inpaint(b, md.sde, md.score, src, masks, o, run)
	if err != nil {
		return nil, nil, err
	}
	var rows [][]float64
	for i, x := range src {
		shown := make([]float64, len(x))
		for j := range x {
			shown[j] = mask[j]*x[j] + (1-mask[j])*low
		}
		rows = append(rows, x, shown, res.Points()[i])
	}
	return res, rows, nil
}
