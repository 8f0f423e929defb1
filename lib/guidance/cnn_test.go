package guidance

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
	"github.com/scoresde/scoresde/toy"
)

// halves draws h×w×1 images of two classes: class 0 has a bright top half and a dark bottom half,
// class 1 the reverse (±0.5), with N(0, 0.3²) pixel noise, in [−1, 1]-scale data.
type halves struct{ h, w int }

func (d halves) Dim() int { return d.h * d.w }

func (d halves) Sample(r *rand.Rand, n int) [][]float64 {
	x, _ := d.SampleLabeled(r, n)
	return x
}

func (d halves) SampleLabeled(r *rand.Rand, n int) ([][]float64, []int) {
	x := make([][]float64, n)
	labels := make([]int, n)
	for i := range x {
		labels[i] = r.IntN(2)
		img := make([]float64, d.h*d.w)
		for p := range img {
			v := 0.5
			if (p/d.w < d.h/2) != (labels[i] == 0) {
				v = -0.5
			}
			img[p] = v + 0.3*r.NormFloat64()
		}
		x[i] = img
	}
	return x, labels
}

func randomImages(n, d int, seed uint64) *tensors.Tensor {
	r := toy.NewRand(seed)
	x := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = r.NormFloat64()
		}
	}
	t, _ := sampling.FromPoints(x, dtypes.Float32)
	return t
}

func TestCNNClassifierShapesAndGradients(t *testing.T) {
	b := backend.MustNew()
	net := NewCNNClassifier(7, 6, 3, 4)
	p, err := net.Init(1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Count(), 34704+144*3+65*4; got != want {
		t.Errorf("%d trainable parameters, want %d", got, want)
	}
	for _, c := range [][2]int{{1, 10}, {3, 10}} {
		q, _ := NewCNNClassifier(28, 28, c[0], c[1]).Init(0)
		t.Logf("%d channels, %d classes: %d trainable parameters", c[0], c[1], q.Count())
	}
	x := randomImages(5, 7*6*3, 2)
	times := tensors.FromFlatDataAndDimensions([]float32{0.01, 0.2, 0.5, 0.8, 1}, 5)
	outs := MustExecOnceN(b, func(in []*Node) []*Node {
		params, x, tt := in[:len(p.Values)], in[len(p.Values)], in[len(p.Values)+1]
		logits := net.Forward(params, x, tt)
		scalarT := net.Forward(params, Reshape(x, 5, 7, 6, 3), Scalar(x.Graph(), dtypes.Float32, 0.3))
		loss := ReduceAllSum(Slice(LogSoftmax(logits, -1), AxisRange(), AxisElem(1)))
		grads := Gradient(loss, append(append([]*Node{}, params[1:]...), x)...)
		sq := ScalarZero(x.Graph(), dtypes.Float32)
		for _, g := range grads[:len(grads)-1] {
			sq = Add(sq, ReduceAllSum(Square(g)))
		}
		return []*Node{logits, scalarT, sq, ReduceAllSum(Square(grads[len(grads)-1]))}
	}, append(toAny(p.Values), x, times)...)
	if d := outs[0].Shape().Dimensions; !reflect.DeepEqual(d, []int{5, 4}) {
		t.Errorf("logits %v, want [5 4]", d)
	}
	if d := outs[1].Shape().Dimensions; !reflect.DeepEqual(d, []int{5, 4}) {
		t.Errorf("logits with a scalar time and [B,H,W,C] input %v, want [5 4]", d)
	}
	for i, name := range []string{"parameters", "input"} {
		g := float64(outs[2+i].Value().(float32))
		t.Logf("squared gradient norm over the %s: %.4g", name, g)
		if !(g > 0) || math.IsInf(g, 0) {
			t.Errorf("gradient over the %s has squared norm %v, want finite and > 0", name, g)
		}
	}
	// The classifier plugs into LearnedClassGrad: ∇x log p_t(k | x) shaped like x.
	grad, err := LearnedClassGrad(net, p.Values, 2)
	if err != nil {
		t.Fatal(err)
	}
	g := MustExecOnce(b, func(x *Node) *Node { return grad(x, Scalar(x.Graph(), dtypes.Float32, 0.4)) }, x)
	if d := g.Shape().Dimensions; !reflect.DeepEqual(d, []int{5, 7 * 6 * 3}) {
		t.Errorf("class gradient %v, want [5 %d]", d, 7*6*3)
	}
	for _, v := range tensors.MustCopyFlatData[float32](g) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("class gradient is not finite")
		}
	}
	if _, err := LearnedClassGrad(net, p.Values, 4); err == nil {
		t.Error("class 4 of a 4-class classifier accepted")
	}
}

func toAny(v []*tensors.Tensor) []any {
	out := make([]any, len(v))
	for i, t := range v {
		out[i] = t
	}
	return out
}

func TestCNNClassifierSpec(t *testing.T) {
	net := &CNNClassifier{H: 8, W: 12, C: 3, Channels: []int{8, 24}, Classes: 5, EmbedDim: 32, FourierScale: 7}
	raw, err := json.Marshal(net.Spec())
	if err != nil {
		t.Fatal(err)
	}
	var spec nets.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	back, err := nets.FromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, net) {
		t.Errorf("spec %s rebuilt %+v, want %+v", raw, back, net)
	}
	p1, _ := net.Init(3)
	p2, _ := back.Init(3)
	if !reflect.DeepEqual(p1.Names, p2.Names) || p1.Count() != p2.Count() {
		t.Error("the rebuilt classifier has other parameters")
	}
	for _, bad := range []nets.Spec{
		{Kind: "cnn-classifier", Hidden: []int{8}, Out: 2, FourierFeatures: 8, FourierScale: 1},
		{Kind: "cnn-classifier", Image: []int{4, 4, 1}, Out: 2, FourierFeatures: 8, FourierScale: 1},
		{Kind: "cnn-classifier", Image: []int{4, 4, 1}, Hidden: []int{8}, Out: 1, FourierFeatures: 8, FourierScale: 1},
		{Kind: "cnn-classifier", Image: []int{4, 4, 1}, Hidden: []int{8}, Out: 2, FourierFeatures: 7, FourierScale: 1},
		{Kind: "cnn-classifier", Image: []int{4, 4, 1}, Hidden: []int{8}, Out: 2, FourierFeatures: 8},
		{Kind: "cnn-classifier", Dim: 15, Image: []int{4, 4, 1}, Hidden: []int{8}, Out: 2, FourierFeatures: 8, FourierScale: 1},
	} {
		if _, err := nets.FromSpec(bad); err == nil {
			t.Errorf("bad spec %+v accepted", bad)
		}
	}
	for c, want := range map[int]int{1: 1, 6: 1, 8: 2, 12: 3, 16: 4, 64: 16, 256: 32, 100: 25, 132: 22} {
		if g := cnnGroups(c); g != want || c%g != 0 {
			t.Errorf("%d channels: %d groups, want %d", c, g, want)
		}
	}
}

// accuracy is the share of n images of d (perturbed by s at time tt) that the classifier labels right.
func accuracy(t *testing.T, net nets.Net, params []*tensors.Tensor, s sde.SDE, d halves, tt float64, n int) float64 {
	x, labels := d.SampleLabeled(toy.NewRand(77), n)
	acc, err := ClassifierAccuracy(backend.MustNew(), net, params, s, x, labels, tt, 5)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// TestCNNClassifierTrains trains the time-conditional classifier on noisy 8×8 images of two classes
// (bright top or bottom half) with ClassifierObjective under VP: at small t it labels ≥ 90% of fresh
// images right, and at t = 1, where x_t is nearly pure noise, it is near chance.
func TestCNNClassifierTrains(t *testing.T) {
	b := backend.MustNew()
	s := sde.NewVP()
	d := halves{8, 8}
	net := NewCNNClassifier(8, 8, 1, 2)
	cfg := train.Default(s)
	cfg.Steps, cfg.Batch, cfg.Seed, cfg.EMA = 300, 64, 1, 0.99
	tr, err := train.New(b, net, s, d, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	tr.Objective = ClassifierObjective(s, net, 1e-3)
	before := map[float64]float64{}
	for _, tt := range []float64{0.01, 0.3, 1} {
		before[tt] = accuracy(t, net, tr.State.EMA, s, d, tt, 1000)
	}
	start := time.Now()
	if err := tr.Run(nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps of batch %d in %.1fs, loss %.3f → %.3f (means of 20 steps)", cfg.Steps, cfg.Batch, time.Since(start).Seconds(),
		train.MeanTail(tr.State.Losses[:20], 20), train.MeanTail(tr.State.Losses, 20))
	for _, tt := range []float64{0.01, 0.3, 1} {
		acc := accuracy(t, net, tr.State.EMA, s, d, tt, 1000)
		t.Logf("t=%.2f: accuracy %.3f (untrained %.3f)", tt, acc, before[tt])
		switch {
		case tt < 0.1 && acc < 0.9:
			t.Errorf("t=%.2f: accuracy %.3f, want ≥ 0.9", tt, acc)
		case tt == 1 && math.Abs(acc-0.5) > 0.06:
			t.Errorf("t=1: accuracy %.3f, want near chance (0.5 ± 0.06: x_1 keeps 0.7%% of the image)", acc)
		}
	}
}
