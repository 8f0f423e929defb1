package nets

import (
	"fmt"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// UNet is the score network of the MNIST tutorial (Song's "Score-Based Generative Modeling with
// SDEs" notebook): four 3×3 convolutions without padding and with strides 1, 2, 2, 2 (28 → 26 →
// 12 → 5 → 2 pixels), each followed by the addition of a dense projection of the time embedding,
// GroupNorm and swish, then four transposed convolutions back to 28×28 with skip concatenations.
// The time embedding is Gaussian Fourier features of t (scale 30) through a dense layer and swish.
// Images are [B, H, W, C] channel-last (flattened [B, H·W·C] inputs are reshaped). The tutorial
// divides the output by the kernel's std, which ScoreFn does for VE with scaleBySigma.
type UNet struct {
	// H, W, C are the image height, width and channels (28, 28, 1 for MNIST).
	H, W, C int
	// Channels are the widths of the four levels (tutorial: 32, 64, 128, 256).
	Channels []int
	// EmbedDim is the size of the time embedding (256); FourierScale the std of its frequencies (30).
	EmbedDim     int
	FourierScale float64
}

// NewTutorialUNet returns the tutorial's network for 28×28×1 images: channels 32/64/128/256,
// embedding 256, Fourier scale 30.
func NewTutorialUNet() *UNet {
	return &UNet{H: 28, W: 28, C: 1, Channels: []int{32, 64, 128, 256}, EmbedDim: 256, FourierScale: 30}
}

// NewSmallUNet returns the tutorial architecture at half width (channels 16/32/64/128, 373,969
// trainable parameters): about 2.5× faster per step than NewTutorialUNet, the CPU preset for MNIST.
func NewSmallUNet() *UNet {
	u := NewTutorialUNet()
	u.Channels = []int{16, 32, 64, 128}
	return u
}

func (u *UNet) validate() error {
	if len(u.Channels) != 4 {
		return fmt.Errorf("unet: %d channel widths, want 4", len(u.Channels))
	}
	for _, c := range u.Channels[1:] {
		if c%32 != 0 && c%4 != 0 {
			return fmt.Errorf("unet: width %d is not divisible into GroupNorm groups", c)
		}
	}
	if u.Channels[0]%4 != 0 {
		return fmt.Errorf("unet: first width %d must be divisible by 4 (GroupNorm with 4 groups)", u.Channels[0])
	}
	if u.EmbedDim < 2 || u.EmbedDim%2 != 0 || !(u.FourierScale > 0) {
		return fmt.Errorf("unet: embedding %d and Fourier scale %g: want an even size ≥ 2 and a positive scale", u.EmbedDim, u.FourierScale)
	}
	// The spatial sizes must come back to H×W: 3×3 kernels, strides 1, 2, 2, 2.
	h := u.H - 2
	for range 3 {
		h = (h-3)/2 + 1
	}
	if h < 1 || u.H != 28 || u.W != 28 {
		return fmt.Errorf("unet: the tutorial architecture is laid out for 28×28 images, got %d×%d", u.H, u.W)
	}
	return nil
}

// Spec describes the network.
func (u *UNet) Spec() Spec {
	return Spec{Kind: "unet", Dim: u.H * u.W * u.C, Hidden: u.Channels, FourierFeatures: u.EmbedDim, FourierScale: u.FourierScale, Image: []int{u.H, u.W, u.C}}
}

// groups is the number of GroupNorm groups at a width: 4 for the first level, else 32 (tutorial).
func groups(c int, first bool) int {
	if first || c%32 != 0 {
		return 4
	}
	return 32
}

// Init draws the parameters from seed with PyTorch's default initialization (uniform ±1/√fan_in).
func (u *UNet) Init(seed uint64) (*Params, error) {
	if err := u.validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x756e6574))
	p := &Params{}
	uniform := func(fanIn int, dims ...int) *tensors.Tensor { return Uniform(r, fanIn, dims...) }
	constant := Constant
	e := u.EmbedDim
	freq := make([]float32, e/2)
	for i := range freq {
		freq[i] = float32(r.NormFloat64() * u.FourierScale)
	}
	p.add("embed/fourier", tensors.FromFlatDataAndDimensions(freq, e/2), true)
	p.add("embed/W", uniform(e, e, e), false)
	p.add("embed/b", uniform(e, e), false)
	ch := u.Channels
	in := u.C
	// Encoder: conv (no bias), dense from the embedding, GroupNorm.
	for i, c := range ch {
		p.add(fmt.Sprintf("conv%d/W", i+1), uniform(9*in, 3, 3, in, c), false)
		p.add(fmt.Sprintf("dense%d/W", i+1), uniform(e, e, c), false)
		p.add(fmt.Sprintf("dense%d/b", i+1), uniform(e, c), false)
		p.add(fmt.Sprintf("gnorm%d/gamma", i+1), constant(1, c), false)
		p.add(fmt.Sprintf("gnorm%d/beta", i+1), constant(0, c), false)
		in = c
	}
	// Decoder: transposed convs 4 → 2 (each with dense + GroupNorm), then tconv1 to the image.
	dec := []struct{ in, out int }{{ch[3], ch[2]}, {2 * ch[2], ch[1]}, {2 * ch[1], ch[0]}}
	for i, d := range dec {
		level := 4 - i
		p.add(fmt.Sprintf("tconv%d/W", level), uniform(9*d.out, 3, 3, d.in, d.out), false)
		p.add(fmt.Sprintf("dense%d/W", 5+i), uniform(e, e, d.out), false)
		p.add(fmt.Sprintf("dense%d/b", 5+i), uniform(e, d.out), false)
		p.add(fmt.Sprintf("tgnorm%d/gamma", level), constant(1, d.out), false)
		p.add(fmt.Sprintf("tgnorm%d/beta", level), constant(0, d.out), false)
	}
	p.add("tconv1/W", uniform(9*u.C, 3, 3, 2*ch[0], u.C), false)
	p.add("tconv1/b", uniform(9*u.C, u.C), false)
	return p, nil
}

// Forward is the raw output, shaped like x ([B, H, W, C] or flattened [B, H·W·C]).
func (u *UNet) Forward(p []*Node, x, t *Node) *Node {
	inShape := x.Shape().Dimensions
	b := inShape[0]
	x = Reshape(x, b, u.H, u.W, u.C)
	dt := x.DType()
	param := func(i int) *Node { return ConvertDType(p[i], dt) }
	t = perPoint(ConvertDType(t, dt), b)
	e := u.EmbedDim
	proj := MulScalar(Mul(Reshape(t, b, 1), Reshape(param(0), 1, e/2)), 2*math.Pi)
	embed := swish(Add(MatMul(Concatenate([]*Node{Sin(proj), Cos(proj)}, 1), param(1)), Reshape(param(2), 1, e)))
	dense := func(wi int) *Node { // [B, 1, 1, C]
		d := Add(MatMul(embed, param(wi)), ExpandAxes(param(wi+1), 0))
		return Reshape(d, b, 1, 1, d.Shape().Dimensions[1])
	}
	next := 3
	var skips []*Node
	h := x
	for i, c := range u.Channels {
		stride := 2
		if i == 0 {
			stride = 1
		}
		h = Conv2D(h, param(next), stride, 0)
		h = Add(h, dense(next+1))
		h = swish(GroupNorm(h, param(next+3), param(next+4), groups(c, i == 0)))
		skips = append(skips, h)
		next += 5
	}
	outPads := []int{0, 1, 1}
	for i := range 3 {
		if i > 0 {
			h = Concatenate([]*Node{h, skips[3-i]}, -1)
		}
		w := param(next)
		h = ConvTranspose2D(h, w, 2, outPads[i])
		h = Add(h, dense(next+1))
		c := w.Shape().Dimensions[3]
		h = swish(GroupNorm(h, param(next+3), param(next+4), groups(c, false)))
		next += 5
	}
	h = Concatenate([]*Node{h, skips[0]}, -1)
	h = Add(ConvTranspose2D(h, param(next), 1, 0), Reshape(param(next+1), 1, 1, 1, u.C))
	return Reshape(h, inShape...)
}

// Uniform draws a float32 tensor of the given dimensions from U(−1/√fanIn, 1/√fanIn) with r,
// PyTorch's default initialization of convolutions and dense layers.
func Uniform(r *rand.Rand, fanIn int, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	k := 1 / math.Sqrt(float64(fanIn))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*r.Float64() - 1) * k)
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// Constant is a float32 vector [n] filled with c (GroupNorm's initial scale 1 and shift 0).
func Constant(c float32, n int) *tensors.Tensor {
	v := make([]float32, n)
	for i := range v {
		v[i] = c
	}
	return tensors.FromFlatDataAndDimensions(v, n)
}
