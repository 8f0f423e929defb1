package train

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sde"
)

// TestDivergenceRule: the running-median rule on loss curves of both signs.
func TestDivergenceRule(t *testing.T) {
	flat := func(v float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v + 0.01*float64(i%7) // a little noise
		}
		return out
	}
	cases := []struct {
		name    string
		history []float64
		loss    float64
		factor  float64
		stop    bool
	}{
		{"exploding-after-100", flat(1, 100), 4.8e34, 1e3, true},
		{"large-but-within", flat(1, 100), 500, 1e3, false},
		{"just-over", flat(1, 100), 1.2e3, 1e3, true},
		{"too-few-losses", flat(1, 99), 4.8e34, 1e3, false},
		{"negative-median-ssm", flat(-5, 200), -4, 1e3, false},
		{"negative-exploding", flat(-5, 200), -1e30, 1e3, true},
		{"positive-spike-negative-median", flat(-5, 200), 1e9, 1e3, true},
		{"falling-loss", flat(100, 100), 0.01, 1e3, false},
		{"off", flat(1, 100), 4.8e34, 0, false},
		{"nan", flat(1, 3), math.NaN(), 1e3, true},
		{"inf-early", nil, math.Inf(1), 1e3, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &Trainer{Config: Config{DivergeFactor: c.factor, DivergeWindow: 100}, State: &State{Step: len(c.history), Losses: c.history}}
			err := tr.divergence(c.loss)
			if (err != nil) != c.stop {
				t.Fatalf("divergence(%g) after %d losses: %v, want stop=%v", c.loss, len(c.history), err, c.stop)
			}
			if err != nil && !errors.Is(err, ErrDiverged) {
				t.Errorf("%v does not wrap ErrDiverged", err)
			}
		})
	}
	if med, mad := medianMAD([]float64{5, 1, 3, 100}); med != 4 || mad != 2 {
		t.Errorf("medianMAD = %v, %v, want 4, 2", med, mad)
	}
}

// TestDivergenceAfterResumeKeepsCheckpoints: a run resumed on data that makes the loss explode
// to a finite 1e20-ish value stops with ErrDiverged at the first bad step, writes nothing, and
// leaves every checkpoint as it was.
func TestDivergenceAfterResumeKeepsCheckpoints(t *testing.T) {
	dir := t.TempDir()
	tinyRun(t, dir, 150, 50)
	before := snapshot(t, dir)
	net, s, _, cfg := tinyConfig(300, 50)
	cfg.Keep = 1 // any save would prune the older checkpoints
	var pts [][]float64
	for i := range 64 {
		pts = append(pts, []float64{1e9 * float64(i+1), -1e9})
	}
	tr, err := New(backend.MustNew(), net, s, Points{X: pts}, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Run(nil)
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "at step 151") {
		t.Fatalf("Run: %v, want divergence at step 151", err)
	}
	if l := tr.State.Losses; len(l) != 150 || tr.State.Step != 150 {
		t.Errorf("the diverged step entered the state: step %d, %d losses", tr.State.Step, len(l))
	}
	t.Log(err)
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("%d files before, %d after", len(before), len(after))
	}
	for rel, b := range before {
		if string(after[rel]) != string(b) {
			t.Errorf("%s changed", rel)
		}
	}
}

// TestDivergeFlagsValidate: the divergence settings are checked with the others.
func TestDivergeFlagsValidate(t *testing.T) {
	s := sde.NewVE()
	for _, c := range []struct {
		factor float64
		window int
		want   string
	}{
		{1, 100, "diverge-factor=1"},
		{math.Inf(1), 100, "diverge-factor=+Inf"},
		{1e3, 0, "diverge-window=0"},
		{1e3, maxDivergeWindow + 1, fmt.Sprintf("diverge-window=%d", maxDivergeWindow+1)},
	} {
		cfg := Default(s)
		cfg.DivergeFactor, cfg.DivergeWindow = c.factor, c.window
		if err := cfg.Validate(s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("factor %g window %d: %v, want %q", c.factor, c.window, err, c.want)
		}
	}
	cfg := Default(s)
	cfg.DivergeFactor, cfg.DivergeWindow = 0, 0
	if err := cfg.Validate(s); err != nil {
		t.Errorf("off: %v", err)
	}
	cfg = Default(s)
	cfg.GradClip = math.Inf(1)
	if err := cfg.Validate(s); err == nil {
		t.Error("grad-clip=+Inf accepted: state.json could not be written")
	}
}
