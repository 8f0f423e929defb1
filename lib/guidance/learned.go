package guidance

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/losses"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
)

// consts turns parameter tensors into constants of the graph of x, in x's dtype.
func consts(x *Node, vals []*tensors.Tensor) []*Node {
	p := make([]*Node, len(vals))
	for i, v := range vals {
		p[i] = ConvertDType(Const(x.Graph(), v), x.DType())
	}
	return p
}

// ClassifierObjective trains a time-conditional classifier p(y | x_t, t) on perturbed data: x_t is
// drawn from the SDE's kernel at t ~ U(eps, T), and the loss is the cross-entropy of the network's
// logits [B, K] (an MLP with Out = K) against the labels.
func ClassifierObjective(s sde.SDE, net nets.Net, eps float64) train.Objective {
	return func(p []*Node, x0, labels, rng *Node) (*Node, *Node) {
		b := x0.Shape().Dimensions[0]
		var u, z *Node
		rng, u = RandomUniform(rng, shapes.Make(x0.DType(), b))
		rng, z = RandomNormal(rng, x0.Shape())
		t := AddScalar(MulScalar(u, s.T()-eps), eps)
		mean, std := s.MarginalProb(x0, t)
		xt := StopGradient(Add(mean, Mul(sde.PerSample(std, x0), z)))
		logp := LogSoftmax(net.Forward(p, xt, t), -1) // [B, K]
		k := logp.Shape().Dimensions[1]
		return Neg(ReduceAllMean(ReduceSum(Mul(logp, OneHot(labels, k, logp.DType())), -1))), rng
	}
}

// LearnedClassGrad is ∇x log p_t(k | x) of a trained time-conditional classifier (its parameter
// values, e.g. a checkpoint's EMA weights).
func LearnedClassGrad(net nets.Net, params []*tensors.Tensor, k int) (Grad, error) {
	classes := net.Spec().Out
	if k < 0 || k >= classes {
		return nil, fmt.Errorf("class %d: the classifier has classes 0 to %d", k, classes-1)
	}
	return func(x, t *Node) *Node {
		p := consts(x, params)
		xv := Identity(x)
		logp := LogSoftmax(net.Forward(p, xv, t), -1)
		return Gradient(ReduceAllSum(Slice(logp, AxisRange(), AxisElem(k))), xv)[0]
	}, nil
}

// ConditionalObjective trains a class-conditional score network (an MLP with Classes > 0) by
// denoising score matching, replacing each label by "no label" with probability dropout so that the
// same network also learns the unconditional score (classifier-free guidance).
func ConditionalObjective(s sde.SDE, net *nets.MLP, o losses.Options, dropout float64, scaleBySigma bool) train.Objective {
	return func(p []*Node, x0, labels, rng *Node) (*Node, *Node) {
		var u *Node
		rng, u = RandomUniform(rng, shapes.Make(x0.DType(), x0.Shape().Dimensions[0]))
		null := AddScalar(ZerosLike(labels), float64(net.Classes))
		dropped := Where(LessThan(u, Scalar(x0.Graph(), x0.DType(), dropout)), null, labels)
		score := nets.LabeledScoreFn(net, p, s, scaleBySigma, func(*Graph) *Node { return dropped })
		return losses.Loss(s, score, x0, rng, o)
	}
}

// ClassifierFree is the classifier-free guided score s_∅ + w·(s_k − s_∅) of a class-conditional
// network (with w = 1 the conditional score s_k; the guidance scale has the meaning it has for
// classifier guidance, where ∇log p_t(k | x) ≈ s_k − s_∅).
func ClassifierFree(net *nets.MLP, params []*tensors.Tensor, s sde.SDE, k int, w float64, scaleBySigma bool) (sde.ScoreFn, error) {
	if k < 0 || k >= net.Classes {
		return nil, fmt.Errorf("class %d: the network has classes 0 to %d", k, net.Classes-1)
	}
	return func(x, t *Node) *Node {
		p := consts(x, params)
		label := func(c int) func(*Graph) *Node {
			return func(g *Graph) *Node { return Scalar(g, dtypes.Int32, c) }
		}
		cond := nets.LabeledScoreFn(net, p, s, scaleBySigma, label(k))(x, t)
		uncond := nets.LabeledScoreFn(net, p, s, scaleBySigma, label(net.Classes))(x, t)
		return Add(uncond, MulScalar(Sub(cond, uncond), w))
	}, nil
}

// ClassifierAccuracy is the share of the points x [n][d] with labels [n] that a time-conditional
// classifier (a network whose Forward gives logits [B, classes]; its parameter values params) labels
// right after perturbing them by the SDE to time t (x_t = m(t)·x + s(t)·z, z drawn from seed).
func ClassifierAccuracy(b compute.Backend, net nets.Net, params []*tensors.Tensor, s sde.SDE, x [][]float64, labels []int, t float64, seed int64) (float64, error) {
	if len(x) == 0 || len(x) != len(labels) {
		return 0, fmt.Errorf("classifier accuracy: %d points and %d labels: give one label per point", len(x), len(labels))
	}
	xt, err := sampling.FromPoints(x, dtypes.Float32)
	if err != nil {
		return 0, err
	}
	rng, err := RNGStateFromSeed(seed)
	if err != nil {
		return 0, err
	}
	pred, err := ExecOnce(b, func(x, rng *Node) *Node {
		tt := Scalar(x.Graph(), dtypes.Float32, t)
		mean, std := s.MarginalProb(x, tt)
		_, z := RandomNormal(rng, x.Shape())
		return ArgMax(net.Forward(consts(x, params), Add(mean, Mul(sde.PerSample(std, x), z)), tt), -1)
	}, xt, rng)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, k := range tensors.MustCopyFlatData[int32](pred) {
		if int(k) == labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(x)), nil
}
