// Package data loads the image datasets used to train score-based models
// (MNIST from IDX files, CIFAR-10 from its binary batches), converts them to
// float32 batches, and fetches and unpacks the official archives with
// checksum verification.
//
// Images are stored channel-last: pixel (n, y, x, ch) of a set with height H,
// width W and C channels is Pixels[((n*H+y)*W+x)*C+ch].
package data

import (
	"fmt"
	"math/rand/v2"
)

// Images holds N images of H×W×C uint8 pixels and their class labels.
type Images struct {
	// Pixels holds the images flat, channel-last: shape [N, H, W, C], len N·H·W·C.
	Pixels []uint8
	// Labels holds one class index per image (len N); 0..9 for MNIST and CIFAR-10.
	Labels []int
	// H, W and C are the height, width and number of channels of every image.
	H, W, C int
}

// Len returns N, the number of images.
func (m *Images) Len() int {
	if m == nil || m.H*m.W*m.C == 0 {
		return 0
	}
	return len(m.Pixels) / (m.H * m.W * m.C)
}

// Size returns H·W·C, the number of values in one image.
func (m *Images) Size() int { return m.H * m.W * m.C }

// Validate checks that Pixels and Labels agree with H, W, C; it returns an
// error naming the mismatch.
func (m *Images) Validate() error {
	if m.H <= 0 || m.W <= 0 || m.C <= 0 {
		return fmt.Errorf("data: image shape %d×%d×%d is not positive: set H, W and C", m.H, m.W, m.C)
	}
	if len(m.Pixels)%m.Size() != 0 {
		return fmt.Errorf("data: %d pixel bytes is not a multiple of the image size %d×%d×%d", len(m.Pixels), m.H, m.W, m.C)
	}
	if m.Labels != nil && len(m.Labels) != m.Len() {
		return fmt.Errorf("data: %d labels for %d images: give one label per image", len(m.Labels), m.Len())
	}
	return nil
}

// Float returns image i as H·W·C float32 values (shape [H, W, C],
// channel-last) scaled to [0, 1] (v/255), or to [−1, 1] (2·v/255 − 1) when
// centered. It returns nil when i is out of range.
func (m *Images) Float(i int, centered bool) []float32 {
	if i < 0 || i >= m.Len() {
		return nil
	}
	out := make([]float32, m.Size())
	m.fill(out, i, centered)
	return out
}

func (m *Images) fill(dst []float32, i int, centered bool) {
	s := m.Size()
	src := m.Pixels[i*s : (i+1)*s]
	if centered {
		for j, v := range src {
			dst[j] = float32(v)/127.5 - 1
		}
		return
	}
	for j, v := range src {
		dst[j] = float32(v) / 255
	}
}

// Batch returns the images at the indices idx as one flat float32 slice of
// shape [len(idx), H, W, C], scaled as in Float. Indices out of range leave
// their image zero.
func (m *Images) Batch(idx []int, centered bool) []float32 {
	s := m.Size()
	out := make([]float32, len(idx)*s)
	n := m.Len()
	for k, i := range idx {
		if i < 0 || i >= n {
			continue
		}
		m.fill(out[k*s:(k+1)*s], i, centered)
	}
	return out
}

// BatchLabels returns the labels at the indices idx (−1 for an index out of range).
func (m *Images) BatchLabels(idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(m.Labels) {
			out[k] = -1
			continue
		}
		out[k] = m.Labels[i]
	}
	return out
}

// Subset returns a new Images holding copies of the images at the indices idx
// (in that order); indices out of range give an error.
func (m *Images) Subset(idx []int) (*Images, error) {
	s := m.Size()
	n := m.Len()
	out := &Images{H: m.H, W: m.W, C: m.C, Pixels: make([]uint8, 0, len(idx)*s)}
	if m.Labels != nil {
		out.Labels = make([]int, 0, len(idx))
	}
	for _, i := range idx {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("data: subset index %d out of range [0, %d): pass indices below Len()", i, n)
		}
		out.Pixels = append(out.Pixels, m.Pixels[i*s:(i+1)*s]...)
		if m.Labels != nil {
			out.Labels = append(out.Labels, m.Labels[i])
		}
	}
	return out, nil
}

// Dequantize applies uniform dequantization in place to data x scaled to
// [0, 1] (as returned by Float or Batch with centered false), as the
// score_sde reference does: x ← (255·x + u)/256 with u ~ U[0, 1) drawn from r.
// A pixel of byte value k thus lands in [k/256, (k+1)/256). To get centered
// data afterwards, map x ← 2·x − 1.
func Dequantize(x []float32, r *rand.Rand) {
	for i, v := range x {
		y := (255*v + float32(r.Float64())) / 256
		// Guard against rounding of 255·v up to the next integer.
		k := float32(int(255*v + 0.5))
		if hi := (k + 1) / 256; y >= hi {
			y = hi - 1.0/(256*1024)
		}
		if lo := k / 256; y < lo {
			y = lo
		}
		x[i] = y
	}
}

// FlipHorizontal mirrors one image of shape [h, w, c] (channel-last, flat)
// left-right in place.
func FlipHorizontal(img []float32, h, w, c int) {
	for y := 0; y < h; y++ {
		row := img[y*w*c : (y+1)*w*c]
		for a, b := 0, w-1; a < b; a, b = a+1, b-1 {
			for ch := 0; ch < c; ch++ {
				row[a*c+ch], row[b*c+ch] = row[b*c+ch], row[a*c+ch]
			}
		}
	}
}

// RandomFlip flips each of the n images of batch (shape [n, h, w, c], flat
// channel-last) left-right in place with probability ½, drawing from r; this
// is the CIFAR-10 training augmentation of the score_sde reference.
func RandomFlip(batch []float32, n, h, w, c int, r *rand.Rand) {
	s := h * w * c
	for i := 0; i < n && (i+1)*s <= len(batch); i++ {
		if r.IntN(2) == 1 {
			FlipHorizontal(batch[i*s:(i+1)*s], h, w, c)
		}
	}
}
