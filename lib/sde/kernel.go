package sde

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Kernel describes Gaussian perturbation kernels x_t = Mean[i]·x0 + Std[i]·z, z ~ N(0, I), at Times[i].
type Kernel struct {
	Times, Mean, Std []float64
}

// ContinuousKernel evaluates the SDE's closed-form kernel (m(t), s(t)) at the given times.
func ContinuousKernel(s SDE, times []float64) *Kernel {
	k := &Kernel{Times: append([]float64(nil), times...), Mean: make([]float64, len(times)), Std: make([]float64, len(times))}
	for i, t := range times {
		k.Mean[i], k.Std[i] = s.MeanCoeff(t), s.Std(t)
	}
	return k
}

// DiscreteKernel returns the exact kernel of the SDE's discrete chain x_{i+1} = x_i + f_i + G_i·z
// (SMLD for VE, DDPM for VP, Euler–Maruyama for sub-VP), with f and G taken from Discretize on the
// backend. Step i uses the discretization of index i; after it the chain is compared with the
// continuous process at time (i+1)·T/N. As N grows, the two kernels agree (the paper's Figure 5).
func DiscreteKernel(b compute.Backend, s SDE) (*Kernel, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	n, tEnd := s.N(), s.T()
	ts := make([]float64, n)
	for i := range ts {
		if n > 1 {
			// A small offset keeps ⌊t(N−1)/T⌋ = i exact under rounding.
			ts[i] = math.Min(tEnd, (float64(i)+1e-3)*tEnd/float64(n-1))
		}
	}
	outs, err := ExecOnceN(b, func(t *Node) []*Node {
		x := Ones(t.Graph(), shapes.Make(t.DType(), n, 1))
		f, G := s.Discretize(x, t)
		return []*Node{Reshape(f, n), G}
	}, ts)
	if err != nil {
		return nil, fmt.Errorf("discretizing %s: %w", s.Name(), err)
	}
	coef := tensors.MustCopyFlatData[float64](outs[0])
	gs := tensors.MustCopyFlatData[float64](outs[1])
	k := &Kernel{Times: make([]float64, n), Mean: make([]float64, n), Std: make([]float64, n)}
	mean, variance := 1.0, 0.0
	for i := range n {
		a := 1 + coef[i]
		mean, variance = a*mean, a*a*variance+gs[i]*gs[i]
		k.Times[i] = float64(i+1) * tEnd / float64(n)
		k.Mean[i], k.Std[i] = mean, math.Sqrt(variance)
	}
	return k, nil
}

// MaxAbsDiff returns the largest |a.Mean−b.Mean| and |a.Std−b.Std| over aligned entries.
func MaxAbsDiff(a, b *Kernel) (mean, std float64) {
	for i := range min(len(a.Mean), len(b.Mean)) {
		mean = math.Max(mean, math.Abs(a.Mean[i]-b.Mean[i]))
		std = math.Max(std, math.Abs(a.Std[i]-b.Std[i]))
	}
	return mean, std
}
