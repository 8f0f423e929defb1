package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

func init() {
	Register("ncsnpp", func(s Spec) (Net, error) {
		if len(s.Image) != 3 {
			return nil, fmt.Errorf("ncsnpp: spec without its image shape [H, W, C] (Image)")
		}
		n := &NCSNpp{
			Image: [3]int{s.Image[0], s.Image[1], s.Image[2]}, NF: s.NF, ChMult: s.ChMult,
			NumResBlocks: s.NumResBlocks, AttnResolutions: s.AttnResolutions, Dropout: s.Dropout,
			SkipRescale: s.SkipRescale, ResblockType: s.ResblockType, Embedding: s.Embedding,
			FourierScale: s.FourierScale, SigmaMin: s.SigmaMin, SigmaMax: s.SigmaMax,
			ProgressiveInput: s.ProgressiveInput, ProgressiveOutput: s.ProgressiveOutput,
			Centered: s.Centered, FIR: s.FIR, InitScale: s.InitScale,
		}
		return n, n.validate()
	})
}

// NCSNpp is the NCSN++ / DDPM++ score network of Song et al. (ICLR 2021), the reference's
// models/ncsnpp.py with the blocks of models/layerspp.py: a U-Net of residual blocks (BigGAN-style
// or DDPM-style) with GroupNorm (min(C/4, 32) groups, ε = 1e-6) and swish, self-attention at chosen
// resolutions and in the middle, a time embedding added to every residual block, and optional
// progressive-growing input pyramid. DDPM++ is this network with FIR off and no progressive paths.
//
// Images are [B, H, W, C] channel-last; Forward also takes flattened [B, H·W·C] and returns the
// input's shape. The output is the raw network output (ScoreFn divides it by σ(t) for VE with
// scaleBySigma, as the reference's scale_by_sigma, or reads it as the noise for VP).
//
// Time conditioning: the network receives the SDE time t ∈ [0, 1] only, and embeds
//   - "positional": the DDPM sinusoidal embedding (NF features, max period 10000) of 999·t, the
//     label the reference passes to continuous VP/sub-VP models;
//   - "fourier": Gaussian Fourier features [sin 2πWs, cos 2πWs] (2·NF features, W ~ N(0,
//     FourierScale²), frozen) of s = log σ(t) = log SigmaMin + t·log(SigmaMax/SigmaMin) when SigmaMax
//     > 0 — exactly the reference's log σ conditioning of continuous VE models when SigmaMin and
//     SigmaMax are the SDE's — or of s = t when they are 0.
//
// Then two dense layers (to 4·NF, swish between) as in the reference.
//
// Dropout: Forward is deterministic (dropout off, as in evaluation); ForwardDropout applies dropout
// at rate Dropout with an explicit random-number state, for training code that threads one.
//
// Resampling: ResblockType "biggan" resamples inside residual blocks (nearest-neighbour 2×
// upsampling and 2×2 average pooling, or the [1, 3, 3, 1] FIR filter when FIR is set); "ddpm"
// uses separate resampling layers with a 3×3 convolution (the reference's resamp_with_conv=True,
// which all its configs set). FIR with "ddpm" blocks, the "input_skip" input pyramid and the
// progressive output paths are not implemented: Init refuses them with an error naming the field.
type NCSNpp struct {
	// Image is the image shape [H, W, C]; H and W must be divisible by 2^(len(ChMult)−1).
	Image [3]int
	// NF is the base width (channels of the first level); ChMult the width multiplier of each
	// resolution level (one level per entry, halving the resolution between levels).
	NF     int
	ChMult []int
	// NumResBlocks is the number of residual blocks per level in the downsampling path (the
	// upsampling path has one more per level).
	NumResBlocks int
	// AttnResolutions are the feature-map widths (pixels) at which a self-attention block follows
	// each residual block; each must be the width of some level.
	AttnResolutions []int
	// Dropout is the dropout rate before each residual block's last convolution, applied by
	// ForwardDropout only (Forward is deterministic).
	Dropout float64
	// SkipRescale divides every residual sum by √2.
	SkipRescale bool
	// ResblockType is "biggan" (ResnetBlockBigGANpp) or "ddpm" (ResnetBlockDDPMpp).
	ResblockType string
	// Embedding is "fourier" or "positional" (see the type's doc); FourierScale the std of the
	// Fourier frequencies; SigmaMin and SigmaMax, when set, make the Fourier input log σ(t).
	Embedding          string
	FourierScale       float64
	SigmaMin, SigmaMax float64
	// ProgressiveInput is "none" or "residual" (the reference's input pyramid with a strided 3×3
	// convolution merged into each downsampled feature map); "" means "none".
	ProgressiveInput string
	// ProgressiveOutput is the reference's "progressive": only "none" ("" means "none").
	ProgressiveOutput string
	// Centered says the data are in [−1, 1]; otherwise they are in [0, 1] and mapped to 2x − 1.
	Centered bool
	// FIR resamples with the [1, 3, 3, 1] FIR filter (StyleGAN2's upfirdn2d) instead of the naive
	// filters; biggan blocks only.
	FIR bool
	// InitScale scales the initialization of each block's last layer (0: the reference's 1e-10,
	// a near-zero start that makes every block start as its skip connection).
	InitScale float64
}

// presets holds the named configurations; each builder returns a fresh value.
var presets = map[string]func() *NCSNpp{
	"ncsnpp-cifar10":      NCSNppCIFAR10,
	"ncsnpp-deep-cifar10": NCSNppDeepCIFAR10,
	"ddpmpp-cifar10":      DDPMppCIFAR10,
	"ddpmpp-deep-cifar10": DDPMppDeepCIFAR10,
	"ddpmpp-mnist":        DDPMppMNIST,
	"ddpmpp-mnist-tiny":   DDPMppMNISTTiny,
}

// PresetNames lists the names Preset accepts, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for k := range presets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named configuration (see PresetNames and the constructors it maps to:
// NCSNppCIFAR10, NCSNppDeepCIFAR10, DDPMppCIFAR10, DDPMppDeepCIFAR10, DDPMppMNIST, DDPMppMNISTTiny).
func Preset(name string) (*NCSNpp, error) {
	if f, ok := presets[name]; ok {
		return f(), nil
	}
	return nil, fmt.Errorf("ncsnpp: unknown preset %q: want one of %s", name, strings.Join(PresetNames(), ", "))
}

// cifarBase holds the values shared by the reference's CIFAR-10 configs: nf 128, ch_mult
// (1, 2, 2, 2), attention at 16, dropout 0.1, skip rescale, BigGAN blocks, init_scale 0,
// Fourier scale 16, 32×32×3 images.
func cifarBase() *NCSNpp {
	return &NCSNpp{
		Image: [3]int{32, 32, 3}, NF: 128, ChMult: []int{1, 2, 2, 2}, NumResBlocks: 4,
		AttnResolutions: []int{16}, Dropout: 0.1, SkipRescale: true, ResblockType: "biggan",
		FourierScale: 16, ProgressiveInput: "none", ProgressiveOutput: "none",
	}
}

// NCSNppCIFAR10 is "ncsnpp-cifar10", the reference's VE NCSN++ continuous for CIFAR-10
// (ve/cifar10_ncsnpp_continuous.py): 4 blocks per level, FIR, residual input pyramid, Fourier
// features of log σ(t) for σ from 0.01 to 50, uncentered data. 62,758,787 trainable parameters
// (plus 128 frozen Fourier frequencies).
func NCSNppCIFAR10() *NCSNpp {
	n := cifarBase()
	n.Embedding, n.SigmaMin, n.SigmaMax = "fourier", 0.01, 50
	n.ProgressiveInput, n.FIR = "residual", true
	return n
}

// NCSNppDeepCIFAR10 is "ncsnpp-deep-cifar10", NCSNppCIFAR10 with 8 blocks per level
// (ve/cifar10_ncsnpp_deep_continuous.py): 107,586,947 trainable parameters (plus 128 frozen).
func NCSNppDeepCIFAR10() *NCSNpp {
	n := NCSNppCIFAR10()
	n.NumResBlocks = 8
	return n
}

// DDPMppCIFAR10 is "ddpmpp-cifar10", the reference's DDPM++ continuous for CIFAR-10
// (vp/cifar10_ddpmpp_continuous.py, also the sub-VP one): 4 BigGAN blocks per level, positional
// embedding of 999·t, no FIR, no progressive paths, centered data. 61,804,419 trainable parameters.
func DDPMppCIFAR10() *NCSNpp {
	n := cifarBase()
	n.Embedding, n.Centered = "positional", true
	return n
}

// DDPMppDeepCIFAR10 is "ddpmpp-deep-cifar10", DDPMppCIFAR10 with 8 blocks per level
// (vp/cifar10_ddpmpp_deep_continuous.py): 106,632,579 trainable parameters.
func DDPMppDeepCIFAR10() *NCSNpp {
	n := DDPMppCIFAR10()
	n.NumResBlocks = 8
	return n
}

// DDPMppMNIST is "ddpmpp-mnist", a small DDPM++ for 28×28×1 images: nf 32, ch_mult (1, 2, 2)
// (28 → 14 → 7 pixels), 2 blocks per level, attention at 7 pixels, positional embedding of 999·t,
// centered data. 1,752,993 trainable parameters.
func DDPMppMNIST() *NCSNpp {
	return &NCSNpp{
		Image: [3]int{28, 28, 1}, NF: 32, ChMult: []int{1, 2, 2}, NumResBlocks: 2,
		AttnResolutions: []int{7}, Dropout: 0.1, SkipRescale: true, ResblockType: "biggan",
		Embedding: "positional", FourierScale: 16, ProgressiveInput: "none", ProgressiveOutput: "none",
		Centered: true,
	}
}

// DDPMppMNISTTiny is "ddpmpp-mnist-tiny", DDPMppMNIST at nf 8 (widths 8, 16, 16) with 1 block per
// level, the CPU preset: 80,417 trainable parameters. A training step at batch 64 costs about 1.3×
// one of the half-width tutorial U-Net (NewSmallUNet) on the Go backend; at nf 16 (317,121
// parameters) it costs about 2.6×, as the full-resolution convolutions dominate.
func DDPMppMNISTTiny() *NCSNpp {
	n := DDPMppMNIST()
	n.NF, n.NumResBlocks = 8, 1
	return n
}

// Spec describes the network; FromSpec rebuilds it exactly.
func (n *NCSNpp) Spec() Spec {
	return Spec{
		Kind: "ncsnpp", Dim: n.Image[0] * n.Image[1] * n.Image[2], Image: n.Image[:],
		NF: n.NF, ChMult: n.ChMult, NumResBlocks: n.NumResBlocks, AttnResolutions: n.AttnResolutions,
		Dropout: n.Dropout, SkipRescale: n.SkipRescale, ResblockType: n.ResblockType,
		Embedding: n.Embedding, FourierScale: n.FourierScale, SigmaMin: n.SigmaMin, SigmaMax: n.SigmaMax,
		ProgressiveInput: n.ProgressiveInput, ProgressiveOutput: n.ProgressiveOutput,
		Centered: n.Centered, FIR: n.FIR, InitScale: n.InitScale,
	}
}

// levelWidths are the feature-map widths of the resolution levels.
func (n *NCSNpp) levelWidths() []int {
	w := make([]int, len(n.ChMult))
	for i := range w {
		w[i] = n.Image[1] >> i
	}
	return w
}

func (n *NCSNpp) validate() error {
	h, w, c := n.Image[0], n.Image[1], n.Image[2]
	switch {
	case h < 1 || w < 1 || c < 1:
		return fmt.Errorf("ncsnpp: Image %v, want [H, W, C] ≥ 1 each", n.Image)
	case n.NF < 4 || n.NF%2 != 0:
		return fmt.Errorf("ncsnpp: NF %d, want an even width ≥ 4", n.NF)
	case len(n.ChMult) == 0:
		return fmt.Errorf("ncsnpp: ChMult is empty, want one multiplier per resolution level")
	case n.NumResBlocks < 1:
		return fmt.Errorf("ncsnpp: NumResBlocks %d, want ≥ 1", n.NumResBlocks)
	case !(n.Dropout >= 0 && n.Dropout < 1):
		return fmt.Errorf("ncsnpp: Dropout %g, want a rate in [0, 1)", n.Dropout)
	case !(n.InitScale >= 0):
		return fmt.Errorf("ncsnpp: InitScale %g, want ≥ 0", n.InitScale)
	case n.ResblockType != "biggan" && n.ResblockType != "ddpm":
		return fmt.Errorf("ncsnpp: ResblockType %q, want \"biggan\" or \"ddpm\"", n.ResblockType)
	case n.Embedding != "fourier" && n.Embedding != "positional":
		return fmt.Errorf("ncsnpp: Embedding %q, want \"fourier\" or \"positional\"", n.Embedding)
	case n.Embedding == "fourier" && !(n.FourierScale > 0):
		return fmt.Errorf("ncsnpp: FourierScale %g, want > 0 with the Fourier embedding", n.FourierScale)
	case n.SigmaMin != 0 || n.SigmaMax != 0:
		if n.Embedding != "fourier" || !(n.SigmaMin > 0) || !(n.SigmaMax > n.SigmaMin) {
			return fmt.Errorf("ncsnpp: SigmaMin %g and SigmaMax %g: want 0 < SigmaMin < SigmaMax with the Fourier embedding, or both 0", n.SigmaMin, n.SigmaMax)
		}
	}
	switch n.ProgressiveInput {
	case "", "none", "residual":
	case "input_skip":
		return fmt.Errorf("ncsnpp: ProgressiveInput \"input_skip\" is not implemented: want \"none\" or \"residual\"")
	default:
		return fmt.Errorf("ncsnpp: ProgressiveInput %q, want \"none\" or \"residual\"", n.ProgressiveInput)
	}
	switch n.ProgressiveOutput {
	case "", "none":
	case "output_skip", "residual":
		return fmt.Errorf("ncsnpp: ProgressiveOutput %q is not implemented: want \"none\"", n.ProgressiveOutput)
	default:
		return fmt.Errorf("ncsnpp: ProgressiveOutput %q, want \"none\"", n.ProgressiveOutput)
	}
	if n.FIR && n.ResblockType == "ddpm" {
		return fmt.Errorf("ncsnpp: FIR resampling is implemented for ResblockType \"biggan\" only: set FIR false with \"ddpm\" blocks")
	}
	for i, m := range n.ChMult {
		if m < 1 {
			return fmt.Errorf("ncsnpp: ChMult[%d] = %d, want ≥ 1", i, m)
		}
	}
	if f := 1 << (len(n.ChMult) - 1); h%f != 0 || w%f != 0 {
		return fmt.Errorf("ncsnpp: Image %d×%d is not divisible by 2^%d for the %d levels of ChMult", h, w, len(n.ChMult)-1, len(n.ChMult))
	}
	widths := n.levelWidths()
	for _, r := range n.AttnResolutions {
		if !slices.Contains(widths, r) {
			return fmt.Errorf("ncsnpp: AttnResolutions has %d, which is not a level width (%v)", r, widths)
		}
	}
	b := &ncsnBuilder{n: n, mode: countMode}
	b.run(nil, nil)
	return b.err
}

// NumParams is the number of trainable scalars, counted without drawing them (Init(seed).Count()
// gives the same).
func (n *NCSNpp) NumParams() (int, error) {
	if err := n.validate(); err != nil {
		return 0, err
	}
	b := &ncsnBuilder{n: n, mode: countMode}
	b.run(nil, nil)
	return b.count, b.err
}

// Init draws the parameters from seed with the reference's initialization: convolutions and
// dense layers variance-scaling (scale 1, fan_avg, uniform; the blocks' last layers with scale
// InitScale, 0 meaning 1e-10; the attention's q, k, v and the DDPM blocks' 1×1 shortcut scale 0.1),
// zero biases, GroupNorm scale 1 and shift 0, and the Fourier frequencies N(0, FourierScale²)
// (frozen).
func (n *NCSNpp) Init(seed uint64) (*Params, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	b := &ncsnBuilder{n: n, mode: initMode, r: rand.New(rand.NewPCG(seed, 0x6e63736e7070)), params: &Params{}}
	b.run(nil, nil)
	return b.params, b.err
}

// Forward is the raw output, shaped like x ([B, H, W, C] or flattened [B, H·W·C]), for t [B] or a
// scalar; dropout is off.
func (n *NCSNpp) Forward(p []*Node, x, t *Node) *Node {
	out, _ := n.forward(p, x, t, nil)
	return out
}

// ForwardDropout is Forward with dropout at rate Dropout (inverted: kept values are scaled by
// 1/(1 − rate)), drawing from the random-number state rng (see graph.RNGStateFromSeed); it returns
// the output and the advanced state.
func (n *NCSNpp) ForwardDropout(p []*Node, x, t, rng *Node) (out, newRNG *Node) {
	if rng == nil {
		exceptions.Panicf("ncsnpp: ForwardDropout without a random-number state")
	}
	return n.forward(p, x, t, rng)
}

func (n *NCSNpp) forward(p []*Node, x, t, rng *Node) (*Node, *Node) {
	if err := n.validate(); err != nil {
		exceptions.Panicf("%v", err)
	}
	inShape := x.Shape().Dimensions
	bs := inShape[0]
	x = Reshape(x, bs, n.Image[0], n.Image[1], n.Image[2])
	b := &ncsnBuilder{n: n, mode: forwardMode, p: p, dt: x.DType(), rng: rng}
	h := b.run(x, perPoint(ConvertDType(t, x.DType()), bs))
	if b.next != len(p) {
		exceptions.Panicf("ncsnpp: %d parameter nodes given, the architecture uses %d", len(p), b.next)
	}
	return Reshape(h, inShape...), b.rng
}

// ncsnMode is what a walk through the architecture does with each layer.
type ncsnMode int

const (
	countMode   ncsnMode = iota // count the trainable scalars and check the widths
	initMode                    // draw the parameters
	forwardMode                 // build the graph from the parameter nodes
)

// ncsnBuilder walks the architecture once per use: counting, drawing or applying the layers in
// the same order, so that Init and Forward cannot disagree on the parameters. Outside forwardMode
// every node is nil and only the channel counts are tracked.
type ncsnBuilder struct {
	n     *NCSNpp
	mode  ncsnMode
	err   error
	count int

	r      *rand.Rand
	params *Params

	p       []*Node
	next    int
	dt      dtypes.DType
	tembAct *Node // swish of the time embedding [B, 4·NF]
	rng     *Node
}

func (b *ncsnBuilder) live() bool { return b.mode == forwardMode }

func (b *ncsnBuilder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}

// param declares the next parameter: counted, drawn with draw (nil: zeros) or taken from the
// parameter nodes (converted to the graph's dtype).
func (b *ncsnBuilder) param(name string, dims []int, frozen bool, draw func(v []float32)) *Node {
	size := 1
	for _, d := range dims {
		size *= d
	}
	switch b.mode {
	case countMode:
		if !frozen {
			b.count += size
		}
		return nil
	case initMode:
		v := make([]float32, size)
		if draw != nil {
			draw(v)
		}
		b.params.add(name, tensors.FromFlatDataAndDimensions(v, dims...), frozen)
		return nil
	}
	if b.next >= len(b.p) {
		exceptions.Panicf("ncsnpp: only %d parameter nodes given, %s needs more", len(b.p), name)
	}
	q := b.p[b.next]
	if !slices.Equal(q.Shape().Dimensions, dims) {
		exceptions.Panicf("ncsnpp: parameter %d (%s) has shape %v, want %v", b.next, name, q.Shape().Dimensions, dims)
	}
	b.next++
	return ConvertDType(q, b.dt)
}

// varianceScaling is the reference's default_init(scale): uniform with variance
// scale/((fanIn + fanOut)/2), scale 0 read as 1e-10.
func (b *ncsnBuilder) varianceScaling(scale float64, fanIn, fanOut int) func(v []float32) {
	if scale == 0 {
		scale = 1e-10
	}
	limit := math.Sqrt(3 * scale / (float64(fanIn+fanOut) / 2))
	return func(v []float32) {
		for i := range v {
			v[i] = float32((2*b.r.Float64() - 1) * limit)
		}
	}
}

func ones(v []float32) {
	for i := range v {
		v[i] = 1
	}
}

// conv is a k×k convolution with bias ([k, k, in, out] and [out]), stride and zero padding pad.
func (b *ncsnBuilder) conv(name string, x *Node, in, out, k, stride, pad int, scale float64) *Node {
	w := b.param(name+"/W", []int{k, k, in, out}, false, b.varianceScaling(scale, in*k*k, out*k*k))
	bias := b.param(name+"/b", []int{out}, false, nil)
	if !b.live() {
		return nil
	}
	var h *Node
	if k == 1 && stride == 1 && pad == 0 {
		h = pointwise(x, Reshape(w, in, out))
	} else {
		h = Conv2D(x, w, stride, pad)
	}
	return Add(h, Reshape(bias, 1, 1, 1, out))
}

// nin is the reference's NIN, a 1×1 convolution written as a [in, out] matrix with bias.
func (b *ncsnBuilder) nin(name string, x *Node, in, out int, scale float64) *Node {
	w := b.param(name+"/W", []int{in, out}, false, b.varianceScaling(scale, in, out))
	bias := b.param(name+"/b", []int{out}, false, nil)
	if !b.live() {
		return nil
	}
	return Add(pointwise(x, w), Reshape(bias, 1, 1, 1, out))
}

// pointwise multiplies the channels of x [B, H, W, in] by w [in, out].
func pointwise(x, w *Node) *Node {
	d := x.Shape().Dimensions
	out := w.Shape().Dimensions[1]
	return Reshape(matMulOutT(Reshape(x, d[0]*d[1]*d[2], d[3]), w), d[0], d[1], d[2], out)
}

// dense is a [in, out] layer with bias on x [B, in].
func (b *ncsnBuilder) dense(name string, x *Node, in, out int) *Node {
	w := b.param(name+"/W", []int{in, out}, false, b.varianceScaling(1, in, out))
	bias := b.param(name+"/b", []int{out}, false, nil)
	if !b.live() {
		return nil
	}
	return Add(MatMul(x, w), Reshape(bias, 1, out))
}

// groupNorm is GroupNorm with min(c/4, 32) groups and ε = 1e-6, as the reference's layers.
func (b *ncsnBuilder) groupNorm(name string, x *Node, c int) *Node {
	groups := min(c/4, 32)
	if groups < 1 || c%groups != 0 {
		b.fail("ncsnpp: a GroupNorm of %d channels (from NF %d and ChMult %v) does not split into min(C/4, 32) groups: use an NF that is a multiple of 4 (of 32 when the widths pass 128)", c, b.n.NF, b.n.ChMult)
		groups = 1
	}
	gamma := b.param(name+"/gamma", []int{c}, false, ones)
	beta := b.param(name+"/beta", []int{c}, false, nil)
	if !b.live() {
		return nil
	}
	// The per-channel scale gamma/√(var + ε) is formed on the small [B, 1, 1, G, C/G] statistics, so
	// that the full-size tensor sees one multiplication and one addition.
	d := x.Shape().Dimensions
	g := Reshape(x, d[0], d[1], d[2], groups, c/groups)
	mean := ReduceAndKeep(g, ReduceMean, 1, 2, 4)
	centered := Sub(g, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, 1, 2, 4)
	scale := Div(Reshape(gamma, 1, 1, 1, groups, c/groups), Sqrt(AddScalar(variance, 1e-6)))
	return Reshape(Add(Mul(centered, scale), Reshape(beta, 1, 1, 1, groups, c/groups)), d...)
}

func (b *ncsnBuilder) act(x *Node) *Node {
	if x == nil {
		return nil
	}
	return swish(x)
}

// residual is x + h, divided by √2 with SkipRescale.
func (b *ncsnBuilder) residual(x, h *Node) *Node {
	if !b.live() {
		return nil
	}
	s := Add(x, h)
	if b.n.SkipRescale {
		s = MulScalar(s, 1/math.Sqrt2)
	}
	return s
}

func (b *ncsnBuilder) dropout(h *Node) *Node {
	rate := b.n.Dropout
	if !b.live() || b.rng == nil || rate == 0 {
		return h
	}
	var u *Node
	b.rng, u = RandomUniform(b.rng, h.Shape())
	keep := ConvertDType(GreaterOrEqual(u, Scalar(h.Graph(), h.DType(), rate)), h.DType())
	return MulScalar(Mul(h, keep), 1/(1-rate))
}

// addTemb adds a dense projection of swish(temb) to each channel of h [B, H, W, out].
func (b *ncsnBuilder) addTemb(name string, h *Node, out int) *Node {
	d := b.dense(name, b.tembAct, 4*b.n.NF, out)
	if !b.live() {
		return nil
	}
	return Add(h, Reshape(d, d.Shape().Dimensions[0], 1, 1, out))
}

// resblock is a residual block of the configured type from in to out channels, up- or
// downsampling by 2 (BigGAN blocks only).
func (b *ncsnBuilder) resblock(name string, x *Node, in, out int, up, down bool) *Node {
	if b.n.ResblockType == "ddpm" {
		return b.resblockDDPM(name, x, in, out)
	}
	return b.resblockBigGAN(name, x, in, out, up, down)
}

// resblockBigGAN is ResnetBlockBigGANpp.
func (b *ncsnBuilder) resblockBigGAN(name string, x *Node, in, out int, up, down bool) *Node {
	h := b.act(b.groupNorm(name+"/GroupNorm_0", x, in))
	if b.live() {
		switch {
		case up:
			h, x = b.upsample2(h), b.upsample2(x)
		case down:
			h, x = b.downsample2(h), b.downsample2(x)
		}
	}
	h = b.conv(name+"/Conv_0", h, in, out, 3, 1, 1, 1)
	h = b.addTemb(name+"/Dense_0", h, out)
	h = b.act(b.groupNorm(name+"/GroupNorm_1", h, out))
	h = b.dropout(h)
	h = b.conv(name+"/Conv_1", h, out, out, 3, 1, 1, b.n.InitScale)
	if in != out || up || down {
		x = b.conv(name+"/Conv_2", x, in, out, 1, 1, 0, 1)
	}
	return b.residual(x, h)
}

// resblockDDPM is ResnetBlockDDPMpp (1×1 NIN shortcut when the width changes).
func (b *ncsnBuilder) resblockDDPM(name string, x *Node, in, out int) *Node {
	h := b.act(b.groupNorm(name+"/GroupNorm_0", x, in))
	h = b.conv(name+"/Conv_0", h, in, out, 3, 1, 1, 1)
	h = b.addTemb(name+"/Dense_0", h, out)
	h = b.act(b.groupNorm(name+"/GroupNorm_1", h, out))
	h = b.dropout(h)
	h = b.conv(name+"/Conv_1", h, out, out, 3, 1, 1, b.n.InitScale)
	if in != out {
		x = b.nin(name+"/NIN_0", x, in, out, 0.1)
	}
	return b.residual(x, h)
}

// attention is AttnBlockpp: GroupNorm, 1×1 q, k, v, softmax over the H·W positions of
// q·k/√C, a 1×1 output layer (scale InitScale) and the residual sum.
func (b *ncsnBuilder) attention(name string, x *Node, c int) *Node {
	h := b.groupNorm(name+"/GroupNorm_0", x, c)
	q := b.nin(name+"/NIN_0", h, c, c, 0.1)
	k := b.nin(name+"/NIN_1", h, c, c, 0.1)
	v := b.nin(name+"/NIN_2", h, c, c, 0.1)
	var o *Node
	if b.live() {
		d := x.Shape().Dimensions
		bs, hw := d[0], d[1]*d[2]
		w := MulScalar(Einsum("bqc,bkc->bqk", Reshape(q, bs, hw, c), Reshape(k, bs, hw, c)), 1/math.Sqrt(float64(c)))
		w = Softmax(w, -1)
		o = Reshape(Einsum("bqk,bkc->bqc", w, Reshape(v, bs, hw, c)), d...)
	}
	h = b.nin(name+"/NIN_3", o, c, c, b.n.InitScale)
	return b.residual(x, h)
}

// downsampleConv is the reference's Downsample with a convolution (FIR off): pad one row and
// column at the end, then a 3×3 convolution of stride 2.
func (b *ncsnBuilder) downsampleConv(name string, x *Node, in, out int) *Node {
	if b.live() {
		x = padEnd(x, 1)
	}
	return b.conv(name, x, in, out, 3, 2, 0, 1)
}

// upsampleConv is the reference's Upsample with a convolution: nearest 2×, then a 3×3 convolution.
func (b *ncsnBuilder) upsampleConv(name string, x *Node, c int) *Node {
	if b.live() {
		x = nearest2(x)
	}
	return b.conv(name, x, c, c, 3, 1, 1, 1)
}

// pyramidDownsample is the downsampling of the residual input pyramid: Downsample with a
// convolution, or with FIR the filter-then-strided-convolution of StyleGAN2's conv_downsample_2d.
func (b *ncsnBuilder) pyramidDownsample(name string, x *Node, in, out int) *Node {
	if !b.n.FIR {
		return b.downsampleConv(name, x, in, out)
	}
	if b.live() {
		x = firFilter(x, 2, 2, 0, 1)
	}
	return b.conv(name, x, in, out, 3, 2, 0, 1)
}

func (b *ncsnBuilder) upsample2(x *Node) *Node {
	if b.n.FIR {
		return firFilter(x, 2, 1, 1, 1)
	}
	return nearest2(x)
}

func (b *ncsnBuilder) downsample2(x *Node) *Node {
	if b.n.FIR {
		return firFilter(x, 1, 1, 0, 2)
	}
	return avgPool2(x)
}

// padEnd appends n zero rows and columns to x [B, H, W, C].
func padEnd(x *Node, n int) *Node {
	return Pad(x, ScalarZero(x.Graph(), x.DType()), compute.PadAxis{}, compute.PadAxis{End: n}, compute.PadAxis{End: n}, compute.PadAxis{})
}

// nearest2 is nearest-neighbour 2× upsampling of x [B, H, W, C] to [B, 2H, 2W, C].
func nearest2(x *Node) *Node {
	d := x.Shape().Dimensions
	y := BroadcastToDims(Reshape(x, d[0], d[1], 1, d[2], 1, d[3]), d[0], d[1], 2, d[2], 2, d[3])
	return Reshape(y, d[0], 2*d[1], 2*d[2], d[3])
}

// avgPool2 is 2×2 average pooling of x [B, H, W, C] (H, W even) to [B, H/2, W/2, C].
func avgPool2(x *Node) *Node {
	d := x.Shape().Dimensions
	return ReduceMean(Reshape(x, d[0], d[1]/2, 2, d[2]/2, 2, d[3]), 2, 4)
}

// firTaps is the [1, 3, 3, 1] FIR filter, normalized along one axis (its outer product with
// itself is the reference's 2-D kernel, normalized to sum 1).
var firTaps = [4]float64{1. / 8, 3. / 8, 3. / 8, 1. / 8}

// firFilter is StyleGAN2's upfirdn2d with the separable [1, 3, 3, 1] filter on the H and W axes of
// x [B, H, W, C]: insert up−1 zeros after each pixel, pad by pad0 before and pad1 after, convolve
// with the 4-tap filter (gain up per axis, so that a constant image keeps its value) and keep
// every down-th output. upsample_2d is (2, 1, up 2, down 1), downsample_2d (1, 1, 1, 2) and the
// padding before conv_downsample_2d's strided convolution (2, 2, 1, 1).
func firFilter(x *Node, pad0, pad1, upZeros, down int) *Node {
	gain := float64(upZeros + 1)
	for _, axis := range []int{1, 2} {
		pads := make([]compute.PadAxis, 4)
		pads[axis] = compute.PadAxis{Start: pad0, End: pad1 + upZeros, Interior: upZeros}
		xp := Pad(x, ScalarZero(x.Graph(), x.DType()), pads...)
		n := xp.Shape().Dimensions[axis]
		outLen := (n-len(firTaps))/down + 1
		var sum *Node
		for j, tap := range firTaps {
			ranges := []SliceAxisSpec{AxisRange(), AxisRange(), AxisRange(), AxisRange()}
			ranges[axis] = AxisRange(j, j+(outLen-1)*down+1).Stride(down)
			term := MulScalar(Slice(xp, ranges...), tap*gain)
			if sum == nil {
				sum = term
			} else {
				sum = Add(sum, term)
			}
		}
		x = sum
	}
	return x
}

// timeEmbedding is the embedding of t [B] before the dense layers: [B, NF] (positional) or
// [B, 2·NF] (Fourier), and its width.
func (b *ncsnBuilder) timeEmbedding(t *Node) (*Node, int) {
	n := b.n
	if n.Embedding == "fourier" {
		w := b.param("temb/fourier/W", []int{n.NF}, true, func(v []float32) {
			for i := range v {
				v[i] = float32(b.r.NormFloat64() * n.FourierScale)
			}
		})
		if !b.live() {
			return nil, 2 * n.NF
		}
		s := t
		if n.SigmaMax > 0 {
			logMin := math.Log(n.SigmaMin)
			s = AddScalar(MulScalar(t, math.Log(n.SigmaMax)-logMin), logMin)
		}
		bs := t.Shape().Dimensions[0]
		proj := MulScalar(Mul(Reshape(s, bs, 1), Reshape(w, 1, n.NF)), 2*math.Pi)
		return Concatenate([]*Node{Sin(proj), Cos(proj)}, 1), 2 * n.NF
	}
	if !b.live() {
		return nil, n.NF
	}
	half := n.NF / 2
	freqs := make([]float64, half)
	for i := range freqs {
		freqs[i] = math.Exp(-float64(i) * math.Log(10000) / float64(max(half-1, 1)))
	}
	bs := t.Shape().Dimensions[0]
	f := ConvertDType(Const(t.Graph(), freqs), b.dt)
	arg := Mul(Reshape(MulScalar(t, 999), bs, 1), Reshape(f, 1, half))
	return Concatenate([]*Node{Sin(arg), Cos(arg)}, 1), n.NF
}

// run walks the architecture of the reference's NCSNpp.forward; x is [B, H, W, C] and t [B]
// (both nil outside forwardMode).
func (b *ncsnBuilder) run(x, t *Node) *Node {
	n := b.n
	nf, c := n.NF, n.Image[2]
	temb, embedDim := b.timeEmbedding(t)
	temb = b.dense("temb/Dense_0", temb, embedDim, 4*nf)
	temb = b.dense("temb/Dense_1", b.act(temb), 4*nf, 4*nf)
	b.tembAct = b.act(temb)

	if b.live() && !n.Centered {
		x = AddScalar(MulScalar(x, 2), -1)
	}
	residualInput := n.ProgressiveInput == "residual"
	pyramid, pyramidCh := x, c

	widths := n.levelWidths()
	attnAt := func(level int) bool { return slices.Contains(n.AttnResolutions, widths[level]) }
	last := len(n.ChMult) - 1

	h := b.conv("in/Conv", x, c, nf, 3, 1, 1, 1)
	hs, hsCh := []*Node{h}, []int{nf}
	in := nf
	for level, mult := range n.ChMult {
		out := nf * mult
		for blk := range n.NumResBlocks {
			name := fmt.Sprintf("down%d/res%d", level, blk)
			h = b.resblock(name, hs[len(hs)-1], in, out, false, false)
			in = out
			if attnAt(level) {
				h = b.attention(fmt.Sprintf("down%d/attn%d", level, blk), h, in)
			}
			hs, hsCh = append(hs, h), append(hsCh, in)
		}
		if level == last {
			break
		}
		name := fmt.Sprintf("down%d/downsample", level)
		if n.ResblockType == "ddpm" {
			h = b.downsampleConv(name, hs[len(hs)-1], in, in)
		} else {
			h = b.resblock(name, hs[len(hs)-1], in, in, false, true)
		}
		if residualInput {
			pyramid = b.pyramidDownsample(fmt.Sprintf("down%d/pyramid", level), pyramid, pyramidCh, in)
			pyramid = b.residual(pyramid, h)
			h, pyramidCh = pyramid, in
		}
		hs, hsCh = append(hs, h), append(hsCh, in)
	}

	h = hs[len(hs)-1]
	h = b.resblock("mid/res0", h, in, in, false, false)
	h = b.attention("mid/attn", h, in)
	h = b.resblock("mid/res1", h, in, in, false, false)

	for level := last; level >= 0; level-- {
		out := nf * n.ChMult[level]
		for blk := range n.NumResBlocks + 1 {
			skip, skipCh := hs[len(hs)-1], hsCh[len(hsCh)-1]
			hs, hsCh = hs[:len(hs)-1], hsCh[:len(hsCh)-1]
			if b.live() {
				h = Concatenate([]*Node{h, skip}, -1)
			}
			h = b.resblock(fmt.Sprintf("up%d/res%d", level, blk), h, in+skipCh, out, false, false)
			in = out
		}
		if attnAt(level) {
			h = b.attention(fmt.Sprintf("up%d/attn", level), h, in)
		}
		if level == 0 {
			break
		}
		name := fmt.Sprintf("up%d/upsample", level)
		if n.ResblockType == "ddpm" {
			h = b.upsampleConv(name, h, in)
		} else {
			h = b.resblock(name, h, in, in, true, false)
		}
	}
	if len(hs) != 0 {
		exceptions.Panicf("ncsnpp: %d skip connections left unused", len(hs))
	}

	h = b.act(b.groupNorm("out/GroupNorm", h, in))
	return b.conv("out/Conv", h, in, c, 3, 1, 1, n.InitScale)
}
