package sde

import (
	"fmt"

	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Paths are trajectories of a batch of points: X[k][i] is point i (a [d] vector) at Times[k].
type Paths struct {
	Times []float64
	X     [][][]float64
}

// Point returns the path of point i as [steps][d], for plotting one trajectory.
func (p *Paths) Point(i int) [][]float64 {
	out := make([][]float64, len(p.X))
	for k := range p.X {
		out[k] = p.X[k][i]
	}
	return out
}

// Coordinate returns coordinate j of every point over time as [point][step], e.g. for 1-D plots.
func (p *Paths) Coordinate(j int) [][]float64 {
	if len(p.X) == 0 {
		return nil
	}
	out := make([][]float64, len(p.X[0]))
	for i := range out {
		out[i] = make([]float64, len(p.X))
		for k := range p.X {
			out[i][k] = p.X[k][i][j]
		}
	}
	return out
}

// eulerMaruyama integrates dx = drift(x,t)dt + diffusion(t)dw from t0 to t1 (t1 < t0 runs backwards)
// in n equal steps on the backend, recording every step. One compiled step is reused throughout.
func eulerMaruyama(b compute.Backend, drift func(x, t *Node) *Node, diffusion func(t *Node) *Node,
	x0 [][]float64, t0, t1 float64, n int, seed int64) (*Paths, error) {
	if n < 1 {
		return nil, fmt.Errorf("steps=%d, want ≥ 1", n)
	}
	if len(x0) == 0 {
		return nil, fmt.Errorf("no starting points")
	}
	dt := (t1 - t0) / float64(n)
	absDt := dt
	if absDt < 0 {
		absDt = -absDt
	}
	step, err := NewExec(b, func(x, t, rng *Node) (*Node, *Node) {
		tb := BroadcastToDims(t, x.Shape().Dimensions[0])
		newRng, z := RandomNormal(rng, x.Shape())
		g := PerSample(diffusion(tb), x)
		next := Add(Add(x, MulScalar(drift(x, tb), dt)), MulScalar(Mul(g, z), math.Sqrt(absDt)))
		return next, newRng
	})
	if err != nil {
		return nil, err
	}
	rng, err := RNGStateFromSeed(seed)
	if err != nil {
		return nil, err
	}
	x := tensors.FromValue(x0)
	p := &Paths{Times: []float64{t0}, X: [][][]float64{x0}}
	for k := range n {
		t := t0 + float64(k)*dt
		outs, err := step.Call(x, t, rng)
		if err != nil {
			return nil, err
		}
		x, rng = outs[0], outs[1]
		p.Times = append(p.Times, t+dt)
		p.X = append(p.X, x.Value().([][]float64))
	}
	return p, nil
}

// SimulateForward draws forward paths x_t of the SDE from x0 [B][d] over [0, T] with n
// Euler–Maruyama steps, using seed for the noise.
func SimulateForward(b compute.Backend, s SDE, x0 [][]float64, n int, seed int64) (*Paths, error) {
	return eulerMaruyama(b, s.Drift, s.Diffusion, x0, 0, s.T(), n, seed)
}

// SimulateReverse integrates the reverse SDE (or, with r.ProbabilityFlow, the probability-flow
// ODE) from xT [B][d] at time T down to eps with n Euler–Maruyama steps, recording every step.
func SimulateReverse(b compute.Backend, r *ReverseSDE, xT [][]float64, eps float64, n int, seed int64) (*Paths, error) {
	return eulerMaruyama(b, r.Drift, r.Diffusion, xT, r.Forward.T(), eps, n, seed)
}
