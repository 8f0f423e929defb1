package fd

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/scoresde/scoresde/lib/data"
	"gonum.org/v1/gonum/mat"
)

// Reference holds the feature statistics of a reference image set, the target of Score.
type Reference struct {
	// Mu [d] and Cov [d, d] are the mean and covariance of the classifier's features.
	Mu  []float64
	Cov *mat.SymDense
	// N is the number of reference images.
	N int
}

// NewReference computes the feature statistics of the images of set (28×28×1, e.g. the MNIST
// test split) under classifier c.
func NewReference(b compute.Backend, c *Classifier, set *data.Images) (*Reference, error) {
	if err := checkMNIST(set); err != nil {
		return nil, err
	}
	feats, err := c.Features(b, ImagePixels(set))
	if err != nil {
		return nil, err
	}
	mu, cov, err := Stats(feats)
	if err != nil {
		return nil, err
	}
	return &Reference{Mu: mu, Cov: cov, N: set.Len()}, nil
}

// Pixels01 maps images x [n][784] to the classifier's range [0, 1]: centered images (in
// [−1, 1]) become (x + 1)/2, and values outside [0, 1] are clipped, as when samples are saved as
// 8-bit pictures. A non-finite value or an image of the wrong size is an error naming it.
func Pixels01(x [][]float64, centered bool) ([][]float64, error) {
	out := make([][]float64, len(x))
	for i, img := range x {
		if len(img) != Pixels {
			return nil, fmt.Errorf("fd: image %d has %d values, want %d (28×28×1)", i, len(img), Pixels)
		}
		row := make([]float64, Pixels)
		for j, v := range img {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fd: image %d, pixel %d is %v: remove or fix non-finite samples", i, j, v)
			}
			if centered {
				v = (v + 1) / 2
			}
			row[j] = min(max(v, 0), 1)
		}
		out[i] = row
	}
	return out, nil
}

// Score returns FD-MNIST, the Fréchet distance (squared feature units) between the classifier
// features of samples and the reference statistics ref. samples are [n][784] images (28×28×1
// row-major) with values in [0, 1], or in [−1, 1] when centered; see Pixels01. It needs n ≥ 2;
// the value is biased upwards for small n, so compare scores computed with the same n.
func Score(b compute.Backend, c *Classifier, samples [][]float64, centered bool, ref *Reference) (float64, error) {
	if ref == nil {
		return 0, fmt.Errorf("fd: no reference statistics: compute them with fd.NewReference")
	}
	if len(samples) < 2 {
		return 0, fmt.Errorf("fd: %d samples: FD-MNIST needs at least 2 (use 1000 or more for a stable value)", len(samples))
	}
	x, err := Pixels01(samples, centered)
	if err != nil {
		return 0, err
	}
	feats, err := c.Features(b, x)
	if err != nil {
		return 0, err
	}
	mu, cov, err := Stats(feats)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(mu, cov, ref.Mu, ref.Cov)
}
