package nets

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
)

// smallBigGAN is an 8×8×2 NCSN++ with every BigGAN-side feature on: FIR, residual input pyramid,
// Fourier features of log σ, attention at 4 pixels, skip rescale.
func smallBigGAN() *NCSNpp {
	return &NCSNpp{
		Image: [3]int{8, 8, 2}, NF: 8, ChMult: []int{1, 2}, NumResBlocks: 1, AttnResolutions: []int{4},
		Dropout: 0.1, SkipRescale: true, ResblockType: "biggan", Embedding: "fourier", FourierScale: 16,
		SigmaMin: 0.01, SigmaMax: 50, ProgressiveInput: "residual", ProgressiveOutput: "none", FIR: true,
	}
}

// smallDDPM is an 8×8×1 DDPM++ with DDPM blocks, conv resampling and the positional embedding.
func smallDDPM() *NCSNpp {
	return &NCSNpp{
		Image: [3]int{8, 8, 1}, NF: 8, ChMult: []int{1, 2, 2}, NumResBlocks: 1, AttnResolutions: []int{4},
		ResblockType: "ddpm", Embedding: "positional", ProgressiveInput: "none", ProgressiveOutput: "none",
		Centered: true,
	}
}

func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// runGraph compiles fn once and runs it on args.
func runGraph(t *testing.T, fn func(in []*Node) []*Node, args ...any) []*tensors.Tensor {
	t.Helper()
	exec, err := NewExec(backend.MustNew(), fn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func paramArgs(args []any, p *Params) []any {
	for _, v := range p.Values {
		args = append(args, v)
	}
	return args
}

func allFinite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// TestNCSNppShapes checks that the output has the input's shape, flattened or not, for a batch t
// and a scalar t, and that both layouts give the same values.
func TestNCSNppShapes(t *testing.T) {
	for _, n := range []*NCSNpp{smallBigGAN(), smallDDPM()} {
		p, err := n.Init(3)
		if err != nil {
			t.Fatal(err)
		}
		h, w, c := n.Image[0], n.Image[1], n.Image[2]
		r := rand.New(rand.NewPCG(1, 2))
		x := randFloats(r, 3*h*w*c)
		ts := []float32{0.1, 0.5, 0.9}
		out := runGraph(t, func(in []*Node) []*Node {
			flat := n.Forward(in[2:], in[0], in[1])
			img := n.Forward(in[2:], Reshape(in[0], 3, h, w, c), in[1])
			scalar := n.Forward(in[2:], in[0], Const(in[0].Graph(), float32(0.5)))
			return []*Node{flat, img, scalar}
		}, paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 3, h*w*c), ts}, p)...)
		if got := out[0].Shape().Dimensions; !slices.Equal(got, []int{3, h * w * c}) {
			t.Errorf("%s: flat output shape %v, want [3 %d]", n.ResblockType, got, h*w*c)
		}
		if got := out[1].Shape().Dimensions; !slices.Equal(got, []int{3, h, w, c}) {
			t.Errorf("%s: image output shape %v, want [3 %d %d %d]", n.ResblockType, got, h, w, c)
		}
		flat, img, scalar := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), tensors.MustCopyFlatData[float32](out[2])
		if !allFinite(flat) || !slices.Equal(flat, img) {
			t.Errorf("%s: flat and image outputs differ or are not finite", n.ResblockType)
		}
		// The middle image has t = 0.5 in both calls.
		s := h * w * c
		for i := s; i < 2*s; i++ {
			if math.Abs(float64(scalar[i]-flat[i])) > 1e-5 {
				t.Fatalf("%s: scalar t differs from the batch t at %d: %g vs %g", n.ResblockType, i, scalar[i], flat[i])
			}
		}
	}
}

// TestNCSNppGradient checks that the gradient of a loss with respect to every trainable parameter
// is finite and non-zero (InitScale 1, so that no block starts as its skip connection).
func TestNCSNppGradient(t *testing.T) {
	for _, n := range []*NCSNpp{smallBigGAN(), smallDDPM()} {
		n.InitScale = 1
		p, err := n.Init(5)
		if err != nil {
			t.Fatal(err)
		}
		h, w, c := n.Image[0], n.Image[1], n.Image[2]
		r := rand.New(rand.NewPCG(3, 4))
		x, target := randFloats(r, 2*h*w*c), randFloats(r, 2*h*w*c)
		out := runGraph(t, func(in []*Node) []*Node {
			params := in[3:]
			loss := ReduceAllSum(Mul(n.Forward(params, in[0], in[1]), in[2]))
			var trainable []*Node
			for i, q := range params {
				if !p.Frozen[i] {
					trainable = append(trainable, q)
				}
			}
			return Gradient(loss, trainable...)
		}, paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 2, h*w*c), []float32{0.3, 0.7},
			tensors.FromFlatDataAndDimensions(target, 2, h*w*c)}, p)...)
		k := 0
		for i, name := range p.Names {
			if p.Frozen[i] {
				continue
			}
			g := tensors.MustCopyFlatData[float32](out[k])
			k++
			if !allFinite(g) {
				t.Errorf("%s: gradient of %s is not finite", n.ResblockType, name)
			}
			if !slices.ContainsFunc(g, func(v float32) bool { return v != 0 }) {
				t.Errorf("%s: gradient of %s is zero", n.ResblockType, name)
			}
		}
		if k != len(out) {
			t.Fatalf("%d gradients for %d trainable parameters", len(out), k)
		}
	}
}

// TestNCSNppSpecRoundTrip rebuilds the network from its JSON Spec and checks the configuration,
// the parameter count, the drawn parameters and the output.
func TestNCSNppSpecRoundTrip(t *testing.T) {
	n := smallBigGAN()
	n.InitScale = 0.5
	raw, err := json.Marshal(n.Spec())
	if err != nil {
		t.Fatal(err)
	}
	var s Spec
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	net, err := FromSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := net.(*NCSNpp)
	if !ok || !reflect.DeepEqual(m, n) {
		t.Fatalf("rebuilt %+v from %s, want %+v", net, raw, n)
	}
	pn, err := n.Init(7)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := m.Init(7)
	if err != nil {
		t.Fatal(err)
	}
	count, _ := m.NumParams()
	if pn.Count() != pm.Count() || pm.Count() != count {
		t.Fatalf("parameter counts %d, %d, NumParams %d", pn.Count(), pm.Count(), count)
	}
	for i := range pn.Values {
		if pn.Names[i] != pm.Names[i] || !slices.Equal(tensors.MustCopyFlatData[float32](pn.Values[i]), tensors.MustCopyFlatData[float32](pm.Values[i])) {
			t.Fatalf("parameter %d (%s) differs after the round trip", i, pn.Names[i])
		}
	}
	other, _ := n.Init(8)
	if slices.Equal(tensors.MustCopyFlatData[float32](pn.Values[3]), tensors.MustCopyFlatData[float32](other.Values[3])) {
		t.Fatalf("seeds 7 and 8 drew the same %s", pn.Names[3])
	}
	x := randFloats(rand.New(rand.NewPCG(5, 6)), 2*8*8*2)
	out := runGraph(t, func(in []*Node) []*Node {
		return []*Node{n.Forward(in[2:], in[0], in[1]), m.Forward(in[2:], in[0], in[1])}
	}, paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 2, 128), []float32{0.2, 0.8}}, pn)...)
	if a, b := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]); !slices.Equal(a, b) {
		t.Fatalf("the rebuilt network gives a different output")
	}
}

// TestNCSNppPresets checks every preset's parameter count against the count of the reference
// constructor (models/ncsnpp.py, module by module) and the CIFAR-10 ones against the sizes the
// literature quotes (about 62 M for NCSN++/DDPM++ cont., 108 M for the deep ones); no forward pass.
func TestNCSNppPresets(t *testing.T) {
	want := map[string]int{
		"ncsnpp-cifar10":      62758787,
		"ncsnpp-deep-cifar10": 107586947,
		"ddpmpp-cifar10":      61804419,
		"ddpmpp-deep-cifar10": 106632579,
		"ddpmpp-mnist":        1752993,
		"ddpmpp-mnist-tiny":   80417,
	}
	if names := PresetNames(); len(names) != len(want) {
		t.Fatalf("presets %v, want %d", names, len(want))
	}
	quoted := map[string]float64{"ncsnpp-cifar10": 62e6, "ddpmpp-cifar10": 62e6, "ncsnpp-deep-cifar10": 108e6, "ddpmpp-deep-cifar10": 108e6}
	for _, name := range PresetNames() {
		n, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		count, err := n.NumParams()
		if err != nil || count != want[name] {
			t.Errorf("%s: %d parameters (%v), want %d", name, count, err, want[name])
		}
		if q, ok := quoted[name]; ok && math.Abs(float64(count)-q)/q > 0.02 {
			t.Errorf("%s: %d parameters, more than 2%% from the quoted %g", name, count, q)
		}
		if strings.Contains(name, "mnist") {
			p, err := n.Init(1)
			if err != nil || p.Count() != count {
				t.Errorf("%s: Init counts %d (%v), NumParams %d", name, p.Count(), err, count)
			}
		}
	}
	if testing.Short() {
		return
	}
	n, _ := Preset("ddpmpp-cifar10")
	p, err := n.Init(1)
	if err != nil || p.Count() != want["ddpmpp-cifar10"] {
		t.Errorf("ddpmpp-cifar10: Init counts %d (%v)", p.Count(), err)
	}
}

func TestNCSNppUnknownPreset(t *testing.T) {
	_, err := Preset("ncsnpp-imagenet")
	if err == nil || !strings.Contains(err.Error(), "ddpmpp-mnist-tiny") || !strings.Contains(err.Error(), "ncsnpp-cifar10") {
		t.Fatalf("unknown preset: error %v, want one listing the names", err)
	}
}

// TestNCSNppBadConfigs checks that each invalid field is refused with an error naming it.
func TestNCSNppBadConfigs(t *testing.T) {
	cases := []struct {
		field string
		edit  func(n *NCSNpp)
	}{
		{"Image", func(n *NCSNpp) { n.Image = [3]int{8, 0, 2} }},
		{"Image", func(n *NCSNpp) { n.Image = [3]int{9, 8, 2} }},
		{"NF", func(n *NCSNpp) { n.NF = 0 }},
		{"NF", func(n *NCSNpp) { n.NF = 10 }}, // 10 + 20 = 30 channels: min(30/4, 32) = 7 groups
		{"ChMult", func(n *NCSNpp) { n.ChMult = nil }},
		{"ChMult", func(n *NCSNpp) { n.ChMult = []int{1, 0} }},
		{"NumResBlocks", func(n *NCSNpp) { n.NumResBlocks = 0 }},
		{"AttnResolutions", func(n *NCSNpp) { n.AttnResolutions = []int{16} }},
		{"Dropout", func(n *NCSNpp) { n.Dropout = 1 }},
		{"InitScale", func(n *NCSNpp) { n.InitScale = -1 }},
		{"ResblockType", func(n *NCSNpp) { n.ResblockType = "resnet" }},
		{"Embedding", func(n *NCSNpp) { n.Embedding = "learned" }},
		{"FourierScale", func(n *NCSNpp) { n.FourierScale = 0 }},
		{"SigmaMin", func(n *NCSNpp) { n.SigmaMin, n.SigmaMax = 50, 0.01 }},
		{"ProgressiveInput", func(n *NCSNpp) { n.ProgressiveInput = "input_skip" }},
		{"ProgressiveOutput", func(n *NCSNpp) { n.ProgressiveOutput = "output_skip" }},
		{"FIR", func(n *NCSNpp) { n.ResblockType = "ddpm" }},
	}
	for _, c := range cases {
		n := smallBigGAN()
		c.edit(n)
		_, err := n.Init(1)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v, want one naming the field", c.field, err)
		}
		if _, err2 := FromSpec(n.Spec()); err2 == nil {
			t.Errorf("%s: FromSpec accepted the bad config", c.field)
		}
	}
	s := smallBigGAN().Spec()
	s.Image = nil
	if _, err := FromSpec(s); err == nil || !strings.Contains(err.Error(), "Image") {
		t.Errorf("spec without image: error %v", err)
	}
}

// initBlock draws the parameters of one block built by f in initMode.
func initBlock(n *NCSNpp, f func(b *ncsnBuilder)) *Params {
	b := &ncsnBuilder{n: n, mode: initMode, r: rand.New(rand.NewPCG(9, 9)), params: &Params{}}
	f(b)
	return b.params
}

func setParam(p *Params, name string, v []float32) {
	i := slices.Index(p.Names, name)
	p.Values[i] = tensors.FromFlatDataAndDimensions(v, p.Values[i].Shape().Dimensions...)
}

// naiveAttention is AttnBlockpp on one image x [H·W, C] (float64 loops): GroupNorm (2 groups),
// 1×1 q, k, v, softmax over positions, 1×1 output, residual sum.
func naiveAttention(x []float64, hw, c int, p *Params, rescale bool) []float64 {
	get := func(name string) []float64 {
		v := tensors.MustCopyFlatData[float32](p.Values[slices.Index(p.Names, name)])
		out := make([]float64, len(v))
		for i := range v {
			out[i] = float64(v[i])
		}
		return out
	}
	gamma, beta := get("a/GroupNorm_0/gamma"), get("a/GroupNorm_0/beta")
	groups := min(c/4, 32)
	h := make([]float64, len(x))
	gs := c / groups
	for g := range groups {
		mean, sq := 0.0, 0.0
		for i := range hw {
			for j := g * gs; j < (g+1)*gs; j++ {
				mean += x[i*c+j]
			}
		}
		mean /= float64(hw * gs)
		for i := range hw {
			for j := g * gs; j < (g+1)*gs; j++ {
				sq += (x[i*c+j] - mean) * (x[i*c+j] - mean)
			}
		}
		std := math.Sqrt(sq/float64(hw*gs) + 1e-6)
		for i := range hw {
			for j := g * gs; j < (g+1)*gs; j++ {
				h[i*c+j] = (x[i*c+j]-mean)/std*gamma[j] + beta[j]
			}
		}
	}
	nin := func(in []float64, name string) []float64 {
		w, b := get(name+"/W"), get(name+"/b")
		out := make([]float64, hw*c)
		for i := range hw {
			for o := range c {
				s := b[o]
				for k := range c {
					s += in[i*c+k] * w[k*c+o]
				}
				out[i*c+o] = s
			}
		}
		return out
	}
	q, k, v := nin(h, "a/NIN_0"), nin(h, "a/NIN_1"), nin(h, "a/NIN_2")
	o := make([]float64, hw*c)
	for i := range hw {
		logits := make([]float64, hw)
		top := math.Inf(-1)
		for j := range hw {
			for d := range c {
				logits[j] += q[i*c+d] * k[j*c+d]
			}
			logits[j] /= math.Sqrt(float64(c))
			top = max(top, logits[j])
		}
		sum := 0.0
		for j := range logits {
			logits[j] = math.Exp(logits[j] - top)
			sum += logits[j]
		}
		for j := range hw {
			for d := range c {
				o[i*c+d] += logits[j] / sum * v[j*c+d]
			}
		}
	}
	out := nin(o, "a/NIN_3")
	for i := range out {
		out[i] += x[i]
		if rescale {
			out[i] /= math.Sqrt2
		}
	}
	return out
}

// TestNCSNppAttention compares the attention block with the loops above for a random output
// layer, and checks that it is the identity (x/√2 with SkipRescale) when the output layer is zero.
func TestNCSNppAttention(t *testing.T) {
	const hw, c = 9, 8
	r := rand.New(rand.NewPCG(11, 12))
	x := randFloats(r, 2*hw*c)
	for _, rescale := range []bool{false, true} {
		n := smallBigGAN()
		n.SkipRescale = rescale
		for _, zero := range []bool{true, false} {
			p := initBlock(n, func(b *ncsnBuilder) { b.attention("a", nil, c) })
			setParam(p, "a/GroupNorm_0/gamma", randFloats(r, c))
			setParam(p, "a/GroupNorm_0/beta", randFloats(r, c))
			if zero {
				setParam(p, "a/NIN_3/W", make([]float32, c*c))
			} else {
				setParam(p, "a/NIN_3/W", randFloats(r, c*c))
				setParam(p, "a/NIN_3/b", randFloats(r, c))
			}
			out := runGraph(t, func(in []*Node) []*Node {
				b := &ncsnBuilder{n: n, mode: forwardMode, p: in[1:], dt: in[0].DType()}
				return []*Node{b.attention("a", in[0], c)}
			}, paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 2, 3, 3, c)}, p)...)
			got := tensors.MustCopyFlatData[float32](out[0])
			for img := range 2 {
				xi := make([]float64, hw*c)
				for i := range xi {
					xi[i] = float64(x[img*hw*c+i])
				}
				want := naiveAttention(xi, hw, c, p, rescale)
				for i := range want {
					if zero {
						id := xi[i]
						if rescale {
							id /= math.Sqrt2
						}
						if math.Abs(want[i]-id) > 1e-12 {
							t.Fatalf("reference loops: zero output layer is not the identity")
						}
					}
					if g := float64(got[img*hw*c+i]); math.Abs(g-want[i]) > 1e-4*(1+math.Abs(want[i])) {
						t.Fatalf("rescale %v zero %v: image %d value %d: %g, want %g", rescale, zero, img, i, g, want[i])
					}
				}
			}
		}
	}
}

// TestNCSNppResblockSkip checks both residual blocks: with the last convolution zero they return
// their input (divided by √2 with SkipRescale), and with it non-zero they do not.
func TestNCSNppResblockSkip(t *testing.T) {
	const c = 8
	r := rand.New(rand.NewPCG(13, 14))
	x := randFloats(r, 2*4*4*c)
	temb := randFloats(r, 2*4*c)
	for _, kind := range []string{"biggan", "ddpm"} {
		for _, rescale := range []bool{false, true} {
			n := smallBigGAN()
			n.NF, n.ResblockType, n.SkipRescale, n.FIR, n.InitScale = c, kind, rescale, false, 1
			p := initBlock(n, func(b *ncsnBuilder) { b.resblock("r", nil, c, c, false, false) })
			for _, zero := range []bool{true, false} {
				if zero {
					setParam(p, "r/Conv_1/W", make([]float32, 9*c*c))
				} else {
					setParam(p, "r/Conv_1/W", randFloats(r, 9*c*c))
				}
				out := runGraph(t, func(in []*Node) []*Node {
					b := &ncsnBuilder{n: n, mode: forwardMode, p: in[2:], dt: in[0].DType(), tembAct: in[1]}
					return []*Node{b.resblock("r", in[0], c, c, false, false)}
				}, paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 2, 4, 4, c), tensors.FromFlatDataAndDimensions(temb, 2, 4*c)}, p)...)
				got := tensors.MustCopyFlatData[float32](out[0])
				maxDiff := 0.0
				for i := range got {
					want := float64(x[i])
					if rescale {
						want /= math.Sqrt2
					}
					maxDiff = max(maxDiff, math.Abs(float64(got[i])-want))
				}
				if zero && maxDiff > 1e-6 {
					t.Errorf("%s rescale %v: zero last convolution: output differs from the skip by %g", kind, rescale, maxDiff)
				}
				if !zero && maxDiff < 1e-2 {
					t.Errorf("%s rescale %v: non-zero last convolution: output equals the skip", kind, rescale)
				}
			}
		}
	}
}

// naiveUpFIRDn is StyleGAN2's upfirdn2d on one channel x [h, w] with the 2-D kernel
// outer([1,3,3,1])/64·gain: zero insertion, padding, convolution (the kernel is symmetric) and
// decimation, as loops.
func naiveUpFIRDn(x []float64, h, w, up, down, pad0, pad1 int, gain float64) ([]float64, int, int) {
	taps := []float64{1, 3, 3, 1}
	uh, uw := h*up+pad0+pad1, w*up+pad0+pad1
	u := make([]float64, uh*uw)
	for i := range h {
		for j := range w {
			u[(i*up+pad0)*uw+j*up+pad0] = x[i*w+j]
		}
	}
	oh, ow := (uh-4)/down+1, (uw-4)/down+1
	out := make([]float64, oh*ow)
	for i := range oh {
		for j := range ow {
			s := 0.0
			for a := range 4 {
				for b := range 4 {
					s += u[(i*down+a)*uw+j*down+b] * taps[a] * taps[b] / 64 * gain
				}
			}
			out[i*ow+j] = s
		}
	}
	return out, oh, ow
}

// TestFIRFilter compares the separable FIR resampling with the loops for StyleGAN2's upsample_2d,
// downsample_2d and the padding of conv_downsample_2d.
func TestFIRFilter(t *testing.T) {
	const h, w = 6, 4
	r := rand.New(rand.NewPCG(15, 16))
	x := randFloats(r, h*w)
	xf := make([]float64, len(x))
	for i := range x {
		xf[i] = float64(x[i])
	}
	cases := []struct {
		name                     string
		pad0, pad1, upZeros, dwn int
		up                       int
		gain                     float64
		oh, ow                   int
	}{
		{"upsample_2d", 2, 1, 1, 1, 2, 4, 2 * h, 2 * w},
		{"downsample_2d", 1, 1, 0, 2, 1, 1, h / 2, w / 2},
		{"conv_downsample_2d padding", 2, 2, 0, 1, 1, 1, h + 1, w + 1},
	}
	for _, c := range cases {
		out := runGraph(t, func(in []*Node) []*Node {
			return []*Node{firFilter(in[0], c.pad0, c.pad1, c.upZeros, c.dwn)}
		}, tensors.FromFlatDataAndDimensions(x, 1, h, w, 1))
		want, oh, ow := naiveUpFIRDn(xf, h, w, c.up, c.dwn, c.pad0, c.pad1, c.gain)
		if d := out[0].Shape().Dimensions; oh != c.oh || ow != c.ow || d[1] != oh || d[2] != ow {
			t.Fatalf("%s: shape %v, loops %d×%d, want %d×%d", c.name, d, oh, ow, c.oh, c.ow)
		}
		for i, g := range tensors.MustCopyFlatData[float32](out[0]) {
			if math.Abs(float64(g)-want[i]) > 1e-5 {
				t.Fatalf("%s: value %d: %g, want %g", c.name, i, g, want[i])
			}
		}
	}
}

// TestNCSNppSigmaConditioning checks that with SigmaMin and SigmaMax the Fourier features see
// log σ(t): the network at t equals the one without sigmas at log σ(t), same parameters.
func TestNCSNppSigmaConditioning(t *testing.T) {
	withSigma := smallBigGAN()
	withSigma.InitScale = 1
	plain := smallBigGAN()
	plain.InitScale, plain.SigmaMin, plain.SigmaMax = 1, 0, 0
	p, err := withSigma.Init(2)
	if err != nil {
		t.Fatal(err)
	}
	ts := []float32{0.05, 0.6}
	logSigma := make([]float32, len(ts))
	for i, v := range ts {
		logSigma[i] = float32(math.Log(0.01) + float64(v)*math.Log(50/0.01))
	}
	x := randFloats(rand.New(rand.NewPCG(17, 18)), 2*128)
	out := runGraph(t, func(in []*Node) []*Node {
		return []*Node{withSigma.Forward(in[3:], in[0], in[1]), plain.Forward(in[3:], in[0], in[2]), plain.Forward(in[3:], in[0], in[1])}
	}, paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 2, 128), ts, logSigma}, p)...)
	a, b, c := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), tensors.MustCopyFlatData[float32](out[2])
	diffB, diffC := 0.0, 0.0
	for i := range a {
		diffB = max(diffB, math.Abs(float64(a[i]-b[i])))
		diffC = max(diffC, math.Abs(float64(a[i]-c[i])))
	}
	if diffB > 1e-3 || diffC < 1e-3 {
		t.Fatalf("log σ conditioning: differs by %g from the plain network at log σ(t) and by %g at t", diffB, diffC)
	}
}

// TestNCSNppDropout checks ForwardDropout: rate 0 is Forward, a positive rate changes the output
// and is reproducible from the same random-number state.
func TestNCSNppDropout(t *testing.T) {
	state, err := RNGStateFromSeed(3)
	if err != nil {
		t.Fatal(err)
	}
	x := randFloats(rand.New(rand.NewPCG(19, 20)), 2*64)
	for _, rate := range []float64{0, 0.5} {
		n := smallDDPM()
		n.Dropout, n.InitScale = rate, 1
		p, err := n.Init(4)
		if err != nil {
			t.Fatal(err)
		}
		exec, err := NewExec(backend.MustNew(), func(in []*Node) []*Node {
			drop, _ := n.ForwardDropout(in[3:], in[0], in[1], in[2])
			return []*Node{n.Forward(in[3:], in[0], in[1]), drop}
		})
		if err != nil {
			t.Fatal(err)
		}
		args := paramArgs([]any{tensors.FromFlatDataAndDimensions(x, 2, 64), []float32{0.4, 0.8}, state}, p)
		first, err := exec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		second, err := exec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		plain, drop := tensors.MustCopyFlatData[float32](first[0]), tensors.MustCopyFlatData[float32](first[1])
		if !allFinite(drop) || !slices.Equal(drop, tensors.MustCopyFlatData[float32](second[1])) {
			t.Fatalf("rate %g: dropout output not finite or not reproducible", rate)
		}
		if same := slices.Equal(plain, drop); same != (rate == 0) {
			t.Fatalf("rate %g: dropout output equal to Forward: %v", rate, same)
		}
	}
}

// TestMatMulOutT compares the matrix product of Conv2D with MatMul, values and gradients.
func TestMatMulOutT(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	x, w := randFloats(r, 37*12), randFloats(r, 12*5)
	out := runGraph(t, func(in []*Node) []*Node {
		a, b := MatMul(in[0], in[1]), matMulOutT(in[0], in[1])
		la, lb := ReduceAllSum(Square(a)), ReduceAllSum(Square(b))
		return append(append([]*Node{a, b}, Gradient(la, in[0], in[1])...), Gradient(lb, in[0], in[1])...)
	}, tensors.FromFlatDataAndDimensions(x, 37, 12), tensors.FromFlatDataAndDimensions(w, 12, 5))
	for _, pair := range [][2]int{{0, 1}, {2, 4}, {3, 5}} {
		a, b := tensors.MustCopyFlatData[float32](out[pair[0]]), tensors.MustCopyFlatData[float32](out[pair[1]])
		if !slices.Equal(out[pair[0]].Shape().Dimensions, out[pair[1]].Shape().Dimensions) {
			t.Fatalf("shapes %v and %v", out[pair[0]].Shape(), out[pair[1]].Shape())
		}
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-4*(1+math.Abs(float64(a[i]))) {
				t.Fatalf("output %d differs at %d: %g vs %g", pair[0], i, a[i], b[i])
			}
		}
	}
}
