package train

import (
	"time"

	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/sampling"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/experiments"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// defaultsSeed and defaultsSteps set the training run that TestTrainingLearns and
// TestDefaultsOn8Gaussians share: Default(vp) on 8 Gaussians with seed 1. The defaults have no
// learning-rate decay, so the state after k steps is the same whether the run stops at k or goes
// on: the first test reads it at 600 steps, the second goes on to defaultsSteps.
const (
	defaultsSeed  = 1
	defaultsSteps = 3000
)

var shared8g *Trainer

// defaultsRun returns the shared run advanced to the given step (a fresh run when the shared one is
// already past it).
func defaultsRun(t *testing.T, steps int) *Trainer {
	t.Helper()
	tr := shared8g
	if tr == nil || tr.State.Step > steps {
		b := backend.MustNew()
		m, _ := toy.LoadMixture("8gaussians")
		s := sde.NewVP()
		cfg := Default(s)
		cfg.Seed = defaultsSeed
		var err error
		if tr, err = New(b, nets.NewMLP(2), s, m, cfg, ""); err != nil {
			t.Fatal(err)
		}
		if shared8g == nil {
			shared8g = tr
		}
	}
	tr.Config.Steps = steps
	if err := tr.Run(nil); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTrainingLearns: the first 600 steps of the shared default run on 8 Gaussians (VP) lower the
// loss by 40% and the relative score error against the exact score, averaged over
// t ∈ {0.05, 0.2, 0.5, 0.9}, by 3×.
func TestTrainingLearns(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	cfg := Default(s)
	cfg.Seed = defaultsSeed
	untrained, err := New(b, nets.NewMLP(2), s, m, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	times := []float64{0.05, 0.2, 0.5, 0.9}
	before, err := experiments.ScoreError(b, untrained.ScoreFn(false), m, s, times, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr := defaultsRun(t, 600)
	after, err := experiments.ScoreError(b, tr.ScoreFn(false), m, s, times, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := tr.State.Losses
	first, last := mean(l[:50]), mean(l[len(l)-50:])
	t.Logf("loss %.4f → %.4f; relative score error %.3f → %.3f (per t: %.3f → %.3f)", first, last, mean(before), mean(after), before, after)
	if last > 0.6*first {
		t.Errorf("loss fell only from %.4f to %.4f", first, last)
	}
	if mean(after) > mean(before)/3 {
		t.Errorf("score error fell only from %.3f to %.3f", mean(before), mean(after))
	}
}

// TestResumeIsExact: 40 steps in one run and 20 + 20 steps with a checkpoint in between end with
// bit-identical weights, EMA and loss curves.
func TestResumeIsExact(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("ncsn")
	s := sde.NewVE()
	cfg := Default(s)
	cfg.Steps, cfg.Batch, cfg.Seed, cfg.CheckpointEvery = 40, 64, 5, 10
	whole, err := New(b, nets.NewMLP(2), s, m, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := whole.Run(nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	half := cfg
	half.Steps = 20
	first, err := New(b, nets.NewMLP(2), s, m, half, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Run(nil); err != nil {
		t.Fatal(err)
	}
	first.Close()                                          // a new process would start without its lock
	resumed, err := New(b, nets.NewMLP(2), s, m, cfg, dir) // a new process would do the same
	if err != nil {
		t.Fatal(err)
	}
	if resumed.State.Step != 20 {
		t.Fatalf("resumed at step %d, want 20", resumed.State.Step)
	}
	if err := resumed.Run(nil); err != nil {
		t.Fatal(err)
	}
	for i, name := range whole.Names {
		for _, g := range []struct {
			what string
			a, b *tensors.Tensor
		}{{"params", whole.State.Params[i], resumed.State.Params[i]}, {"ema", whole.State.EMA[i], resumed.State.EMA[i]}, {"adam v", whole.State.V[i], resumed.State.V[i]}} {
			a, c := tensors.MustCopyFlatData[float32](g.a), tensors.MustCopyFlatData[float32](g.b)
			for j := range a {
				if a[j] != c[j] {
					t.Fatalf("%s %s[%d]: %v uninterrupted, %v resumed", g.what, name, j, a[j], c[j])
				}
			}
		}
	}
	for i := range whole.State.Losses {
		if whole.State.Losses[i] != resumed.State.Losses[i] {
			t.Fatalf("loss %d differs: %v vs %v", i, whole.State.Losses[i], resumed.State.Losses[i])
		}
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "ckpt-*"))
	if len(kept) != 3 {
		t.Errorf("kept %d checkpoints, want 3: %v", len(kept), kept)
	}
	ck, err := LoadDir(dir)
	if err != nil || ck.State.Step != 40 {
		t.Fatalf("LoadDir: %v, %v", ck, err)
	}
}

// TestNaNStops: data with huge values makes the loss overflow; training stops naming the step.
func TestNaNStops(t *testing.T) {
	b := backend.MustNew()
	s := sde.NewVP()
	pts := Points{X: [][]float64{{3e38, -3e38}, {1, 2}}}
	cfg := Default(s)
	cfg.Steps, cfg.Batch = 10, 8
	tr, err := New(b, nets.NewMLP(2), s, pts, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(nil)
	if err == nil || !strings.Contains(err.Error(), "at step 1 ") {
		t.Fatalf("error %v, want a non-finite loss at step 1", err)
	}
	t.Log(err)
}

// TestBadHyperparameters: each bad setting is refused with its own message.
func TestBadHyperparameters(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("ncsn")
	cases := []struct {
		s    sde.SDE
		mod  func(*Config)
		want string
	}{
		{sde.NewVP(), func(c *Config) { c.LR = -1e-3 }, "lr=-0.001, want a positive learning rate"},
		{sde.NewVP(), func(c *Config) { c.Batch = 0 }, "batch=0, want ≥ 1"},
		{sde.NewVP(), func(c *Config) { c.Steps = 0 }, "steps=0"},
		{sde.NewVP(), func(c *Config) { c.EMA = 1 }, "ema=1"},
		{sde.NewVP(), func(c *Config) { c.Loss.Kind = "smld" }, "loss smld is NCSN's discrete loss for the ve SDE"},
		{sde.NewSubVP(), func(c *Config) { c.Loss.Kind = "ddpm" }, "loss ddpm is defined for the vp SDE only"},
		{sde.NewVE(), func(c *Config) { c.Loss.Kind = "score-matching" }, `unknown loss "score-matching"`},
	}
	for _, c := range cases {
		cfg := Default(c.s)
		c.mod(&cfg)
		if _, err := New(b, nets.NewMLP(2), c.s, m, cfg, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
	if _, err := New(b, nets.NewMLP(3), sde.NewVP(), m, Default(sde.NewVP()), ""); err == nil || !strings.Contains(err.Error(), "dimension 2 but the network expects 3") {
		t.Errorf("dimension mismatch: %v", err)
	}
}

// TestEveryLossTrains runs a few steps of each loss and network kind without error and with a
// finite loss.
func TestEveryLossTrains(t *testing.T) {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	ve := sde.NewVE()
	for _, c := range []struct {
		s    sde.SDE
		loss string
		net  nets.Net
		lw   bool
	}{
		{ve, "smld", nets.NewNoiseConditionalMLP(2, ve.NumScales, ve), false},
		{sde.NewVP(), "ddpm", nets.NewMLP(2), false},
		{sde.NewSubVP(), "ssm", nets.NewMLP(2), false},
		{sde.NewVP(), "dsm", nets.NewMLP(2), true},
	} {
		cfg := Default(c.s)
		cfg.Steps, cfg.Batch, cfg.Loss.Kind, cfg.Loss.LikelihoodWeighting = 20, 64, c.loss, c.lw
		tr, err := New(b, c.net, c.s, m, cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Run(nil); err != nil {
			t.Fatalf("%s: %v", c.loss, err)
		}
		if l := tr.State.Losses[19]; math.IsNaN(l) {
			t.Errorf("%s: loss %v", c.loss, l)
		}
	}
}

// TestDefaultsOn8Gaussians is the training bar: the defaults on 8 Gaussians under VP, run for
// defaultsSteps (3,000) of their 5,000 steps, give PC samples whose SW2 to the data is within 2× that
// of samples drawn with the exact score by the same sampler (the default PC sampler with 100 steps
// instead of 1,000, for both). The bar bites: the ratio is 2.3 after 2,000 steps, 1.6 after 2,500,
// 1.3 after 3,000 and 1.0 after 5,000 (1.2 at 5,000 with 1,000 sampler steps for both).
func TestDefaultsOn8Gaussians(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 3,000 training steps")
	}
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	start := time.Now()
	tr := defaultsRun(t, defaultsSteps)
	took := time.Since(start)
	o := sampling.DefaultPC()
	o.N = 100
	exact, err := sampling.PC(b, s, m.ScoreFn(s), []int{1000, 2}, o, sampling.Run{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	learned, err := sampling.PC(b, s, tr.ScoreFn(true), []int{1000, 2}, o, sampling.Run{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	se, _ := experiments.Evaluate(m, exact, 2)
	sl, _ := experiments.Evaluate(m, learned, 2)
	t.Logf("%d steps (%v here); SW2 exact %.4f, learned %.4f; mode error exact %.3f, learned %.3f", tr.State.Step, took.Round(time.Second), se.SW2, sl.SW2, se.ModeError, sl.ModeError)
	if sl.SW2 > 2*se.SW2 {
		t.Errorf("learned-score samples SW2 %.4f exceed 2× the exact-score samples' %.4f", sl.SW2, se.SW2)
	}
}
