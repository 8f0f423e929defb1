package figures

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
)

// ToUnit maps images from a model's data scale to pixel values in [0, 1]: (v + 1)/2 when the model
// is centered (data in [−1, 1]), unchanged otherwise. The rows are copied.
func ToUnit(pts [][]float64, centered bool) [][]float64 {
	out := make([][]float64, len(pts))
	for i, p := range pts {
		q := make([]float64, len(p))
		for j, v := range p {
			if centered {
				v = (v + 1) / 2
			}
			q[j] = v
		}
		out[i] = q
	}
	return out
}

// Images tiles images (rows of H·W·C values in the model's data scale, shape = [H, W, C],
// C = 1 or 3) into one picture with cols columns (0: a near-square grid), clamping to [0, 1].
func Images(pts [][]float64, shape []int, centered bool, cols int) (image.Image, error) {
	if len(shape) != 3 {
		return nil, fmt.Errorf("figures: image shape %v, want [H, W, C]", shape)
	}
	if cols <= 0 {
		for cols = 1; cols*cols < len(pts); cols++ {
		}
	}
	return plots.ImageGrid(ToUnit(pts, centered), shape[0], shape[1], shape[2], cols)
}

// Diffusion returns the forward SDE's perturbations of each image x0[i] at the given times,
// x_t = m(t)·x0 + s(t)·z with z ~ N(0, I) drawn from seed, as rows i·len(times) + j (one image per
// row of a grid with len(times) columns), in the data scale of x0.
func Diffusion(s sde.SDE, x0 [][]float64, times []float64, seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 0xd1ff))
	var out [][]float64
	for _, x := range x0 {
		z := make([]float64, len(x))
		for j := range z {
			z[j] = r.NormFloat64()
		}
		for _, t := range times {
			m, std := s.MeanCoeff(t), s.Std(t)
			row := make([]float64, len(x))
			for j, v := range x {
				row[j] = m*v + std*z[j]
			}
			out = append(out, row)
		}
	}
	return out
}

// Enlarge scales img up by the integer factor k (nearest neighbour), for small images on screen;
// it is [plots.Enlarge].
func Enlarge(img image.Image, k int) image.Image { return plots.Enlarge(img, k) }
