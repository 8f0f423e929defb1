package sampling

import (
	"fmt"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sde"
)

// Run holds the options every sampler shares.
type Run struct {
	// Seed drives every random draw (prior, noise): the same seed gives the same samples.
	Seed int64
	// DType is the float type of the computation (default Float32; tests use Float64).
	DType dtypes.DType
	// RecordEvery > 0 records the samples every RecordEvery steps (and the first and last).
	RecordEvery int
	// Progress, when set, is called after each step with the steps done and the total.
	Progress func(done, total int)
}

func (r Run) dtype() dtypes.DType {
	if r.DType == dtypes.InvalidDType {
		return dtypes.Float32
	}
	return r.DType
}

// Result is the outcome of a sampler.
type Result struct {
	// Samples holds the final points, shaped like the requested shape [n, ...].
	Samples *tensors.Tensor
	// NFE is the number of score evaluations each point received.
	NFE int
	// ReferenceNFE is the count the reference PC sampler reports, N·(M+1), which overcounts when
	// the predictor or corrector is "none" (PC only; equal to NFE elsewhere).
	ReferenceNFE int
	// Times and Trajectory hold the recorded snapshots (RecordEvery > 0): Trajectory[k] is the batch
	// at Times[k], each point flattened to a vector.
	Times      []float64
	Trajectory [][][]float64
	// Elapsed is the wall time of the sampling loop, compilation included.
	Elapsed time.Duration
}

// Points returns the samples as [n][d] float64, each point flattened.
func (r *Result) Points() [][]float64 { return toPoints(r.Samples) }

// toPoints copies a tensor [n, ...] to host as [n][d] float64.
func toPoints(t *tensors.Tensor) [][]float64 {
	dims := t.Shape().Dimensions
	n := dims[0]
	d := 1
	for _, v := range dims[1:] {
		d *= v
	}
	var flat []float64
	switch t.DType() {
	case dtypes.Float64:
		flat = tensors.MustCopyFlatData[float64](t)
	case dtypes.Float32:
		f32 := tensors.MustCopyFlatData[float32](t)
		flat = make([]float64, len(f32))
		for i, v := range f32 {
			flat[i] = float64(v)
		}
	default:
		panic(fmt.Sprintf("samples of dtype %s", t.DType()))
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}
	return out
}

// FromPoints builds a [n, d] tensor of the given dtype from host points.
func FromPoints(points [][]float64, dtype dtypes.DType) (*tensors.Tensor, error) {
	if len(points) == 0 {
		return nil, fmt.Errorf("no points")
	}
	d := len(points[0])
	switch dtype {
	case dtypes.Float64, dtypes.InvalidDType:
		flat := make([]float64, 0, len(points)*d)
		for i, p := range points {
			if len(p) != d {
				return nil, fmt.Errorf("point %d has %d values, want %d", i, len(p), d)
			}
			flat = append(flat, p...)
		}
		return tensors.FromFlatDataAndDimensions(flat, len(points), d), nil
	case dtypes.Float32:
		flat := make([]float32, 0, len(points)*d)
		for i, p := range points {
			if len(p) != d {
				return nil, fmt.Errorf("point %d has %d values, want %d", i, len(p), d)
			}
			for _, v := range p {
				flat = append(flat, float32(v))
			}
		}
		return tensors.FromFlatDataAndDimensions(flat, len(points), d), nil
	}
	return nil, fmt.Errorf("unsupported dtype %s", dtype)
}

// recorder keeps snapshots every k steps.
type recorder struct {
	every int
	res   *Result
}

func (r *recorder) record(step, total int, t float64, x *tensors.Tensor) {
	if r.every <= 0 {
		return
	}
	if step%r.every == 0 || step == total {
		r.res.Times = append(r.res.Times, t)
		r.res.Trajectory = append(r.res.Trajectory, toPoints(x))
	}
}

// priorSample draws the starting batch from the SDE's prior.
func priorSample(b compute.Backend, s sde.SDE, shape []int, run Run) (x, rng *tensors.Tensor, err error) {
	if len(shape) < 1 || shape[0] < 1 {
		return nil, nil, fmt.Errorf("sample shape %v: want [n, ...] with n ≥ 1", shape)
	}
	rng, err = RNGStateFromSeed(run.Seed)
	if err != nil {
		return nil, nil, err
	}
	outs, err := ExecOnceN(b, func(rng *Node) []*Node {
		newRng, x := s.PriorSample(rng, shapes.Make(run.dtype(), shape...))
		return []*Node{x, newRng}
	}, rng)
	if err != nil {
		return nil, nil, err
	}
	return outs[0], outs[1], nil
}

// stepExec compiles an Update as (x, t float64 scalar, rng) → (next, mean, rng); t is converted to
// x's dtype and stays a scalar shared by the batch.
func stepExec(b compute.Backend, u Update) (*Exec, error) {
	return NewExec(b, func(x, t, rng *Node) (*Node, *Node, *Node) {
		return u(x, ConvertDType(t, x.DType()), rng)
	})
}

// linspace returns n points from a to b inclusive.
func Linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		if n == 1 {
			out[i] = a
		} else {
			out[i] = a + (b-a)*float64(i)/float64(n-1)
		}
	}
	return out
}
