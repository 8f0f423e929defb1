package guidance

import (
	"fmt"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
)

// colorMatrix is the references' colour transform M of get_pc_colorizer (REFERENCE.md §1.9, paper
// appendix I.3), copied digit for digit: orthonormal to float32 precision, its first column is
// (1, 1, 1)/√3, so the first decoupled channel of a pixel is its gray value times √3.
var colorMatrix = [3][3]float64{
	{5.7735014e-01, -8.1649649e-01, 4.7008697e-08},
	{5.7735026e-01, 4.0824834e-01, 7.0710671e-01},
	{5.7735026e-01, 4.0824822e-01, -7.0710683e-01},
}

// colorInverse is M⁻¹ (the references' torch.inverse(M)), computed in float64.
var colorInverse = inverse3(colorMatrix)

// inverse3 is the inverse of a 3×3 matrix by its adjugate.
func inverse3(m [3][3]float64) [3][3]float64 {
	var adj [3][3]float64
	for i := range 3 {
		for j := range 3 {
			r0, r1 := (j+1)%3, (j+2)%3
			c0, c1 := (i+1)%3, (i+2)%3
			adj[i][j] = m[r0][c0]*m[r1][c1] - m[r0][c1]*m[r1][c0]
		}
	}
	det := m[0][0]*adj[0][0] + m[0][1]*adj[1][0] + m[0][2]*adj[2][0]
	for i := range 3 {
		for j := range 3 {
			adj[i][j] /= det
		}
	}
	return adj
}

// ColorMatrix returns the colour transform M [3][3] (row i: input channel R, G, B; column j: decoupled
// channel j). A pixel's row vector x (R, G, B) decouples to y = x·M: y_0 = (R+G+B)/√3 is the gray
// channel and y_1, y_2 the two colour coordinates.
func ColorMatrix() [3][3]float64 { return colorMatrix }

// gray0 is the first decoupled coordinate of a pixel whose three channels equal 1: the references
// decouple the gray image repeated over the channels, so the known coordinate is gray·gray0 (≈ √3).
var gray0 = colorMatrix[0][0] + colorMatrix[1][0] + colorMatrix[2][0]

// mulPixels multiplies every pixel (consecutive triple) of the rows of x [n][H·W·3] by m on the
// right, on the host.
func mulPixels(x [][]float64, m [3][3]float64) ([][]float64, error) {
	out := make([][]float64, len(x))
	for i, row := range x {
		if len(row) == 0 || len(row)%3 != 0 {
			return nil, fmt.Errorf("image %d has %d values, not a whole number of RGB pixels", i, len(row))
		}
		o := make([]float64, len(row))
		for p := 0; p < len(row); p += 3 {
			for j := range 3 {
				o[p+j] = row[p]*m[0][j] + row[p+1]*m[1][j] + row[p+2]*m[2][j]
			}
		}
		out[i] = o
	}
	return out, nil
}

// Decouple maps channel-last colour images [n][H·W·3] to the decoupled space, y = x·M per pixel
// (the references' decouple); channel 0 of the result is the gray channel (√3 × the channel mean).
func Decouple(images [][]float64) ([][]float64, error) { return mulPixels(images, colorMatrix) }

// Couple is the inverse of Decouple, x = y·M⁻¹ per pixel, on [n][H·W·3] rows.
func Couple(decoupled [][]float64) ([][]float64, error) { return mulPixels(decoupled, colorInverse) }

// ToGray returns the gray images [n][H·W] of channel-last colour images [n][H·W·3], each pixel the
// mean of its three channels (the references' gray image), in the images' own scale.
func ToGray(images [][]float64, h, w int) ([][]float64, error) {
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("gray: image size %d×%d, want ≥ 1×1", h, w)
	}
	out := make([][]float64, len(images))
	for i, row := range images {
		if len(row) != h*w*3 {
			return nil, fmt.Errorf("gray: image %d has %d values, want %d×%d×3 = %d", i, len(row), h, w, h*w*3)
		}
		g := make([]float64, h*w)
		for p := range g {
			g[p] = (row[3*p] + row[3*p+1] + row[3*p+2]) / 3
		}
		out[i] = g
	}
	return out, nil
}

// pixelTransform multiplies every pixel of x [n, H·W·3] by the 3×3 matrix m on the right, in the graph.
func pixelTransform(x *Node, m [3][3]float64) *Node {
	dims := x.Shape().Dimensions
	flat := make([]float64, 0, 9)
	for _, r := range m {
		flat = append(flat, r[:]...)
	}
	c := ConvertDType(Const(x.Graph(), tensors.FromFlatDataAndDimensions(flat, 3, 3)), x.DType())
	return Reshape(MatMul(Reshape(x, x.Shape().Size()/3, 3), c), dims...)
}

// transpose3 is the transpose of a 3×3 matrix.
func transpose3(m [3][3]float64) [3][3]float64 {
	var t [3][3]float64
	for i := range 3 {
		for j := range 3 {
			t[i][j] = m[j][i]
		}
	}
	return t
}

// DecoupledScore is the score of the decoupled images y = x·M given the score of the colour images
// x [n, H·W·3]: s_y(y, t) = s_x(y·M⁻¹, t)·M⁻ᵀ (equal to s_x(y·Mᵀ)·M since M is orthogonal). The
// forward SDEs act on every coordinate alike, so the decoupled images diffuse under the same SDE.
func DecoupledScore(score sde.ScoreFn) sde.ScoreFn {
	back := transpose3(colorInverse)
	return func(y, t *Node) *Node {
		return pixelTransform(score(pixelTransform(y, colorInverse), t), back)
	}
}

// Colorize samples colour images given their gray images, as the references' get_pc_colorizer
// (paper appendix I): it decouples the images with the orthogonal ColorMatrix, imputes the two
// colour channels given the gray channel with Inpaint (the same PC updates, the forward-sampled
// known channel and the noise-free output chosen by o.ReferenceMeanBug), and couples the result back.
//
// score is the score of the colour images (flat [n, H·W·3] channel-last rows); gray is [n][H·W] in
// the model's data scale (ToGray of a colour image). The result's Samples are [n, H·W·3] colour
// images channel-last whose channel means equal gray (up to the float32 rounding of the reference
// matrix, ~1e-7 of the pixel values).
func Colorize(b compute.Backend, s sde.SDE, score sde.ScoreFn, gray [][]float64, h, w int, o InpaintOptions, run sampling.Run) (*sampling.Result, error) {
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("colorize: image size %d×%d, want ≥ 1×1", h, w)
	}
	if len(gray) == 0 {
		return nil, fmt.Errorf("colorize: no gray images")
	}
	data := make([][]float64, len(gray))
	mask := make([][]float64, len(gray))
	for i, g := range gray {
		if len(g) != h*w {
			return nil, fmt.Errorf("colorize: gray image %d has %d values, want %d×%d = %d", i, len(g), h, w, h*w)
		}
		d, m := make([]float64, 3*h*w), make([]float64, 3*h*w)
		for p, v := range g {
			d[3*p], m[3*p] = v*gray0, 1
		}
		data[i], mask[i] = d, m
	}
	res, err := Inpaint(b, s, DecoupledScore(score), data, mask, o, run)
	if err != nil {
		return nil, fmt.Errorf("colorize: %w", err)
	}
	start := time.Now()
	res.Samples, err = ExecOnce(b, func(y *Node) *Node { return pixelTransform(y, colorInverse) }, res.Samples)
	if err != nil {
		return nil, fmt.Errorf("colorize: coupling the channels back: %w", err)
	}
	res.Elapsed += time.Since(start)
	return res, nil
}
