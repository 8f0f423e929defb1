package guidance

import (
	"fmt"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/nets"
)

func init() {
	nets.Register("cnn-classifier", func(s nets.Spec) (nets.Net, error) {
		if len(s.Image) != 3 {
			return nil, fmt.Errorf("cnn-classifier spec without its image shape [H, W, C]")
		}
		c := &CNNClassifier{H: s.Image[0], W: s.Image[1], C: s.Image[2], Channels: s.Hidden, Classes: s.Out,
			EmbedDim: s.FourierFeatures, FourierScale: s.FourierScale}
		if s.Dim != 0 && s.Dim != c.H*c.W*c.C {
			return nil, fmt.Errorf("cnn-classifier spec: dimension %d does not match the image %d×%d×%d", s.Dim, c.H, c.W, c.C)
		}
		return c, c.validate()
	})
}

// CNNClassifier is a time-conditional image classifier p(y | x_t, t) for classifier guidance
// (ClassifierObjective trains it, LearnedClassGrad turns it into ∇x log p_t(y | x)). The time
// embedding is Gaussian Fourier features [sin 2πWt, cos 2πWt] of t (W ~ N(0, FourierScale²), fixed)
// through a dense layer and swish, as in the tutorial U-Net (nets.UNet). Each level is a 3×3
// convolution with stride 2 and zero padding 1 (H → ⌈H/2⌉), plus a dense projection of the
// embedding added to every pixel, then GroupNorm and swish; global average pooling and a dense layer
// give the logits [B, Classes].
//
// Its input is the perturbed image itself, channel-last [B, H, W, C] or flattened [B, H·W·C] in the
// data scale; GroupNorm after the first convolution makes the levels insensitive to the overall
// scale of x_t, which under VE grows to σ_max.
type CNNClassifier struct {
	// H, W, C are the image height, width and channels.
	H, W, C int
	// Channels are the widths of the convolution levels (each one halves the resolution).
	Channels []int
	// Classes is the number of classes K (the size of the logits).
	Classes int
	// EmbedDim is the size of the time embedding; FourierScale the std of its frequencies.
	EmbedDim     int
	FourierScale float64
}

// NewCNNClassifier returns the default classifier for h×w×c images and the given number of classes:
// widths 16, 32, 64 (three levels, 32×32 → 4×4), a time embedding of 64 with Fourier scale 16. It has
// 34,704 + 144·c + 65·classes trainable parameters, whatever h and w: 35,498 for MNIST (28×28×1, 10
// classes) and 35,786 for CIFAR-10 (32×32×3, 10 classes).
func NewCNNClassifier(h, w, c, classes int) *CNNClassifier {
	return &CNNClassifier{H: h, W: w, C: c, Channels: []int{16, 32, 64}, Classes: classes, EmbedDim: 64, FourierScale: 16}
}

func (m *CNNClassifier) validate() error {
	switch {
	case m.H < 1 || m.W < 1 || m.C < 1:
		return fmt.Errorf("cnn-classifier: image %d×%d×%d, want every size ≥ 1", m.H, m.W, m.C)
	case len(m.Channels) == 0:
		return fmt.Errorf("cnn-classifier: no convolution levels: give at least one width")
	case m.Classes < 2:
		return fmt.Errorf("cnn-classifier: %d classes, want ≥ 2", m.Classes)
	case m.EmbedDim < 2 || m.EmbedDim%2 != 0:
		return fmt.Errorf("cnn-classifier: time embedding %d, want an even size ≥ 2", m.EmbedDim)
	case !(m.FourierScale > 0) || math.IsInf(m.FourierScale, 0):
		return fmt.Errorf("cnn-classifier: Fourier scale %g, want > 0", m.FourierScale)
	}
	for _, c := range m.Channels {
		if c < 1 {
			return fmt.Errorf("cnn-classifier: width %d, want ≥ 1", c)
		}
	}
	return nil
}

// Spec describes the classifier: Kind "cnn-classifier", Hidden the widths, Image [H, W, C], Out the
// classes, FourierFeatures the embedding size.
func (m *CNNClassifier) Spec() nets.Spec {
	return nets.Spec{Kind: "cnn-classifier", Dim: m.H * m.W * m.C, Hidden: m.Channels, FourierFeatures: m.EmbedDim,
		FourierScale: m.FourierScale, Out: m.Classes, Image: []int{m.H, m.W, m.C}}
}

// cnnGroups is the number of GroupNorm groups at width c: c/4 (groups of 4 channels) capped at 32,
// lowered until it divides c.
func cnnGroups(c int) int {
	g := min(32, max(1, c/4))
	for c%g != 0 {
		g--
	}
	return g
}

// Init draws the parameters from seed (float32) with PyTorch's default initialization, uniform
// ±1/√fan_in, GroupNorm scales 1 and shifts 0; the Fourier frequencies are frozen. Order:
// embed/fourier, embed/W, embed/b, then per level conv/W [3,3,in,c], dense/W [E,c], dense/b [c],
// gnorm/gamma [c], gnorm/beta [c], then out/W [c_last, K] and out/b [K].
func (m *CNNClassifier) Init(seed uint64) (*nets.Params, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x636e6e63))
	p := &nets.Params{}
	add := func(name string, v *tensors.Tensor, frozen bool) {
		p.Names, p.Values, p.Frozen = append(p.Names, name), append(p.Values, v), append(p.Frozen, frozen)
	}
	uniform := func(fanIn int, dims ...int) *tensors.Tensor { return nets.Uniform(r, fanIn, dims...) }
	constant := nets.Constant
	e := m.EmbedDim
	freq := make([]float32, e/2)
	for i := range freq {
		freq[i] = float32(r.NormFloat64() * m.FourierScale)
	}
	add("embed/fourier", tensors.FromFlatDataAndDimensions(freq, e/2), true)
	add("embed/W", uniform(e, e, e), false)
	add("embed/b", uniform(e, e), false)
	in := m.C
	for i, c := range m.Channels {
		add(fmt.Sprintf("conv%d/W", i+1), uniform(9*in, 3, 3, in, c), false)
		add(fmt.Sprintf("dense%d/W", i+1), uniform(e, e, c), false)
		add(fmt.Sprintf("dense%d/b", i+1), uniform(e, c), false)
		add(fmt.Sprintf("gnorm%d/gamma", i+1), constant(1, c), false)
		add(fmt.Sprintf("gnorm%d/beta", i+1), constant(0, c), false)
		in = c
	}
	add("out/W", uniform(in, in, m.Classes), false)
	add("out/b", uniform(in, m.Classes), false)
	return p, nil
}

// Forward is the logits [B, Classes] for images x ([B, H, W, C] or flattened [B, H·W·C]) at times t
// ([B] or a scalar).
func (m *CNNClassifier) Forward(p []*Node, x, t *Node) *Node {
	b := x.Shape().Dimensions[0]
	x = Reshape(x, b, m.H, m.W, m.C)
	dt := x.DType()
	param := func(i int) *Node { return ConvertDType(p[i], dt) }
	t = ConvertDType(t, dt)
	if t.IsScalar() {
		t = BroadcastToDims(t, b)
	}
	e := m.EmbedDim
	proj := MulScalar(Mul(Reshape(t, b, 1), Reshape(param(0), 1, e/2)), 2*math.Pi)
	embed := Concatenate([]*Node{Sin(proj), Cos(proj)}, 1)
	embed = Add(MatMul(embed, param(1)), Reshape(param(2), 1, e))
	embed = Mul(embed, Sigmoid(embed))
	h := x
	next := 3
	for _, c := range m.Channels {
		h = nets.Conv2D(h, param(next), 2, 1)
		d := Add(MatMul(embed, param(next+1)), Reshape(param(next+2), 1, c))
		h = Add(h, Reshape(d, b, 1, 1, c))
		h = nets.GroupNorm(h, param(next+3), param(next+4), cnnGroups(c))
		h = Mul(h, Sigmoid(h))
		next += 5
	}
	pooled := ReduceMean(h, 1, 2) // [B, c_last]
	return Add(MatMul(pooled, param(next)), Reshape(param(next+1), 1, m.Classes))
}
