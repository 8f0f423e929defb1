package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
)

// probeEnv lists the environment variables that steer the XLA backend; probe prints those set.
var probeEnv = []string{"GOMLX_NO_AUTO_INSTALL", "PJRT_PLUGIN_LIBRARY_PATH", "XLA_FLAGS", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"}

func init() {
	register(command{
		name: "probe",
		summary: "Check the compute backend (GOMLX_BACKEND): list its devices, run x*x+1 and check the result,\n" +
			"time a large float32 matrix product (GFLOP/s) and, with --unet, U-Net training steps (images/s).",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			size := fs.Int("size", 0, "side n of the n×n float32 matrices multiplied (0: 4096 on XLA, 1024 on the Go backend)")
			reps := fs.Int("reps", 0, "timed matrix products (0: as many as fit in about one second, at least 3)")
			unet := fs.Bool("unet", false, "also time training steps of the tutorial U-Net (1.1 M parameters) on 28×28 images")
			batch := fs.Int("batch", 64, "batch size of the U-Net training steps")
			unetSteps := fs.Int("unet-steps", 0, "timed U-Net training steps (0: 3 on the Go backend, 50 on XLA)")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				switch {
				case *size < 0:
					return usagef("--size=%d, want ≥ 1 (or 0 for the backend's default)", *size)
				case *reps < 0:
					return usagef("--reps=%d, want ≥ 1 (or 0 for about one second)", *reps)
				case *batch < 1:
					return usagef("--batch=%d, want ≥ 1", *batch)
				case *unetSteps < 0:
					return usagef("--unet-steps=%d, want ≥ 1 (or 0 for the backend's default)", *unetSteps)
				}
				c := backend.Choose()
				fmt.Fprintf(stdout, "compiled-in backends: %s\n", strings.Join(backend.Available(), ", "))
				fmt.Fprintf(stdout, "%s=%q: using %s (%s)\n", backend.EnvVar, os.Getenv(backend.EnvVar), c.Config, c.Reason)
				fmt.Fprintln(stdout, backend.SIMDReport())
				for _, k := range probeEnv {
					if v, ok := os.LookupEnv(k); ok {
						fmt.Fprintf(stdout, "%s=%q\n", k, v)
					}
				}
				start := time.Now()
				b, err := backend.New()
				if err != nil {
					return probeStartError(c.Config, err)
				}
				fmt.Fprintf(stdout, "started: %s — %s (%.1fs)\n", b.Name(), b.Description(), time.Since(start).Seconds())
				fmt.Fprintf(stdout, "devices: %d\n", b.NumDevices())
				for i := range b.NumDevices() {
					fmt.Fprintf(stdout, "  device %d: %s\n", i, b.DeviceDescription(compute.DeviceNum(i)))
				}
				if err := probeTiny(b, stdout); err != nil {
					return err
				}
				n := *size
				if n == 0 {
					n = 1024
					if b.Name() == "xla" {
						n = 4096
					}
				}
				if err := probeMatMul(b, n, *reps, stdout); err != nil {
					return err
				}
				if *unet {
					steps := *unetSteps
					if steps == 0 {
						steps = 3
						if b.Name() == "xla" {
							steps = 50
						}
					}
					if err := probeUNet(b, *batch, steps, stdout); err != nil {
						return err
					}
				}
				return nil
			}
		},
	})
}

// probeStartError turns a failed backend start into one line with the fix.
func probeStartError(config string, err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if strings.HasPrefix(config, "xla:/") {
		return fmt.Errorf("%s. Fix: check that the plugin file loads (ldd on it; put the nvidia/*/lib folders of its site-packages on LD_LIBRARY_PATH, as scripts/gpu-probe does), or fall back to GOMLX_BACKEND=go", msg)
	}
	if strings.HasPrefix(config, "xla") {
		return fmt.Errorf("%s. Fix: offline, point GOMLX_BACKEND=xla:/abs/path/to/xla_cuda_plugin.so at a local PJRT plugin and set GOMLX_NO_AUTO_INSTALL=1 (scripts/gpu-probe finds JAX's plugin), or fall back to GOMLX_BACKEND=go", msg)
	}
	return fmt.Errorf("%s. Fix: set GOMLX_BACKEND=go:parallelism=-1 (pure Go, always available) or xla:/abs/path/to/pjrt_plugin.so", msg)
}

// probeTiny runs x*x+1 on [0, 1, 2, 3] and checks the result [1, 2, 5, 10].
func probeTiny(b compute.Backend, w io.Writer) error {
	start := time.Now()
	exec, err := NewExec(b, func(x *Node) *Node { return AddScalar(Mul(x, x), 1) })
	if err != nil {
		return fmt.Errorf("x*x+1: %w", err)
	}
	out, err := exec.Call(tensors.FromFlatDataAndDimensions([]float32{0, 1, 2, 3}, 4))
	if err != nil {
		return fmt.Errorf("x*x+1: the backend failed to compile or run a tiny graph: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	got, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return fmt.Errorf("x*x+1: reading the result back: %w", err)
	}
	want := []float32{1, 2, 5, 10}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			return fmt.Errorf("x*x+1 on [0 1 2 3] gave %v, want %v: the backend computes wrong results; try another GOMLX_BACKEND", got, want)
		}
	}
	fmt.Fprintf(w, "x*x+1 on [0 1 2 3] = %v: ok (compile and run %.2fs)\n", got, time.Since(start).Seconds())
	return nil
}

// probeMatMul times C = A·B for n×n float32 matrices with entries in [0, 1) kept on device 0 and
// reports GFLOP/s (2n³ floating-point operations per product). The graph also returns ΣC, which
// is read back to wait for the device and compared with Σ_k colsum(A)_k · rowsum(B)_k.
func probeMatMul(b compute.Backend, n, reps int, w io.Writer) error {
	r := rand.New(rand.NewPCG(1, 2))
	av, bv := make([]float32, n*n), make([]float32, n*n)
	for i := range av {
		av[i], bv[i] = r.Float32(), r.Float32()
	}
	want := 0.0
	for k := range n {
		ca, rb := 0.0, 0.0
		for i := range n {
			ca += float64(av[i*n+k])
			rb += float64(bv[k*n+i])
		}
		want += ca * rb
	}
	at := tensors.FromFlatDataAndDimensions(av, n, n)
	bt := tensors.FromFlatDataAndDimensions(bv, n, n)
	for _, t := range []*tensors.Tensor{at, bt} {
		if err := t.MaterializeOnDevice(b, false, 0); err != nil {
			return fmt.Errorf("matmul %d×%d: copying the matrices to the device: %w", n, n, err)
		}
	}
	exec, err := NewExec(b, func(a, c *Node) (*Node, *Node) {
		prod := MatMul(a, c)
		return prod, ReduceAllSum(prod)
	})
	if err != nil {
		return err
	}
	once := func() (float64, error) {
		outs, err := exec.Call(at, bt)
		if err != nil {
			return 0, fmt.Errorf("matmul %d×%d: %s: lower --size if the device ran out of memory", n, n, strings.Join(strings.Fields(err.Error()), " "))
		}
		v := float64(outs[1].Value().(float32))
		for _, o := range outs {
			o.FinalizeAll()
		}
		return v, nil
	}
	start := time.Now()
	if _, err := once(); err != nil { // compiles
		return err
	}
	compile := time.Since(start)
	start = time.Now()
	sum, err := once()
	if err != nil {
		return err
	}
	one := time.Since(start)
	if reps == 0 {
		reps = int(min(max(time.Second/max(one, time.Microsecond), 3), 2000))
	}
	start = time.Now()
	for range reps {
		if sum, err = once(); err != nil {
			return err
		}
	}
	el := time.Since(start)
	per := el.Seconds() / float64(reps)
	relErr := math.Abs(sum-want) / want
	fmt.Fprintf(w, "matmul float32 %d×%d · %d×%d: %d runs, %.3g ms each, %.4g GFLOP/s (first run with compilation %.2fs; ΣC relative error %.1e)\n",
		n, n, n, n, reps, 1e3*per, 2*math.Pow(float64(n), 3)/per/1e9, compile.Seconds(), relErr)
	if !(relErr < 1e-2) {
		return fmt.Errorf("matmul %d×%d: ΣC = %g, want %g: the backend computes wrong products", n, n, sum, want)
	}
	return nil
}

// probeUNet times training steps (VP denoising score matching, Adam, EMA: one compiled graph
// each) of the tutorial U-Net on random 28×28×1 images, batch images per step.
func probeUNet(b compute.Backend, batch, steps int, w io.Writer) error {
	u := nets.NewTutorialUNet()
	s := sde.NewVP()
	cfg := train.Default(s)
	cfg.Batch, cfg.Steps, cfg.Seed = batch, 1, 1
	r := rand.New(rand.NewPCG(3, 4))
	pts := make([][]float64, 256)
	for i := range pts {
		pts[i] = make([]float64, 28*28)
		for j := range pts[i] {
			pts[i][j] = 2*r.Float64() - 1
		}
	}
	tr, err := train.New(b, u, s, train.Points{X: pts}, cfg, "")
	if err != nil {
		return fmt.Errorf("U-Net: %w", err)
	}
	start := time.Now()
	if err := tr.Run(nil); err != nil {
		return fmt.Errorf("U-Net: first training step: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	first := time.Since(start)
	tr.Config.Steps = 1 + steps
	start = time.Now()
	if err := tr.Run(nil); err != nil {
		return fmt.Errorf("U-Net: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	per := time.Since(start).Seconds() / float64(steps)
	fmt.Fprintf(w, "U-Net training step (tutorial U-Net, %d parameters, batch %d, VP loss, Adam, EMA): %d steps, %.3g s each, %.4g images/s (first step with compilation %.1fs; last loss %.4g)\n",
		countTrainable(tr), batch, steps, per, float64(batch)/per, first.Seconds(), tr.State.Losses[len(tr.State.Losses)-1])
	return nil
}

// countTrainable is the number of trainable scalars of a trainer's network.
func countTrainable(tr *train.Trainer) int {
	n := 0
	for i, v := range tr.State.Params {
		if !tr.Frozen[i] {
			n += v.Shape().Size()
		}
	}
	return n
}
