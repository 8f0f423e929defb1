package guidance

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/losses"
	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
	"github.com/scoresde/scoresde/toy"
)

// classShare is the fraction of samples whose most probable component is k.
func classShare(t *testing.T, m *toy.Mixture, pts [][]float64, k int) float64 {
	w, err := metrics.ModeWeights(m, pts)
	if err != nil {
		t.Fatal(err)
	}
	return w[k]
}

// sharePC is the sampler of the class-share checks: the default PC sampler with 100 steps instead of
// the SDE's 1,000. The share of samples in a class is set by the guidance gradient, not by the
// discretization: with exact guidance (500 samples) it is 0.956, 0.972, 0.946 for the three classes
// at 1,000 steps and 0.958, 0.968, 0.980 at 100, within the ±0.01 of the sample size.
func sharePC() sampling.PCOptions {
	o := sampling.DefaultPC()
	o.N = 100
	return o
}

// quickMLP and quickConfig are the network and training settings of the learned-guidance tests: an
// MLP with two hidden layers of 64 (the default has three of 128), batches of 256 and an EMA rate of
// 0.99, so that a few hundred steps suffice (at 0.999 the EMA would still hold 55% of the initial
// weights after 600 steps).
func quickMLP(m *toy.Mixture) *nets.MLP {
	net := nets.NewMLP(m.Dim())
	net.Hidden = []int{64, 64}
	return net
}

func quickConfig(s sde.SDE, steps int, seed uint64) train.Config {
	cfg := train.Default(s)
	cfg.Steps, cfg.Batch, cfg.EMA, cfg.Seed = steps, 256, 0.99, seed
	return cfg
}

// exactShares caches exactShare by SDE and class: both learned-guidance tests compare with the same
// exact samples.
var (
	exactMu     sync.Mutex
	exactShares = map[string]float64{}
)

// exactShare is the share of exact-guidance samples (w = 1) that land in class k: the components
// overlap, so even exact conditioning puts some samples nearer another component.
func exactShare(t *testing.T, m *toy.Mixture, s sde.SDE, k int) float64 {
	exactMu.Lock()
	defer exactMu.Unlock()
	key := fmt.Sprintf("%s/%s/%d", m.Name(), s.Name(), k)
	if v, ok := exactShares[key]; ok {
		return v
	}
	exact, _ := ExactClassGrad(m, s, k)
	res, err := sampling.PC(backend.MustNew(), s, Guided(m.ScoreFn(s), exact, 1), []int{500, 2}, sharePC(), sampling.Run{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	exactShares[key] = classShare(t, m, res.Points(), k)
	return exactShares[key]
}

// TestLearnedClassifierApproachesExact trains a time-conditional classifier on the perturbed
// mixture (600 steps of quickConfig): the relative squared error of its guidance gradient against
// the exact one (over x_t ~ p_t at t = 0.2 and 0.5) falls below 0.4× the untrained network's (about
// 1; the trained one reaches 0.04 to 0.17), and guidance closes at least two thirds of the gap
// between the class's share without guidance (its weight) and with exact guidance (the learned
// shares are within 0.01 of the exact ones, the threshold 0.15 to 0.25 below them, against a
// standard error of 0.01 for 500 samples).
func TestLearnedClassifierApproachesExact(t *testing.T) {
	b := backend.MustNew()
	m := twoD(t)
	s := sde.NewVP()
	net := quickMLP(m)
	net.Out = m.K()
	tr, err := train.New(b, net, s, m, quickConfig(s, 600, 3), "")
	if err != nil {
		t.Fatal(err)
	}
	tr.Objective = ClassifierObjective(s, net, 1e-3)
	gradError := func(k int, tt float64) float64 {
		learned, _ := LearnedClassGrad(net, tr.State.EMA, k)
		exact, _ := ExactClassGrad(m, s, k)
		x := m.Perturb(s, tt).Sample(toy.NewRand(uint64(k)), 2000)
		xt, _ := sampling.FromPoints(x, dtypes.Float32)
		outs := MustExecOnceN(b, func(x, t *Node) []*Node {
			d := Sub(learned(x, t), exact(x, t))
			return []*Node{ReduceAllSum(Square(d)), ReduceAllSum(Square(exact(x, t)))}
		}, xt, float32(tt))
		return float64(outs[0].Value().(float32) / outs[1].Value().(float32))
	}
	var before [][]float64
	for k := range m.K() {
		before = append(before, []float64{gradError(k, 0.2), gradError(k, 0.5)})
	}
	if err := tr.Run(nil); err != nil {
		t.Fatal(err)
	}
	for k := range m.K() {
		for i, tt := range []float64{0.2, 0.5} {
			after := gradError(k, tt)
			t.Logf("class %d, t=%.1f: relative squared error of ∇log p_t(k|x) %.3f → %.3f", k, tt, before[k][i], after)
			if after > 0.4*before[k][i] {
				t.Errorf("class %d, t=%.1f: error fell only from %.3f to %.3f", k, tt, before[k][i], after)
			}
		}
		learned, _ := LearnedClassGrad(net, tr.State.EMA, k)
		res, err := sampling.PC(b, s, Guided(m.ScoreFn(s), learned, 1), []int{500, 2}, sharePC(), sampling.Run{Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		share, want := classShare(t, m, res.Points(), k), exactShare(t, m, s, k)
		t.Logf("class %d: %.2f of samples in the class (exact guidance %.2f)", k, share, want)
		if gap := want - m.Weights()[k]; share < want-gap/3 {
			t.Errorf("class %d: %.2f of learned-guidance samples in the class; exact guidance gives %.2f, no guidance %.2f", k, share, want, m.Weights()[k])
		}
	}
}

// TestClassifierFreeGuidance trains a class-conditional score with 20% label dropout (1,000 steps of
// quickConfig) and samples each class with w = 1: guidance closes at least two thirds of the gap
// between the share with w = 0 (the same network's unconditional score) and with exact guidance
// (the shares at w = 1 are within 0.03 of the exact ones, the threshold 0.15 to 0.25 below them).
func TestClassifierFreeGuidance(t *testing.T) {
	b := backend.MustNew()
	m := twoD(t)
	s := sde.NewVP()
	net := quickMLP(m)
	net.Classes = m.K()
	tr, err := train.New(b, net, s, m, quickConfig(s, 1000, 5), "")
	if err != nil {
		t.Fatal(err)
	}
	tr.Objective = ConditionalObjective(s, net, losses.Default(s), 0.2, false)
	if err := tr.Run(nil); err != nil {
		t.Fatal(err)
	}
	for k := range m.K() {
		var shares []float64
		for _, w := range []float64{0, 1} {
			score, err := ClassifierFree(net, tr.State.EMA, s, k, w, false)
			if err != nil {
				t.Fatal(err)
			}
			res, err := sampling.PC(b, s, score, []int{500, 2}, sharePC(), sampling.Run{Seed: 6})
			if err != nil {
				t.Fatal(err)
			}
			shares = append(shares, classShare(t, m, res.Points(), k))
		}
		want := exactShare(t, m, s, k)
		t.Logf("class %d (weight %.1f): share %.2f at w=0, %.2f at w=1 (exact guidance %.2f)", k, m.Weights()[k], shares[0], shares[1], want)
		if gap := want - shares[0]; shares[1] < want-gap/3 {
			t.Errorf("class %d: %.2f of classifier-free samples in the class; exact guidance gives %.2f, w=0 %.2f", k, shares[1], want, shares[0])
		}
	}
}
