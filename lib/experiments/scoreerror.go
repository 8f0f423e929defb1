package experiments

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// ScoreError measures a learned score against the mixture's exact one at each time t: the relative
// error E‖s_θ(x_t, t) − ∇log p_t(x_t)‖² / E‖∇log p_t(x_t)‖² over n points x_t ~ p_t (drawn from
// seed), the quantity denoising score matching minimizes up to the weighting.
func ScoreError(b compute.Backend, learned sde.ScoreFn, m *toy.Mixture, s sde.SDE, times []float64, n int, seed uint64) ([]float64, error) {
	exact := m.ScoreFn(s)
	fn, err := NewExec(b, func(x, t *Node) (*Node, *Node) {
		tb := BroadcastToDims(t, x.Shape().Dimensions[0])
		e := exact(x, tb)
		d := Sub(learned(x, tb), e)
		return ReduceAllSum(Square(d)), ReduceAllSum(Square(e))
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(times))
	for i, t := range times {
		x, err := sampling.FromPoints(m.Perturb(s, t).Sample(toy.NewRand(seed+uint64(i)), n), dtypes.Float32)
		if err != nil {
			return nil, err
		}
		r, err := fn.Call(x, float32(t))
		if err != nil {
			return nil, fmt.Errorf("score error at t=%g: %w", t, err)
		}
		num, den := float64(r[0].Value().(float32)), float64(r[1].Value().(float32))
		out[i] = num / den
	}
	return out, nil
}

// ScoreErrorMap returns a function (x, y) ↦ ‖s_θ(x, t) − ∇log p_t(x)‖ evaluated on an n×n grid
// over [lo, hi]² at time t (2-D mixtures), for heat maps: where the data is rare the learned score
// is wrong, NCSN's motivation for noise.
func ScoreErrorMap(b compute.Backend, learned sde.ScoreFn, m *toy.Mixture, s sde.SDE, t, lo, hi float64, n int) (func(x, y float64) float64, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("score error map: mixture %s has dimension %d, want 2", m.Name(), m.Dim())
	}
	pts := make([][]float64, 0, n*n)
	h := (hi - lo) / float64(n-1)
	for i := range n {
		for j := range n {
			pts = append(pts, []float64{lo + float64(i)*h, lo + float64(j)*h})
		}
	}
	x, err := sampling.FromPoints(pts, dtypes.Float32)
	if err != nil {
		return nil, err
	}
	exact := m.ScoreFn(s)
	out, err := ExecOnce(b, func(x, t *Node) *Node {
		return Sqrt(ReduceSum(Square(Sub(learned(x, t), exact(x, t))), -1))
	}, x, float32(t))
	if err != nil {
		return nil, err
	}
	vals := tensors.MustCopyFlatData[float32](out)
	return func(x, y float64) float64 {
		i := int(math.Round((x - lo) / h))
		j := int(math.Round((y - lo) / h))
		i, j = min(max(i, 0), n-1), min(max(j, 0), n-1)
		return float64(vals[i*n+j])
	}, nil
}
