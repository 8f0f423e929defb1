package guidance

import (
	"fmt"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// MaskNames lists the names MaskFromName accepts (parameterized ones with their default form).
func MaskNames() []string {
	return []string{"left", "right", "top", "bottom", "center", "checkerboard", "checkerboard:N", "random:P", "random:P:SEED"}
}

// MaskFromName returns an inpainting mask for a channel-last h×w×c image as one flat row of h·w·c
// values, 1 where the pixel is known and 0 where it is to be sampled (all channels of a pixel
// alike); repeat it for each image to inpaint. Names:
//
//   - "left", "right", "top", "bottom": that half of the image is known (the left half is columns
//     x < w/2, the right half the others; likewise for rows);
//   - "center": everything is known but a centred box of half the height and half the width;
//   - "checkerboard": alternating known and unknown square blocks, the top-left one known, of side
//     max(1, min(h, w)/4) pixels (8 for 32×32 images); "checkerboard:N" sets the side to N;
//   - "random:P": each pixel is known with probability P (0 ≤ P ≤ 1), drawn from seed 0;
//     "random:P:SEED" uses another seed.
func MaskFromName(name string, h, w, c int) ([]float64, error) {
	if h < 1 || w < 1 || c < 1 {
		return nil, fmt.Errorf("mask %q: image %d×%d×%d, want every size ≥ 1", name, h, w, c)
	}
	known := make([]bool, h*w)
	set := func(f func(y, x int) bool) {
		for y := range h {
			for x := range w {
				known[y*w+x] = f(y, x)
			}
		}
	}
	head, arg, hasArg := strings.Cut(name, ":")
	if hasArg && head != "checkerboard" && head != "random" {
		return nil, fmt.Errorf("mask %q takes no parameter: want one of %s", name, strings.Join(MaskNames(), ", "))
	}
	switch head {
	case "left":
		set(func(_, x int) bool { return x < w/2 })
	case "right":
		set(func(_, x int) bool { return x >= w/2 })
	case "top":
		set(func(y, _ int) bool { return y < h/2 })
	case "bottom":
		set(func(y, _ int) bool { return y >= h/2 })
	case "center":
		y0, x0, bh, bw := h/4, w/4, h/2, w/2
		set(func(y, x int) bool { return y < y0 || y >= y0+bh || x < x0 || x >= x0+bw })
	case "checkerboard":
		side := max(1, min(h, w)/4)
		if hasArg {
			v, err := strconv.Atoi(arg)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("mask %q: the block side must be a whole number of pixels ≥ 1", name)
			}
			side = v
		}
		set(func(y, x int) bool { return (y/side+x/side)%2 == 0 })
	case "random":
		if !hasArg {
			return nil, fmt.Errorf("mask %q: give the known fraction, e.g. random:0.5 (or random:0.5:SEED)", name)
		}
		ps, ss, hasSeed := strings.Cut(arg, ":")
		p, err := strconv.ParseFloat(ps, 64)
		if err != nil || !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("mask %q: the known fraction must be a number from 0 to 1", name)
		}
		var seed uint64
		if hasSeed {
			if seed, err = strconv.ParseUint(ss, 10, 64); err != nil {
				return nil, fmt.Errorf("mask %q: the seed must be a whole number ≥ 0", name)
			}
		}
		r := rand.New(rand.NewPCG(seed, 0x6d61736b))
		for i := range known {
			known[i] = r.Float64() < p
		}
	default:
		return nil, fmt.Errorf("unknown mask %q: want one of %s, or a PNG file", name, strings.Join(MaskNames(), ", "))
	}
	return expandMask(known, c), nil
}

// expandMask repeats each pixel's 0/1 value over c channels.
func expandMask(known []bool, c int) []float64 {
	out := make([]float64, len(known)*c)
	for i, k := range known {
		if k {
			for j := range c {
				out[i*c+j] = 1
			}
		}
	}
	return out
}

// MaskFromPNG reads an inpainting mask from a grayscale PNG file of h×w pixels: white (a gray level
// of at least half) marks known pixels and black unknown ones. The result is one flat row of h·w·c
// values in {0, 1}, channel-last, as MaskFromName's. A colour PNG is accepted only when every pixel
// is gray (equal red, green and blue); transparency is ignored.
func MaskFromPNG(path string, h, w, c int) ([]float64, error) {
	if h < 1 || w < 1 || c < 1 {
		return nil, fmt.Errorf("mask %s: image %d×%d×%d, want every size ≥ 1", path, h, w, c)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("mask %s is not a readable PNG image: %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		return nil, fmt.Errorf("mask %s is %d×%d pixels (width×height), but the images are %d×%d: draw the mask at the image size", path, b.Dx(), b.Dy(), w, h)
	}
	known := make([]bool, h*w)
	for y := range h {
		for x := range w {
			px := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			if px.R != px.G || px.G != px.B {
				return nil, fmt.Errorf("mask %s has a coloured pixel at x=%d, y=%d: use a grayscale PNG (white = known, black = unknown)", path, x, y)
			}
			level := px.R
			known[y*w+x] = level >= 0x8000
		}
	}
	return expandMask(known, c), nil
}
