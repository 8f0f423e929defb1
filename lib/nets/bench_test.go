package nets

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
)

// benchGradient times the forward and backward pass of net on a batch of 64 28×28 images in
// [−1, 1] at random times with a denoising loss, the convolution-bound core of an MNIST training
// step (the optimizer update adds little), compiled once.
func benchGradient(b *testing.B, net Net) {
	be := backend.MustNew()
	p, err := net.Init(1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 64*28*28)
	for i := range x {
		x[i] = float32(2*r.Float64() - 1)
	}
	ts := make([]float32, 64)
	for i := range ts {
		ts[i] = float32(r.Float64())
	}
	exec, err := NewExec(be, func(in []*Node) []*Node {
		params := in[2:]
		out := net.Forward(params, in[0], in[1])
		loss := ReduceAllMean(Square(Sub(out, in[0])))
		var trainable []*Node
		for i, q := range params {
			if !p.Frozen[i] {
				trainable = append(trainable, q)
			}
		}
		return append([]*Node{loss}, Gradient(loss, trainable...)...)
	})
	if err != nil {
		b.Fatal(err)
	}
	args := []any{tensors.FromFlatDataAndDimensions(x, 64, 28, 28, 1), ts}
	for _, v := range p.Values {
		args = append(args, v)
	}
	if _, err := exec.Call(args...); err != nil { // compile outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := exec.Call(args...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkUNetGradient is benchGradient of the tutorial U-Net (1.1 M parameters).
func BenchmarkUNetGradient(b *testing.B) { benchGradient(b, NewTutorialUNet()) }

// BenchmarkNCSNppMNISTTinyGradient is benchGradient of the "ddpmpp-mnist-tiny" DDPM++ network
// (80 k parameters).
func BenchmarkNCSNppMNISTTinyGradient(b *testing.B) {
	n, err := Preset("ddpmpp-mnist-tiny")
	if err != nil {
		b.Fatal(err)
	}
	benchGradient(b, n)
}
