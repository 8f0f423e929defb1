package nets

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
)

// naiveConv is the textbook convolution (cross-correlation, as PyTorch's Conv2d) of x [B,H,W,Cin]
// with w [kh,kw,Cin,Cout], stride s, no padding.
func naiveConv(x []float64, b, h, wd, cin int, w []float64, kh, kw, cout, s int) ([]float64, int, int) {
	ho, wo := (h-kh)/s+1, (wd-kw)/s+1
	out := make([]float64, b*ho*wo*cout)
	for n := range b {
		for i := range ho {
			for j := range wo {
				for o := range cout {
					v := 0.0
					for di := range kh {
						for dj := range kw {
							for c := range cin {
								v += x[((n*h+i*s+di)*wd+j*s+dj)*cin+c] * w[((di*kw+dj)*cin+c)*cout+o]
							}
						}
					}
					out[((n*ho+i)*wo+j)*cout+o] = v
				}
			}
		}
	}
	return out, ho, wo
}

func randSlice(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// TestConv2D compares the im2col convolution with the textbook loops for strides 1 and 2.
func TestConv2D(t *testing.T) {
	be := backend.MustNew()
	r := rand.New(rand.NewPCG(1, 2))
	const b, h, wd, cin, cout, k = 2, 7, 6, 3, 4, 3
	x, w := randSlice(r, b*h*wd*cin), randSlice(r, k*k*cin*cout)
	for _, s := range []int{1, 2} {
		want, ho, wo := naiveConv(x, b, h, wd, cin, w, k, k, cout, s)
		out := MustExecOnce(be, func(x, w *Node) *Node { return Conv2D(x, w, s, 0) },
			tensors.FromFlatDataAndDimensions(x, b, h, wd, cin), tensors.FromFlatDataAndDimensions(w, k, k, cin, cout))
		if got := out.Shape().Dimensions; got[1] != ho || got[2] != wo {
			t.Fatalf("stride %d: shape %v, want [%d %d %d %d]", s, got, b, ho, wo, cout)
		}
		for i, v := range tensors.MustCopyFlatData[float64](out) {
			if math.Abs(v-want[i]) > 1e-9 {
				t.Fatalf("stride %d: value %d = %g, want %g", s, i, v, want[i])
			}
		}
	}
}

// TestConvTranspose2D checks the transposed convolution's output size and that it is the adjoint
// of the strided convolution: <conv(x), y> = <x, convT(y)> with the kernel flipped.
func TestConvTranspose2D(t *testing.T) {
	be := backend.MustNew()
	r := rand.New(rand.NewPCG(3, 4))
	const b, h, wd, cin, cout, k, s = 1, 9, 9, 2, 3, 3, 2
	x, w := randSlice(r, b*h*wd*cin), randSlice(r, k*k*cin*cout)
	ho, wo := (h-k)/s+1, (wd-k)/s+1
	y := randSlice(r, b*ho*wo*cout)
	// The adjoint uses w with kh, kw flipped and cin/cout swapped.
	wt := make([]float64, len(w))
	for di := range k {
		for dj := range k {
			for c := range cin {
				for o := range cout {
					wt[(((k-1-di)*k+(k-1-dj))*cout+o)*cin+c] = w[((di*k+dj)*cin+c)*cout+o]
				}
			}
		}
	}
	outs := MustExecOnceN(be, func(x, w, y, wt *Node) []*Node {
		cx := Conv2D(x, w, s, 0)
		ty := ConvTranspose2D(y, wt, s, 0)
		return []*Node{ReduceAllSum(Mul(cx, y)), ReduceAllSum(Mul(x, ty)), ty}
	}, tensors.FromFlatDataAndDimensions(x, b, h, wd, cin), tensors.FromFlatDataAndDimensions(w, k, k, cin, cout),
		tensors.FromFlatDataAndDimensions(y, b, ho, wo, cout), tensors.FromFlatDataAndDimensions(wt, k, k, cout, cin))
	if d := outs[2].Shape().Dimensions; d[1] != h || d[2] != wd {
		t.Fatalf("transposed output %v, want [1 %d %d %d]", d, h, wd, cin)
	}
	a, c := outs[0].Value().(float64), outs[1].Value().(float64)
	if math.Abs(a-c) > 1e-9*math.Abs(a) {
		t.Errorf("<conv x, y> = %g but <x, convT y> = %g", a, c)
	}
}

// TestGroupNorm: each group of the output has mean 0 and variance 1 before the affine part.
func TestGroupNorm(t *testing.T) {
	be := backend.MustNew()
	r := rand.New(rand.NewPCG(5, 6))
	x := randSlice(r, 2*4*4*8)
	for i := range x {
		x[i] = 3*x[i] + 2
	}
	out := MustExecOnce(be, func(x *Node) *Node {
		one := Reshape(OnesLike(Slice(x, AxisElem(0), AxisElem(0), AxisElem(0))), 8)
		y := GroupNorm(x, one, ZerosLike(one), 2)
		g := Reshape(y, 2, 16, 2, 4)
		return ReduceMean(g, 1, 3)
	}, tensors.FromFlatDataAndDimensions(x, 2, 4, 4, 8))
	for _, v := range tensors.MustCopyFlatData[float64](out) {
		if math.Abs(v) > 1e-9 {
			t.Fatalf("group mean %g, want 0", v)
		}
	}
}

// TestTutorialUNet builds the tutorial U-Net on a batch of 28×28 images: the output has the input's
// shape, and the gradient of a loss reaches every trainable parameter with finite values.
func TestTutorialUNet(t *testing.T) {
	be := backend.MustNew()
	u := NewTutorialUNet()
	p, err := u.Init(1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 2*28*28)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	args := []any{tensors.FromFlatDataAndDimensions(x, 2, 28, 28, 1), []float32{0.3, 0.9}}
	for _, v := range p.Values {
		args = append(args, v)
	}
	outs, err := ExecOnceN(be, func(in []*Node) []*Node {
		params := in[2:]
		out := u.Forward(params, in[0], in[1])
		loss := ReduceAllMean(Square(out))
		var trainable []*Node
		for i, q := range params {
			if !p.Frozen[i] {
				trainable = append(trainable, q)
			}
		}
		grads := Gradient(loss, trainable...)
		norm := ZerosLike(loss)
		for _, g := range grads {
			norm = Add(norm, ReduceAllSum(Square(g)))
		}
		return []*Node{out, norm}
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	if d := outs[0].Shape().Dimensions; len(d) != 4 || d[1] != 28 || d[2] != 28 || d[3] != 1 {
		t.Fatalf("output shape %v, want [2 28 28 1]", d)
	}
	if g := float64(outs[1].Value().(float32)); !(g > 0) || math.IsInf(g, 0) {
		t.Errorf("squared gradient norm %v", g)
	}
	t.Logf("%d trainable parameters", p.Count())
}
