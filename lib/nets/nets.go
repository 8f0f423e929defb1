// Package nets holds score networks: an MLP with Gaussian Fourier time features for toy data and
// a noise-conditional MLP for the discrete noise ladder of SMLD/NCSN, and the score
// parameterization of the reference implementation that turns a network into a score s(x, t).
//
// A network's parameters are plain tensors in a fixed order (Params), so training, EMA and
// checkpoints handle them as a list; Forward builds the graph from the matching parameter nodes.
package nets

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/scoresde/scoresde/lib/sde"
)

// Params is a network's parameters: Values[i] is named Names[i]; Frozen ones (random Fourier
// feature matrices) are never trained.
type Params struct {
	Names  []string
	Values []*tensors.Tensor
	Frozen []bool
}

// Count is the number of trainable scalars.
func (p *Params) Count() int {
	n := 0
	for i, v := range p.Values {
		if !p.Frozen[i] {
			n += v.Shape().Size()
		}
	}
	return n
}

func (p *Params) add(name string, v *tensors.Tensor, frozen bool) {
	p.Names = append(p.Names, name)
	p.Values = append(p.Values, v)
	p.Frozen = append(p.Frozen, frozen)
}

// Net is a score network architecture for points of dimension Dim.
type Net interface {
	// Init draws fresh parameters from seed (float32).
	Init(seed uint64) (*Params, error)
	// Forward builds the raw network output [B, d] for x [B, d] and t [B] or a scalar, from the
	// parameter nodes in the order of Init's Params.
	Forward(p []*Node, x, t *Node) *Node
	// Spec describes the architecture for checkpoints (see FromSpec).
	Spec() Spec
}

// Spec is the JSON description of a network, enough to rebuild it.
type Spec struct {
	Kind string `json:"kind"` // "mlp" or "ncsn-mlp"
	// Dim is the data dimension d; Hidden the widths of the hidden layers.
	Dim    int   `json:"dim"`
	Hidden []int `json:"hidden"`
	// FourierFeatures is the size of the time embedding (sin and cos halves); FourierScale the std
	// of its random frequencies (MLP).
	FourierFeatures int     `json:"fourier_features,omitempty"`
	FourierScale    float64 `json:"fourier_scale,omitempty"`
	// Levels and the VE noise range of the noise-conditional MLP.
	Levels   int     `json:"levels,omitempty"`
	SigmaMin float64 `json:"sigma_min,omitempty"`
	SigmaMax float64 `json:"sigma_max,omitempty"`
	// EmbedDim is the size of the noise-level embedding (noise-conditional MLP).
	EmbedDim int `json:"embed_dim,omitempty"`
	// Out and Classes: the MLP's output size and number of classes (0 when unused).
	Out     int `json:"out,omitempty"`
	Classes int `json:"classes,omitempty"`
	// Image is [H, W, C] for image networks.
	Image []int `json:"image,omitempty"`

	// The NCSN++ / DDPM++ architecture (kind "ncsnpp"), named as in the references' model config;
	// FourierScale, SigmaMin, SigmaMax and Image above complete it. See NCSNpp for each field.
	NF                int     `json:"nf,omitempty"`
	ChMult            []int   `json:"ch_mult,omitempty"`
	NumResBlocks      int     `json:"num_res_blocks,omitempty"`
	AttnResolutions   []int   `json:"attn_resolutions,omitempty"`
	Dropout           float64 `json:"dropout,omitempty"`
	SkipRescale       bool    `json:"skip_rescale,omitempty"`
	ResblockType      string  `json:"resblock_type,omitempty"`
	Embedding         string  `json:"embedding_type,omitempty"`
	ProgressiveInput  string  `json:"progressive_input,omitempty"`
	ProgressiveOutput string  `json:"progressive,omitempty"`
	Centered          bool    `json:"centered,omitempty"`
	FIR               bool    `json:"fir,omitempty"`
	InitScale         float64 `json:"init_scale,omitempty"`
}

// builders holds the network kinds that other files of the package or other packages register.
var builders = map[string]func(Spec) (Net, error){}

// Register makes FromSpec rebuild networks of the given kind with build (call it from an init
// function). It panics when the kind is already taken.
func Register(kind string, build func(Spec) (Net, error)) {
	if _, ok := builders[kind]; ok || kind == "mlp" || kind == "unet" || kind == "ncsn-mlp" {
		panic(fmt.Sprintf("nets: network kind %q registered twice", kind))
	}
	builders[kind] = build
}

// FromSpec rebuilds a network from its Spec.
func FromSpec(s Spec) (Net, error) {
	if build, ok := builders[s.Kind]; ok {
		return build(s)
	}
	switch s.Kind {
	case "mlp":
		m := &MLP{Dim: s.Dim, Hidden: s.Hidden, FourierFeatures: s.FourierFeatures, FourierScale: s.FourierScale, Out: s.Out, Classes: s.Classes}
		return m, m.validate()
	case "unet":
		if len(s.Image) != 3 {
			return nil, fmt.Errorf("unet spec without its image shape [H, W, C]")
		}
		u := &UNet{H: s.Image[0], W: s.Image[1], C: s.Image[2], Channels: s.Hidden, EmbedDim: s.FourierFeatures, FourierScale: s.FourierScale}
		return u, u.validate()
	case "ncsn-mlp":
		m := &NoiseConditionalMLP{Dim: s.Dim, Hidden: s.Hidden, Levels: s.Levels, SigmaMin: s.SigmaMin, SigmaMax: s.SigmaMax, EmbedDim: s.EmbedDim}
		return m, m.validate()
	}
	raw, _ := json.Marshal(s)
	kinds := []string{"mlp", "ncsn-mlp", "unet"}
	for k := range builders {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds[3:])
	return nil, fmt.Errorf("unknown network kind in %s: want one of %s (kinds that other packages register, such as cnn-classifier of lib/guidance, need that package imported)", raw, strings.Join(kinds, ", "))
}

// dense draws a [in, out] weight and [out] bias with PyTorch's default Linear initialization,
// U(−1/√in, 1/√in).
func dense(r *rand.Rand, in, out int) (w, b *tensors.Tensor) {
	k := 1 / math.Sqrt(float64(in))
	wv := make([]float32, in*out)
	for i := range wv {
		wv[i] = float32((2*r.Float64() - 1) * k)
	}
	bv := make([]float32, out)
	for i := range bv {
		bv[i] = float32((2*r.Float64() - 1) * k)
	}
	return tensors.FromFlatDataAndDimensions(wv, in, out), tensors.FromFlatDataAndDimensions(bv, out)
}

// swish is x·sigmoid(x) (SiLU), the references' activation.
func swish(x *Node) *Node { return Mul(x, Sigmoid(x)) }

// perPoint broadcasts a scalar t to [B] for a batch of B points.
func perPoint(t *Node, b int) *Node {
	if t.IsScalar() {
		return BroadcastToDims(t, b)
	}
	return t
}

// mlpBody applies the hidden layers (dense + swish) and the output layer to h, taking parameter
// nodes from p two at a time.
func mlpBody(p []*Node, h *Node) *Node {
	for i := 0; i+1 < len(p); i += 2 {
		h = Add(MatMul(h, ConvertDType(p[i], h.DType())), ExpandAxes(ConvertDType(p[i+1], h.DType()), 0))
		if i+2 < len(p) {
			h = swish(h)
		}
	}
	return h
}

// MLP is a multilayer perceptron s(x, t) for toy data: the input is x concatenated with Gaussian
// Fourier features [sin 2πWt, cos 2πWt] of the time (W ~ N(0, scale²), fixed), followed by dense
// layers with swish activations and a linear output of dimension Dim.
type MLP struct {
	// Dim is the data dimension d.
	Dim int
	// Hidden holds the hidden widths (default 3×128).
	Hidden []int
	// FourierFeatures is the size of the time embedding (default 64); FourierScale the std of its
	// frequencies (default 16, the references' fourier_scale).
	FourierFeatures int
	FourierScale    float64
	// Out is the output size (0: Dim, a score); a time-conditional classifier sets it to the number
	// of classes and reads the output as logits.
	Out int
	// Classes > 0 makes the network class-conditional: a one-hot label (with an extra "no label"
	// class at index Classes, for classifier-free guidance) joins the input; see ForwardLabeled.
	Classes int
}

// NewMLP returns the default toy MLP for dimension d: 3 hidden layers of 128, 64 Fourier features
// of scale 16.
func NewMLP(d int) *MLP {
	return &MLP{Dim: d, Hidden: []int{128, 128, 128}, FourierFeatures: 64, FourierScale: 16}
}

func (m *MLP) validate() error {
	switch {
	case m.Dim < 1:
		return fmt.Errorf("mlp: dimension %d, want ≥ 1", m.Dim)
	case len(m.Hidden) == 0:
		return fmt.Errorf("mlp: no hidden layers: give at least one width")
	case m.FourierFeatures < 2 || m.FourierFeatures%2 != 0:
		return fmt.Errorf("mlp: fourier features %d, want an even number ≥ 2", m.FourierFeatures)
	case !(m.FourierScale > 0):
		return fmt.Errorf("mlp: fourier scale %g, want > 0", m.FourierScale)
	}
	for _, h := range m.Hidden {
		if h < 1 {
			return fmt.Errorf("mlp: hidden width %d, want ≥ 1", h)
		}
	}
	return nil
}

// Spec describes the MLP.
func (m *MLP) Spec() Spec {
	return Spec{Kind: "mlp", Dim: m.Dim, Hidden: m.Hidden, FourierFeatures: m.FourierFeatures, FourierScale: m.FourierScale, Out: m.Out, Classes: m.Classes}
}

func (m *MLP) out() int {
	if m.Out > 0 {
		return m.Out
	}
	return m.Dim
}

// Init draws the Fourier frequencies (frozen) and the dense layers from seed.
func (m *MLP) Init(seed uint64) (*Params, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x6e657473))
	p := &Params{}
	freq := make([]float32, m.FourierFeatures/2)
	for i := range freq {
		freq[i] = float32(r.NormFloat64() * m.FourierScale)
	}
	p.add("fourier/W", tensors.FromFlatDataAndDimensions(freq, len(freq)), true)
	in := m.Dim + m.FourierFeatures
	if m.Classes > 0 {
		in += m.Classes + 1
	}
	for i, h := range append(append([]int(nil), m.Hidden...), m.out()) {
		w, b := dense(r, in, h)
		p.add(fmt.Sprintf("dense%d/W", i), w, false)
		p.add(fmt.Sprintf("dense%d/b", i), b, false)
		in = h
	}
	return p, nil
}

// Forward is the raw output [B, Out]; a class-conditional MLP is evaluated without a label.
func (m *MLP) Forward(p []*Node, x, t *Node) *Node {
	if m.Classes > 0 {
		return m.ForwardLabeled(p, x, t, Scalar(x.Graph(), dtypes.Int32, m.Classes))
	}
	return mlpBody(p[1:], m.features(p, x, t))
}

// features is [x, sin 2πWt, cos 2πWt].
func (m *MLP) features(p []*Node, x, t *Node) *Node {
	b := x.Shape().Dimensions[0]
	t = perPoint(ConvertDType(t, x.DType()), b)
	w := ConvertDType(p[0], x.DType())
	proj := MulScalar(Mul(Reshape(t, b, 1), Reshape(w, 1, m.FourierFeatures/2)), 2*math.Pi)
	return Concatenate([]*Node{x, Sin(proj), Cos(proj)}, 1)
}

// ForwardLabeled is the output of a class-conditional MLP for labels [B] or a scalar (int32; the
// value Classes means "no label").
func (m *MLP) ForwardLabeled(p []*Node, x, t, labels *Node) *Node {
	if m.Classes <= 0 {
		exceptions.Panicf("mlp: ForwardLabeled on a network without classes")
	}
	b := x.Shape().Dimensions[0]
	if labels.IsScalar() {
		labels = BroadcastToDims(labels, b)
	}
	onehot := OneHot(labels, m.Classes+1, x.DType())
	return mlpBody(p[1:], Concatenate([]*Node{m.features(p, x, t), onehot}, 1))
}

// NoiseConditionalMLP is NCSN's noise-conditional score network for the discrete VE ladder
// σ_1 > … > σ_L (geometric from SigmaMax to SigmaMin): the noise level's index selects a learned
// embedding that is concatenated with x. Its output is the score itself (NCSN sets no σ scaling).
type NoiseConditionalMLP struct {
	Dim                int
	Hidden             []int
	Levels             int
	SigmaMin, SigmaMax float64
	// EmbedDim is the size of the learned level embedding (default 32).
	EmbedDim int
}

// NewNoiseConditionalMLP returns the default for dimension d and the VE SDE's ladder of L levels.
func NewNoiseConditionalMLP(d, levels int, ve *sde.VE) *NoiseConditionalMLP {
	return &NoiseConditionalMLP{Dim: d, Hidden: []int{128, 128, 128}, Levels: levels, SigmaMin: ve.SigmaMin, SigmaMax: ve.SigmaMax, EmbedDim: 32}
}

func (m *NoiseConditionalMLP) validate() error {
	switch {
	case m.Dim < 1 || len(m.Hidden) == 0:
		return fmt.Errorf("ncsn-mlp: dimension %d and %d hidden layers, want ≥ 1 each", m.Dim, len(m.Hidden))
	case m.Levels < 2:
		return fmt.Errorf("ncsn-mlp: %d noise levels, want ≥ 2", m.Levels)
	case !(m.SigmaMin > 0) || !(m.SigmaMax > m.SigmaMin):
		return fmt.Errorf("ncsn-mlp: sigmas %g..%g, want 0 < sigma-min < sigma-max", m.SigmaMin, m.SigmaMax)
	case m.EmbedDim < 1:
		return fmt.Errorf("ncsn-mlp: embedding size %d, want ≥ 1", m.EmbedDim)
	}
	return nil
}

// Spec describes the network.
func (m *NoiseConditionalMLP) Spec() Spec {
	return Spec{Kind: "ncsn-mlp", Dim: m.Dim, Hidden: m.Hidden, Levels: m.Levels, SigmaMin: m.SigmaMin, SigmaMax: m.SigmaMax, EmbedDim: m.EmbedDim}
}

// Init draws the level embedding N(0, 1) and the dense layers from seed.
func (m *NoiseConditionalMLP) Init(seed uint64) (*Params, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x6e63736e))
	p := &Params{}
	emb := make([]float32, m.Levels*m.EmbedDim)
	for i := range emb {
		emb[i] = float32(r.NormFloat64())
	}
	p.add("embedding", tensors.FromFlatDataAndDimensions(emb, m.Levels, m.EmbedDim), false)
	in := m.Dim + m.EmbedDim
	for i, h := range append(append([]int(nil), m.Hidden...), m.Dim) {
		w, b := dense(r, in, h)
		p.add(fmt.Sprintf("dense%d/W", i), w, false)
		p.add(fmt.Sprintf("dense%d/b", i), b, false)
		in = h
	}
	return p, nil
}

// Level returns the ladder index of time t under the VE SDE σ(t) = σmin(σmax/σmin)^t: the
// references' discrete VE label round((T − t)(N − 1)) with T = 1, as an int32 node.
func (m *NoiseConditionalMLP) Level(t *Node) *Node {
	idx := Round(MulScalar(OneMinus(t), float64(m.Levels-1)))
	idx = Clip(idx, ZerosLike(idx), AddScalar(ZerosLike(idx), float64(m.Levels-1)))
	return ConvertDType(idx, dtypes.Int32)
}

// Forward is the raw output [B, d].
func (m *NoiseConditionalMLP) Forward(p []*Node, x, t *Node) *Node {
	b := x.Shape().Dimensions[0]
	t = perPoint(ConvertDType(t, x.DType()), b)
	emb := Gather(ConvertDType(p[0], x.DType()), Reshape(m.Level(t), b, 1)) // [B, E]
	return mlpBody(p[1:], Concatenate([]*Node{x, emb}, 1))
}

// ScoreFn turns a network into a score, with the reference parameterization: for VP and sub-VP
// the network predicts the noise ε and s = −net/std(t); for VE the network output is the score,
// divided by σ(t) when scaleBySigma (NCSNv2/NCSN++ style). p are the parameter nodes.
//
// For VE the network sees x/√(1 + σ(t)²) instead of x: the VE marginals reach a scale of σ_max
// (50 by default), which a small MLP cannot take as input, while the scaled input stays near unit
// scale at every noise level (image networks such as NCSN++ rely on normalization layers instead).
// VP and sub-VP inputs are already near unit scale and pass unchanged.
func ScoreFn(net Net, p []*Node, s sde.SDE, scaleBySigma bool) sde.ScoreFn {
	return LabeledScoreFn(net, p, s, scaleBySigma, nil)
}

// LabeledScoreFn is ScoreFn for a class-conditional MLP evaluated at labels ([B] or a scalar int32
// node; nil evaluates the network without a label).
func LabeledScoreFn(net Net, p []*Node, s sde.SDE, scaleBySigma bool, labels func(g *Graph) *Node) sde.ScoreFn {
	forward := net.Forward
	if labels != nil {
		forward = func(p []*Node, x, t *Node) *Node {
			return net.(*MLP).ForwardLabeled(p, x, t, labels(x.Graph()))
		}
	}
	return func(x, t *Node) *Node {
		_, std := s.MarginalProb(OnesLike(t), t)
		std = ConvertDType(std, x.DType())
		in := x
		predictsScore := s.Parameterization() == sde.PredictScore
		if predictsScore {
			in = Div(x, sde.PerSample(Sqrt(OnePlus(Square(std))), x))
		}
		out := forward(p, in, t)
		switch {
		case predictsScore && !scaleBySigma:
			return out
		case predictsScore:
			return Div(out, sde.PerSample(std, out))
		}
		return Neg(Div(out, sde.PerSample(std, out)))
	}
}
