package fd

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/progress"
)

// TrainOptions are the classifier's training settings. Start from DefaultTrainOptions.
type TrainOptions struct {
	// Arch is the architecture to train.
	Arch Arch
	// Epochs is the number of passes over the training images; Batch the batch size (the last
	// incomplete batch of each epoch is dropped).
	Epochs, Batch int
	// LR is Adam's learning rate, decayed by cosine to zero over the run (β1 0.9, β2 0.999,
	// ε 1e-8).
	LR float64
	// Shift is the largest random translation, in pixels, applied to each training image along
	// each axis (0: none); the vacated border is filled with zeros (black).
	Shift int
	// Seed drives the initialization and the order of the batches; a given seed and backend give
	// the same weights.
	Seed uint64
}

// DefaultTrainOptions returns the FD-MNIST classifier's recipe: DefaultArch, 4 epochs of batch
// 64 with random shifts of up to 2 pixels, Adam at learning rate 4e-3 with cosine decay, seed 1.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Arch: DefaultArch(), Epochs: 4, Batch: 64, LR: 4e-3, Shift: 2, Seed: 1}
}

// Validate reports a bad setting, naming it.
func (o TrainOptions) Validate() error {
	switch {
	case o.Epochs < 1:
		return fmt.Errorf("fd: epochs=%d, want ≥ 1", o.Epochs)
	case o.Batch < 1:
		return fmt.Errorf("fd: batch=%d, want ≥ 1", o.Batch)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return fmt.Errorf("fd: lr=%g, want a positive learning rate (2e-3 works)", o.LR)
	case o.Shift < 0 || o.Shift >= Side:
		return fmt.Errorf("fd: shift=%d pixels, want 0 ≤ shift < %d", o.Shift, Side)
	}
	return o.Arch.Validate()
}

// TrainClassifier trains a classifier on the labelled 28×28×1 images of train (pixels scaled to
// [0, 1]) with Adam on the cross-entropy, one compiled graph per step, and writes a progress bar
// to log (nil: none). The result is deterministic for a given TrainOptions.Seed and backend.
func TrainClassifier(b compute.Backend, train *data.Images, opts TrainOptions, log io.Writer) (*Classifier, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := checkMNIST(train); err != nil {
		return nil, err
	}
	if len(train.Labels) != train.Len() {
		return nil, fmt.Errorf("fd: training needs one label per image, got %d labels for %d images", len(train.Labels), train.Len())
	}
	n := train.Len()
	if n < opts.Batch {
		return nil, fmt.Errorf("fd: %d training images is fewer than one batch of %d: lower the batch size", n, opts.Batch)
	}
	c, err := NewClassifier(opts.Arch, opts.Seed)
	if err != nil {
		return nil, err
	}
	c.Epochs = opts.Epochs
	np := len(c.Params)
	perEpoch := n / opts.Batch
	total := perEpoch * opts.Epochs
	step, err := NewExec(b, func(in []*Node) []*Node {
		params, m, v := in[:np], in[np:2*np], in[2*np:3*np]
		x, labels, t := in[3*np], in[3*np+1], in[3*np+2]
		logits, _ := opts.Arch.Forward(params, x)
		loss := CrossEntropy(logits, labels)
		grads := Gradient(loss, params...)
		k := OnePlus(t) // this update's 1-based index
		lr := MulScalar(AddScalar(Cos(MulScalar(t, math.Pi/float64(total))), 1), opts.LR/2)
		bc1 := OneMinus(Pow(Scalar(x.Graph(), t.DType(), 0.9), k))
		bc2 := OneMinus(Pow(Scalar(x.Graph(), t.DType(), 0.999), k))
		out := make([]*Node, 3*np+1)
		for i, p := range params {
			g := grads[i]
			newM := Add(MulScalar(m[i], 0.9), MulScalar(g, 0.1))
			newV := Add(MulScalar(v[i], 0.999), MulScalar(Square(g), 0.001))
			upd := Div(Div(newM, bc1), AddScalar(Sqrt(Div(newV, bc2)), 1e-8))
			out[i], out[np+i], out[2*np+i] = Sub(p, Mul(lr, upd)), newM, newV
		}
		out[3*np] = loss
		return out
	})
	if err != nil {
		return nil, err
	}
	state := make([]*tensors.Tensor, 3*np)
	copy(state, c.Params)
	for i, p := range c.Params {
		state[np+i] = tensors.FromShape(p.Shape())
		state[2*np+i] = tensors.FromShape(p.Shape())
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0x6f72646572))
	var bar *progress.Bar
	smooth := math.NaN()
	if log != nil {
		bar = progress.New("train FD-MNIST classifier", total, log)
		bar.Extra = func() string { return fmt.Sprintf("loss %.4g", smooth) }
	}
	start := time.Now()
	labels := make([]int32, opts.Batch)
	tmp := make([]float32, Pixels)
	s := 0
	for epoch := 0; epoch < opts.Epochs; epoch++ {
		order := r.Perm(n)
		for j := 0; j < perEpoch; j++ {
			idx := order[j*opts.Batch : (j+1)*opts.Batch]
			for k, i := range idx {
				labels[k] = int32(train.Labels[i])
			}
			pix := train.Batch(idx, false)
			if opts.Shift > 0 {
				for k := range idx {
					img := pix[k*Pixels : (k+1)*Pixels]
					translate(img, tmp, r.IntN(2*opts.Shift+1)-opts.Shift, r.IntN(2*opts.Shift+1)-opts.Shift)
				}
			}
			x := tensors.FromFlatDataAndDimensions(pix, opts.Batch, Side, Side, 1)
			args := make([]any, 0, 3*np+3)
			for _, v := range state {
				args = append(args, v)
			}
			args = append(args, x, tensors.FromFlatDataAndDimensions(labels, opts.Batch), float32(s))
			outs, err := step.Call(args...)
			if err != nil {
				return nil, fmt.Errorf("fd: classifier training step %d: %w", s+1, err)
			}
			loss := float64(outs[3*np].Value().(float32))
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, fmt.Errorf("fd: classifier loss is %v at step %d: lower the learning rate", loss, s+1)
			}
			copy(state, outs[:3*np])
			if math.IsNaN(smooth) {
				smooth = loss
			}
			smooth = 0.95*smooth + 0.05*loss
			s++
			bar.Update(s)
		}
	}
	bar.Finish()
	if log != nil {
		fmt.Fprintf(log, "trained the FD-MNIST classifier: %d steps (%d epochs of %d images), loss %.4g, %.1fs\n",
			total, opts.Epochs, n, smooth, time.Since(start).Seconds())
	}
	c.Params = append([]*tensors.Tensor(nil), state[:np]...)
	return c, nil
}

// translate shifts the 28×28 image img in place by dy rows down and dx columns right, filling the
// vacated pixels with 0; tmp is scratch space of the same size.
func translate(img, tmp []float32, dy, dx int) {
	if dy == 0 && dx == 0 {
		return
	}
	clear(tmp)
	for y := max(0, dy); y < min(Side, Side+dy); y++ {
		for x := max(0, dx); x < min(Side, Side+dx); x++ {
			tmp[y*Side+x] = img[(y-dy)*Side+x-dx]
		}
	}
	copy(img, tmp)
}
