package sampling

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/sde"
)

// Corrector is a score-based MCMC update at a fixed time t, run Steps times.
type Corrector struct {
	// Name is the registry name, e.g. "langevin".
	Name string
	// Update performs all Steps inner iterations.
	Update Update
	// ScoreEvals is the number of score evaluations per Update (Steps, or 0 for "none").
	ScoreEvals int
	// Steps is M and Iteration one of the M iterations, for loops that run them one call at a
	// time (PCLoop does past MaxUnrolledCorrectorSteps).
	Steps     int
	Iteration Update
}

// CorrectorNames lists the correctors accepted by NewCorrector.
var CorrectorNames = []string{"langevin", "ald", "none"}

// CorrectorOptions configures a corrector.
type CorrectorOptions struct {
	// SNR is the signal-to-noise ratio r of the step rule (reference default 0.16).
	SNR float64
	// Steps is M, the number of corrector iterations per time step (default 1).
	Steps int
	// SqrtDNoiseNorm replaces the batch-averaged ‖z‖ of the Langevin step rule by √d, as the paper's
	// appendix G suggests for small batches (and the MNIST tutorial does).
	SqrtDNoiseNorm bool
}

// perPointNorm is the L2 norm of each point of x [B, ...], shaped [B].
func perPointNorm(x *Node) *Node {
	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i + 1
	}
	if len(axes) == 0 {
		return Abs(x)
	}
	return Sqrt(ReduceSum(Square(x), axes...))
}

// NewCorrector builds a corrector by name:
//
//	langevin: ε = 2α(r·‖z‖/‖s‖)², with ‖·‖ the per-point norm averaged over the batch;
//	ald:      ε = 2α(r·σ(t))², with σ(t) the kernel std (annealed Langevin, NCSN-style);
//
// each followed by x̄ = x + ε·s(x, t) and x = x̄ + √(2ε)·z, repeated Steps times.
func NewCorrector(name string, s sde.SDE, score sde.ScoreFn, o CorrectorOptions) (*Corrector, error) {
	if o.Steps == 0 {
		o.Steps = 1
	}
	if o.Steps < 0 {
		return nil, fmt.Errorf("corrector steps=%d, want ≥ 0", o.Steps)
	}
	if math.IsNaN(o.SNR) || o.SNR < 0 {
		return nil, fmt.Errorf("snr=%g, want ≥ 0 (the references use 0.16 for VE and 0.01–0.27 elsewhere)", o.SNR)
	}
	var stepSize func(x, t, grad, z *Node) *Node // [B]
	switch normalize(name) {
	case "langevin":
		name = "langevin"
		stepSize = func(x, t, grad, z *Node) *Node {
			gradNorm := ReduceAllMean(perPointNorm(grad))
			var noiseNorm *Node
			if o.SqrtDNoiseNorm {
				d := 1
				for _, n := range x.Shape().Dimensions[1:] {
					d *= n
				}
				noiseNorm = Scalar(x.Graph(), x.DType(), math.Sqrt(float64(d)))
			} else {
				noiseNorm = ReduceAllMean(perPointNorm(z))
			}
			ratio := Square(MulScalar(Div(noiseNorm, gradNorm), o.SNR))
			return Mul(MulScalar(s.LangevinAlpha(t), 2), ratio)
		}
	case "ald", "annealed_langevin":
		name = "ald"
		stepSize = func(x, t, grad, z *Node) *Node {
			_, std := s.MarginalProb(OnesLike(t), t)
			return Mul(MulScalar(s.LangevinAlpha(t), 2), Square(MulScalar(std, o.SNR)))
		}
	case "none":
		return &Corrector{Name: "none", Update: func(x, t, rng *Node) (*Node, *Node, *Node) { return x, x, rng }}, nil
	default:
		return nil, fmt.Errorf("unknown corrector %q: use one of %s", name, strings.Join(CorrectorNames, ", "))
	}
	one := func(x, t, rng *Node) (*Node, *Node, *Node) {
		grad := score(x, t)
		var z *Node
		rng, z = RandomNormal(rng, x.Shape())
		eps := stepSize(x, t, grad, z)
		mean := Add(x, Mul(sde.PerSample(eps, x), grad))
		return Add(mean, Mul(sde.PerSample(Sqrt(MulScalar(eps, 2)), x), z)), mean, rng
	}
	return &Corrector{Name: name, ScoreEvals: o.Steps, Steps: o.Steps, Iteration: one, Update: func(x, t, rng *Node) (*Node, *Node, *Node) {
		mean := x
		for range o.Steps {
			x, mean, rng = one(x, t, rng)
		}
		return x, mean, rng
	}}, nil
}
