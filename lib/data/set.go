package data

import (
	"fmt"
	"math/rand/v2"
)

// Set serves an image collection as training data for lib/train (it implements train.Data and
// train.Labeled): each draw picks images uniformly with replacement and returns them as flat
// channel-last rows of H·W·C values, scaled to [0, 1] or, when Centered, to [−1, 1].
type Set struct {
	// Images is the collection; its labels, when present, are the classes of SampleLabeled.
	Images *Images
	// Centered scales pixels to [−1, 1] instead of [0, 1] (the references' data.centered).
	Centered bool
	// Dequantize adds uniform noise within each pixel's 1/256 bin (for likelihood training).
	Dequantize bool
	// Flip mirrors each drawn image left-right with probability ½ (the CIFAR-10 augmentation).
	Flip bool
}

// NewSet checks the images and returns a Set over them.
func NewSet(m *Images, centered bool) (*Set, error) {
	if m == nil || m.Len() == 0 {
		return nil, fmt.Errorf("data: no images to train on")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &Set{Images: m, Centered: centered}, nil
}

// Dim is H·W·C, the number of values of one image.
func (s *Set) Dim() int { return s.Images.Size() }

// Sample draws n images [n][H·W·C] using r.
func (s *Set) Sample(r *rand.Rand, n int) [][]float64 {
	x, _ := s.SampleLabeled(r, n)
	return x
}

// SampleLabeled draws n images [n][H·W·C] and their labels [n] using r (labels are 0 when the
// collection has none).
func (s *Set) SampleLabeled(r *rand.Rand, n int) ([][]float64, []int) {
	m := s.Images
	idx := make([]int, n)
	for i := range idx {
		idx[i] = r.IntN(m.Len())
	}
	flat := m.Batch(idx, false)
	if s.Dequantize {
		Dequantize(flat, r)
	}
	if s.Flip {
		RandomFlip(flat, n, m.H, m.W, m.C, r)
	}
	d := m.Size()
	out := make([][]float64, n)
	labels := make([]int, n)
	for i := range out {
		row := make([]float64, d)
		for j, v := range flat[i*d : (i+1)*d] {
			if s.Centered {
				row[j] = 2*float64(v) - 1
			} else {
				row[j] = float64(v)
			}
		}
		out[i] = row
		if m.Labels != nil {
			labels[i] = m.Labels[idx[i]]
		}
	}
	return out, labels
}

// Rows returns the images at indices [from, to) as [to−from][H·W·C] rows scaled like Sample,
// without dequantization or flips (evaluation data).
func (s *Set) Rows(from, to int) [][]float64 {
	m := s.Images
	if from < 0 {
		from = 0
	}
	if to > m.Len() {
		to = m.Len()
	}
	d := m.Size()
	var out [][]float64
	for i := from; i < to; i++ {
		row := make([]float64, d)
		for j, v := range m.Pixels[i*d : (i+1)*d] {
			row[j] = float64(v) / 255
			if s.Centered {
				row[j] = 2*row[j] - 1
			}
		}
		out = append(out, row)
	}
	return out
}
