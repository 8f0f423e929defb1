package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/npy"
)

// TestBadInvocations: each bad command line gives one clear line naming the problem and a
// non-zero exit, never a stack trace.
func TestBadInvocations(t *testing.T) {
	cases := []badCase{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"figures", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"figures", "extra"}, 2, `unexpected arguments ["extra"]`},
		{[]string{"figures", "--out", ""}, 2, "--out is empty"},
		{[]string{"figures", "--out", t.TempDir(), "--only", "nosuch"}, 2, "unknown figure(s) nosuch: choose from"},
		{[]string{"figures", "--out", "/dev/null/x", "--only", "kernels"}, 1, "creating the output directory: mkdir /dev/null"},
		{[]string{"backends", "--start=maybe"}, 2, "invalid boolean value"},
		{[]string{"sample", "--sampler", "gibbs"}, 2, `--sampler "gibbs": use one of pc, ode, langevin, ald`},
		{[]string{"sample", "--snr", "-0.1"}, 2, "--snr=-0.1, want a finite value ≥ 0"},
		{[]string{"sample", "--steps", "-1"}, 2, "--steps=-1, want 1 to 1000000 (0: the sampler's default)"},
		{[]string{"sample", "--sde", "subvp", "--predictor", "ancestral_sampling", "--out", filepath.Join(t.TempDir(), "x.npy")}, 1, "ancestral_sampling is defined for the ve and vp SDEs only"},
		{[]string{"sample", "--sde", "wiener"}, 2, `--sde "wiener": use one of ve, vp, subvp`},
		{[]string{"sample", "--data", "moons"}, 2, "--data: data \"moons\" has no exact score"},
		{[]string{"sample", "--sde", "vp", "--sampler", "ald"}, 2, "--sampler ald needs --sde ve"},
		{[]string{"sample", "--sigma-max", "0.001"}, 2, "ve SDE: sigma-max=0.001 must exceed sigma-min=0.01"},
		{[]string{"sample", "--sampler", "ode", "--method", "rk99", "--out", filepath.Join(t.TempDir(), "x.npy")}, 2, `unknown ODE method "rk99"`},
		{[]string{"sample", "--score", "nockpt/"}, 1, "--score: nockpt/ holds no checkpoint"},
		{[]string{"train", "--lr", "-1"}, 2, "lr=-1, want a positive learning rate"},
		{[]string{"train", "--batch", "0"}, 2, "batch=0, want ≥ 1"},
		{[]string{"train", "--sde", "subvp", "--loss", "ddpm"}, 2, "loss ddpm is defined for the vp SDE only"},
		{[]string{"train", "--loss", "mle"}, 2, `unknown loss "mle"`},
		{[]string{"train", "--hidden", "128,x"}, 2, `--hidden "128,x": give positive layer widths`},
		{[]string{"train", "--data", "/nonexistent/points.npy"}, 2, "--data: open /nonexistent/points.npy"},
		{[]string{"sample", "--class", "5"}, 2, "--class: class 5: the mixture ncsn has classes 0 to 1"},
		{[]string{"sample", "--given", "y=2"}, 2, `--given "y=2": write coordinates as x1=value`},
		{[]string{"sample", "--given", "x1=1,x2=2"}, 2, "fixes every coordinate"},
		{[]string{"eval", "--samples", "/nonexistent.npy"}, 1, "--samples: open /nonexistent.npy: no such file"},
		{[]string{"eval", "--data", "nope", "--samples", "x.npy"}, 2, `--data: unknown data "nope"`},
	}
	seen := map[string]bool{}
	for i, msg := range checkBad(t, cases) {
		first := msg
		for _, line := range strings.Split(msg, "\n") {
			if strings.HasPrefix(line, "scoresde ") {
				first = line
				break
			}
		}
		if seen[first] {
			t.Errorf("%v: message %q repeats another case's", cases[i].args, first)
		}
		seen[first] = true
	}
}

// badCase is a command line that must exit with code and print want on stderr.
type badCase struct {
	args []string
	code int
	want string
}

// checkBad runs each case and reports a wrong exit code, a message without its want, or a stack
// trace; it returns the stderr of each case.
func checkBad(t *testing.T, cases []badCase) []string {
	t.Helper()
	var msgs []string
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		msg := stderr.String()
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("scoresde %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, msg, c.code, c.want)
		}
		if strings.Contains(msg, "goroutine ") || strings.Contains(msg, ".go:") {
			t.Errorf("%v: stderr holds a stack trace: %q", c.args, msg)
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// runOK runs a command line that must succeed and returns its stdout.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("scoresde %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"figures", "--help"}, {"backends", "-h"}, {"help", "figures"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.Contains(stdout.String()+stderr.String(), "usage: scoresde") {
			t.Errorf("%v: no usage in %q", args, stdout.String()+stderr.String())
		}
	}
}

func TestFiguresWritesFiles(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"figures", "--out", dir, "--only", "kernels,figure5-smld-ve"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"kernels.png", "kernels.svg", "figure5-smld-ve.png", "figure5-smld-ve.svg"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("listing does not name %s: %q", f, stdout.String())
		}
	}
}

// TestSampleAndEval runs the sample command on the NCSN toy and scores its output with eval.
func TestSampleAndEval(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.npy")
	traj := filepath.Join(dir, "traj.npy")
	var stdout, stderr bytes.Buffer
	args := []string{"sample", "--n", "500", "--steps", "200", "--seed", "3", "--out", out, "--trajectory", traj, "--record-every", "50", "--plot", filepath.Join(dir, "s.png"), "--quiet"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"wrote 500 samples of ncsn", "NFE 400", "wrote 5 snapshots", "s.png"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("sample output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if code := run([]string{"eval", "--samples", out, "--json", filepath.Join(dir, "r.json")}, &stdout, &stderr); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"SW2=", "MMD=", "energy=", "modes=[", "SW2 floor"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("eval output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestTrainThenSample trains briefly into a checkpoint directory, resumes it, and samples from it.
func TestTrainThenSample(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt")
	var stdout, stderr bytes.Buffer
	args := []string{"train", "--data", "8gaussians", "--sde", "vp", "--steps", "30", "--batch", "64", "--ckpt", ckpt, "--checkpoint-every", "10", "--quiet"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "loss curve") {
		t.Errorf("train output: %s", stdout.String())
	}
	stdout.Reset()
	args[6] = "40" // --steps 40: resume and continue
	if code := run(args, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "resuming "+ckpt+" at step 30") {
		t.Fatalf("resume: exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	out := filepath.Join(dir, "s.npy")
	if code := run([]string{"sample", "--score", ckpt, "--n", "50", "--steps", "50", "--out", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ckpt-00000040 (step 40)") {
		t.Errorf("sample output: %s", stdout.String())
	}
}

// TestLikelihoodCommands runs likelihood, encode and decode on the exact NCSN score, and checks
// that bad points (wrong dimension, NaN, a missing file) each give a clear error.
func TestLikelihoodCommands(t *testing.T) {
	dir := t.TempDir()
	pts := filepath.Join(dir, "p.npy")
	if err := npy.WritePoints(pts, [][]float64{{5, 5}, {-5, -4}, {4, 6}}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"likelihood", "--sde", "vp", "--points", pts, "--out", filepath.Join(dir, "lp.npy")}, &stdout, &stderr); code != 0 {
		t.Fatalf("likelihood: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "bits/dim") || !strings.Contains(stdout.String(), "closed-form NLL") {
		t.Errorf("likelihood output: %s", stdout.String())
	}
	z := filepath.Join(dir, "z.npy")
	for _, args := range [][]string{{"encode", "--in", pts, "--out", z}, {"decode", "--in", z, "--out", filepath.Join(dir, "x.npy")}} {
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}
	wrongDim := filepath.Join(dir, "w.npy")
	npy.WritePoints(wrongDim, [][]float64{{1, 2, 3}})
	nan := filepath.Join(dir, "nan.npy")
	npy.Write(nan, []float64{1, math.NaN()}, 1, 2)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"likelihood", "--points", wrongDim}, "holds points of dimension 3, but the model ncsn has dimension 2"},
		{[]string{"likelihood", "--points", nan}, "point 0, coordinate 1 is NaN"},
		{[]string{"likelihood", "--points", filepath.Join(dir, "missing.npy")}, "no such file or directory"},
		{[]string{"likelihood", "--points", pts, "--divergence", "magic"}, `unknown divergence "magic"`},
		{[]string{"encode", "--in", pts, "--method", "rk99"}, `--method "rk99"`},
	} {
		stderr.Reset()
		if code := run(c.args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestGuidanceFlags samples one class of the NCSN toy and imputes x2 given x1.
func TestGuidanceFlags(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "c.npy")
	if code := run([]string{"sample", "--class", "1", "--n", "200", "--steps", "200", "--out", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("class: exit %d: %s", code, stderr.String())
	}
	pts, err := npy.ReadPoints(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if p[0] > 0 { // component 1 of ncsn is centred at (−5, −5)
			t.Fatalf("class-1 sample %v lies on the other mode", p)
		}
	}
	if code := run([]string{"sample", "--given", "x1=4.5", "--n", "100", "--steps", "200", "--out", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("given: exit %d: %s", code, stderr.String())
	}
	pts, _ = npy.ReadPoints(out)
	for _, p := range pts {
		if math.Abs(p[0]-4.5) > 1e-3 || p[1] < 0 { // x1 = 4.5 lies on the (5, 5) mode
			t.Fatalf("imputed sample %v", p)
		}
	}
}
