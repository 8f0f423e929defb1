package sampling

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestBrownianIncrements: the normalized increments over any grid are standard normal,
// uncorrelated from step to step, and the same path serves every grid: the increment over a
// coarse step is the √-weighted sum of the increments over the finer steps inside it.
func TestBrownianIncrements(t *testing.T) {
	const n = 20000
	span := 50.0
	w, err := NewBrownian(span, []int{n}, dtypes.Float64, 3)
	if err != nil {
		t.Fatal(err)
	}
	grid := []float64{50, 40, 25, 12.5, 3, 1, 0.3, 0.05, 0.01}
	var prev []float64
	for i := 0; i+1 < len(grid); i++ {
		z, err := w.Increment(grid[i], grid[i+1])
		if err != nil {
			t.Fatal(err)
		}
		v := tensors.MustCopyFlatData[float64](z)
		var mean, sq, cross float64
		for k, x := range v {
			mean += x
			sq += x * x
			if prev != nil {
				cross += x * prev[k]
			}
		}
		mean, sq, cross = mean/n, sq/n, cross/n
		// 5 standard errors of a mean, a variance and a correlation over n values.
		if math.Abs(mean) > 5/math.Sqrt(n) || math.Abs(sq-1) > 5*math.Sqrt(2.0/n) || (prev != nil && math.Abs(cross) > 5/math.Sqrt(n)) {
			t.Errorf("step %g → %g: mean %.4f, mean square %.4f, correlation with the previous step %.4f", grid[i], grid[i+1], mean, sq, cross)
		}
		prev = v
	}
	// One coarse step equals the combination of the fine steps inside it, on the same path.
	fine := []float64{40, 30, 25}
	w2, _ := NewBrownian(span, []int{n}, dtypes.Float64, 3)
	coarse, _ := w2.Increment(40, 25)
	za, _ := w.Increment(fine[0], fine[1])
	zb, _ := w.Increment(fine[1], fine[2])
	c, a, b := tensors.MustCopyFlatData[float64](coarse), tensors.MustCopyFlatData[float64](za), tensors.MustCopyFlatData[float64](zb)
	for k := range c {
		want := (a[k]*math.Sqrt(10) + b[k]*math.Sqrt(5)) / math.Sqrt(15)
		if math.Abs(c[k]-want) > 1e-9 {
			t.Fatalf("value %d: coarse increment %.12g, from the fine steps %.12g", k, c[k], want)
		}
	}
}
