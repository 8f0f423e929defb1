package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Brownian is one Brownian path W(σ) on [0, S] per value of a batch, built as a Brownian tree:
// W(S) is drawn from the seed, and the value at the midpoint of any dyadic interval from a
// generator seeded by the seed and the interval, so W at any σ is the same whichever grid asks.
// Increments over a coarse step are then sums of the increments over a finer grid's steps: the
// stochastic solvers driven by it converge pathwise as the grid is refined.
type Brownian struct {
	size  int
	span  float64
	dims  []int
	dtype dtypes.DType
	seed  uint64
	// last is the most recent query's value, reused as the next step's start.
	lastAt float64
	last   []float64
}

// brownianDepth is the number of bisections: the path is exact Brownian down to intervals of
// S·2⁻²⁴ and linear within them (still one path for every grid).
const brownianDepth = 24

// NewBrownian returns the path for a batch of the given dims on [0, span], from seed.
func NewBrownian(span float64, dims []int, dtype dtypes.DType, seed int64) (*Brownian, error) {
	if !(span > 0) || math.IsInf(span, 0) {
		return nil, fmt.Errorf("Brownian path on [0, %g]: want a finite positive span", span)
	}
	size := 1
	for _, d := range dims {
		size *= d
	}
	if dtype != dtypes.Float32 && dtype != dtypes.Float64 {
		return nil, fmt.Errorf("Brownian path: dtype %s, want Float32 or Float64", dtype)
	}
	return &Brownian{size: size, span: span, dims: append([]int(nil), dims...), dtype: dtype, seed: uint64(seed), lastAt: -1}, nil
}

// normals fills out with standard normals from the generator of node id.
func (w *Brownian) normals(id uint64, out []float64) {
	r := rand.New(rand.NewPCG(w.seed^0x9e3779b97f4a7c15, id))
	for i := range out {
		out[i] = r.NormFloat64()
	}
}

// At returns W(s) for the whole batch (s is clamped to [0, S]).
func (w *Brownian) At(s float64) []float64 {
	s = math.Max(0, math.Min(s, w.span))
	if s == w.lastAt {
		return w.last
	}
	lo, hi := 0.0, w.span
	wlo := make([]float64, w.size)
	whi := make([]float64, w.size)
	w.normals(0, whi) // W(S); the dyadic midpoints use ids 1, 2, 3, … (the heap order of the tree)
	sq := math.Sqrt(w.span)
	for i := range whi {
		whi[i] *= sq
	}
	z := make([]float64, w.size)
	id := uint64(1)
	for range brownianDepth {
		if s == lo || s == hi {
			break
		}
		mid := 0.5 * (lo + hi)
		sd := math.Sqrt((hi - lo) / 4)
		w.normals(id, z)
		// The bridge value at mid, given the ends.
		for i := range z {
			z[i] = 0.5*(wlo[i]+whi[i]) + sd*z[i]
		}
		if s < mid {
			hi, id = mid, 2*id
			whi, z = z, whi
		} else {
			lo, id = mid, 2*id+1
			wlo, z = z, wlo
		}
	}
	out := make([]float64, w.size)
	switch {
	case s == lo:
		copy(out, wlo)
	case s == hi:
		copy(out, whi)
	default:
		f := (s - lo) / (hi - lo)
		for i := range out {
			out[i] = wlo[i] + f*(whi[i]-wlo[i])
		}
	}
	w.lastAt, w.last = s, out
	return out
}

// Increment returns (W(a) − W(b))/√(a − b) for a > b, a standard normal tensor of the batch's
// shape: the noise of a step from noise level a down to b.
func (w *Brownian) Increment(a, b float64) (*tensors.Tensor, error) {
	if !(a > b) {
		return nil, fmt.Errorf("Brownian increment from σ=%g to σ=%g: want a decreasing step", a, b)
	}
	wa := w.At(a) // a is where the previous step ended: cached
	wb := w.At(b)
	scale := 1 / math.Sqrt(math.Min(a, w.span)-math.Max(b, 0))
	switch w.dtype {
	case dtypes.Float32:
		out := make([]float32, w.size)
		for i := range out {
			out[i] = float32((wa[i] - wb[i]) * scale)
		}
		return tensors.FromFlatDataAndDimensions(out, w.dims...), nil
	default:
		out := make([]float64, w.size)
		for i := range out {
			out[i] = (wa[i] - wb[i]) * scale
		}
		return tensors.FromFlatDataAndDimensions(out, w.dims...), nil
	}
}
