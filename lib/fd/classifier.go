package fd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/nets"
)

// Image geometry the classifier is laid out for: MNIST's 28×28 grey-level digits.
const (
	// Side is the height and width of an image in pixels (28).
	Side = 28
	// Pixels is the number of values in one image, Side·Side·1 = 784.
	Pixels = Side * Side
	// Classes is the number of digit classes (10).
	Classes = 10
)

// pixelMean and pixelStd are the mean and standard deviation of MNIST's training pixels in
// [0, 1]; Forward standardizes its input with them.
const (
	pixelMean = 0.1307
	pixelStd  = 0.3081
)

// Arch describes the classifier's layers: a 3×3 convolution of Conv1 channels with stride 2
// (28×28 → 14×14), swish, a 3×3 convolution of Conv2 channels with stride 2 (14×14 → 7×7), swish,
// a dense layer of Features units with swish (the feature layer), and a dense layer to the 10
// class logits. Both convolutions pad by one pixel and carry a bias.
type Arch struct {
	// Conv1 and Conv2 are the channel counts of the two convolutions (default 32 and 64).
	Conv1 int `json:"conv1"`
	Conv2 int `json:"conv2"`
	// Features is the width of the feature layer, the dimension of the FD features (default 128).
	Features int `json:"features"`
}

// DefaultArch is the classifier used for FD-MNIST: 32 and 64 channels, 128 features (421,642
// parameters).
func DefaultArch() Arch { return Arch{Conv1: 32, Conv2: 64, Features: 128} }

// Validate reports a non-positive width.
func (a Arch) Validate() error {
	if a.Conv1 < 1 || a.Conv2 < 1 || a.Features < 1 {
		return fmt.Errorf("fd: classifier widths conv1=%d conv2=%d features=%d: want positive widths", a.Conv1, a.Conv2, a.Features)
	}
	return nil
}

// paramShapes lists the names and shapes of the parameters in the order Forward takes them.
func (a Arch) paramShapes() (names []string, dims [][]int) {
	flat := 7 * 7 * a.Conv2
	return []string{"conv1/W", "conv1/b", "conv2/W", "conv2/b", "dense1/W", "dense1/b", "dense2/W", "dense2/b"},
		[][]int{{3, 3, 1, a.Conv1}, {a.Conv1}, {3, 3, a.Conv1, a.Conv2}, {a.Conv2}, {flat, a.Features}, {a.Features}, {a.Features, Classes}, {Classes}}
}

// Classifier is an MNIST digit classifier whose feature layer gives the FD-MNIST features. Its
// parameters are float32 tensors in the order of Names. It keeps its compiled forward pass between
// calls, so one Classifier must not be used from several goroutines at once.
type Classifier struct {
	// Arch is the architecture.
	Arch Arch
	// Names[i] names Params[i]: conv1/W [3,3,1,C1], conv1/b [C1], conv2/W [3,3,C1,C2], conv2/b [C2],
	// dense1/W [7·7·C2, F], dense1/b [F], dense2/W [F, 10], dense2/b [10].
	Names  []string
	Params []*tensors.Tensor
	// TestAccuracy is the fraction of MNIST test digits classified correctly, as measured after
	// training (0 when unknown).
	TestAccuracy float64
	// Seed and Epochs record how the weights were trained (informational).
	Seed   uint64
	Epochs int

	exec    *Exec
	execFor compute.Backend
}

// NewClassifier draws fresh parameters for arch from seed: weights uniform in ±1/√fan_in
// (PyTorch's default for convolutions and dense layers), biases likewise.
func NewClassifier(arch Arch, seed uint64) (*Classifier, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x66642d6d))
	names, dims := arch.paramShapes()
	c := &Classifier{Arch: arch, Names: names, Seed: seed}
	fanIn := []int{9, 9, 9 * arch.Conv1, 9 * arch.Conv1, 49 * arch.Conv2, 49 * arch.Conv2, arch.Features, arch.Features}
	for i, d := range dims {
		n := 1
		for _, k := range d {
			n *= k
		}
		bound := 1 / math.Sqrt(float64(fanIn[i]))
		v := make([]float32, n)
		for j := range v {
			v[j] = float32((2*r.Float64() - 1) * bound)
		}
		c.Params = append(c.Params, tensors.FromFlatDataAndDimensions(v, d...))
	}
	return c, nil
}

// swish is x·sigmoid(x).
func swish(x *Node) *Node { return Mul(x, Sigmoid(x)) }

// Forward builds the classifier's graph for images x ([B, 28, 28, 1] or [B, 784], values in
// [0, 1]) from the parameter nodes p (in the order of Names): it returns the logits [B, 10] and
// the features [B, Features] (the feature layer's output after its swish).
func (a Arch) Forward(p []*Node, x *Node) (logits, features *Node) {
	b := x.Shape().Dimensions[0]
	dt := x.DType()
	param := func(i int) *Node { return ConvertDType(p[i], dt) }
	h := Reshape(x, b, Side, Side, 1)
	h = DivScalar(AddScalar(h, -pixelMean), pixelStd) // standardized input trains faster
	h = swish(Add(nets.Conv2D(h, param(0), 2, 1), Reshape(param(1), 1, 1, 1, a.Conv1)))
	h = swish(Add(nets.Conv2D(h, param(2), 2, 1), Reshape(param(3), 1, 1, 1, a.Conv2)))
	h = Reshape(h, b, 7*7*a.Conv2)
	features = swish(Add(MatMul(h, param(4)), ExpandAxes(param(5), 0)))
	logits = Add(MatMul(features, param(6)), ExpandAxes(param(7), 0))
	return logits, features
}

// CrossEntropy builds the mean cross-entropy (nats) of logits [B, 10] against int32 labels [B].
func CrossEntropy(logits, labels *Node) *Node {
	logp := LogSoftmax(logits, -1)
	return Neg(ReduceAllMean(ReduceSum(Mul(logp, OneHot(labels, Classes, logp.DType())), -1)))
}

// evalBatch is the fixed batch size of Features and Predict (the last batch is padded), so their
// graph compiles once.
const evalBatch = 250

// run evaluates the classifier on images x [n][784] in [0, 1], in batches of evalBatch, and calls
// each with the logits [10] and features [Features] of every image in order.
func (c *Classifier) run(b compute.Backend, x [][]float64, each func(i int, logits, features []float32)) error {
	if len(c.Params) != 8 {
		return fmt.Errorf("fd: classifier holds %d parameter tensors, want 8: load it with fd.Load or create it with fd.NewClassifier", len(c.Params))
	}
	if c.exec == nil || c.execFor != b {
		exec, err := NewExec(b, func(in []*Node) []*Node {
			logits, feats := c.Arch.Forward(in[1:], in[0])
			return []*Node{logits, feats}
		})
		if err != nil {
			return err
		}
		c.exec, c.execFor = exec, b
	}
	f := c.Arch.Features
	buf := make([]float32, evalBatch*Pixels)
	for start := 0; start < len(x); start += evalBatch {
		n := min(evalBatch, len(x)-start)
		clear(buf)
		for k := 0; k < n; k++ {
			img := x[start+k]
			if len(img) != Pixels {
				return fmt.Errorf("fd: image %d has %d values, want %d (28×28×1)", start+k, len(img), Pixels)
			}
			dst := buf[k*Pixels : (k+1)*Pixels]
			for j, v := range img {
				dst[j] = float32(v)
			}
		}
		args := []any{tensors.FromFlatDataAndDimensions(buf, evalBatch, Side, Side, 1)}
		for _, p := range c.Params {
			args = append(args, p)
		}
		outs, err := c.exec.Call(args...)
		if err != nil {
			return fmt.Errorf("fd: classifier forward pass: %w", err)
		}
		logits, err := tensors.CopyFlatData[float32](outs[0])
		if err != nil {
			return err
		}
		feats, err := tensors.CopyFlatData[float32](outs[1])
		if err != nil {
			return err
		}
		for k := 0; k < n; k++ {
			each(start+k, logits[k*Classes:(k+1)*Classes], feats[k*f:(k+1)*f])
		}
	}
	return nil
}

// Features returns the feature-layer activations [n][Features] of images x [n][784] (28×28×1,
// row-major, values in [0, 1]).
func (c *Classifier) Features(b compute.Backend, x [][]float64) ([][]float64, error) {
	out := make([][]float64, len(x))
	err := c.run(b, x, func(i int, _, feats []float32) {
		row := make([]float64, len(feats))
		for j, v := range feats {
			row[j] = float64(v)
		}
		out[i] = row
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Predict returns the most likely digit (0–9) of each image x [n][784] in [0, 1].
func (c *Classifier) Predict(b compute.Backend, x [][]float64) ([]int, error) {
	out := make([]int, len(x))
	err := c.run(b, x, func(i int, logits, _ []float32) {
		best := 0
		for k, v := range logits {
			if v > logits[best] {
				best = k
			}
		}
		out[i] = best
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Accuracy returns the fraction (0–1) of images of set classified as their label.
func (c *Classifier) Accuracy(b compute.Backend, set *data.Images) (float64, error) {
	if err := checkMNIST(set); err != nil {
		return 0, err
	}
	if len(set.Labels) != set.Len() {
		return 0, fmt.Errorf("fd: accuracy needs one label per image, got %d labels for %d images", len(set.Labels), set.Len())
	}
	pred, err := c.Predict(b, ImagePixels(set))
	if err != nil {
		return 0, err
	}
	right := 0
	for i, p := range pred {
		if p == set.Labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(pred)), nil
}

// checkMNIST reports a set that is not 28×28×1.
func checkMNIST(set *data.Images) error {
	if set == nil || set.Len() == 0 {
		return fmt.Errorf("fd: no images")
	}
	if set.H != Side || set.W != Side || set.C != 1 {
		return fmt.Errorf("fd: images of %d×%d×%d, want 28×28×1 MNIST digits", set.H, set.W, set.C)
	}
	return nil
}

// ImagePixels returns the images of set as [n][H·W·C] values in [0, 1] (byte/255).
func ImagePixels(set *data.Images) [][]float64 {
	out := make([][]float64, set.Len())
	s := set.Size()
	for i := range out {
		row := make([]float64, s)
		for j, v := range set.Pixels[i*s : (i+1)*s] {
			row[j] = float64(v) / 255
		}
		out[i] = row
	}
	return out
}
