package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/internal/sharedtest"

	"github.com/scoresde/scoresde/lib/npy"
)

func TestImageBadInvocations(t *testing.T) {
	mnist := sharedtest.MNISTDir(t)
	corrupt := t.TempDir()
	for _, name := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if err := os.WriteFile(filepath.Join(corrupt, name), []byte("not an IDX file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []badCase{
		{[]string{"train", "--data", "8gaussians", "--net", "unet"}, 2, "--net unet is an image network"},
		{[]string{"train", "--data", "8gaussians", "--centered", "true"}, 2, "--data-dir, --centered and --flip are for image sets"},
		{[]string{"train", "--data", "mnist", "--data-dir", mnist, "--net", "resnet"}, 2, `--net "resnet": use one of unet, unet-small`},
		{[]string{"train", "--data", "mnist", "--data-dir", mnist, "--centered", "maybe"}, 2, `--centered "maybe": use true, false or auto`},
		{[]string{"train", "--data", "mnist", "--data-dir", mnist, "--loss", "smld", "--sde", "ve"}, 2, "--loss smld trains the noise-conditional MLP on toys"},
		{[]string{"train", "--data", "mnist", "--data-dir", corrupt}, 1, "train-images-idx3-ubyte"},
		{[]string{"likelihood", "--points", "test"}, 2, "--points test needs an image model"},
	}
	checkBad(t, cases)
}

// TestImagePipeline trains the MNIST preset for a few steps, then samples an image grid and
// evaluates bits/dim on test digits from the checkpoint.
func TestImagePipeline(t *testing.T) {
	mnist := sharedtest.MNISTDir(t)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt")
	out := runOK(t, "train", "--data", "mnist", "--data-dir", mnist, "--steps", "3", "--ckpt", ckpt, "--quiet")
	if !strings.Contains(out, "mnist (9000 images 28×28×1)") || !strings.Contains(out, "vp SDE") {
		t.Fatalf("train output %q: want the MNIST training set and the VP SDE (the image default)", out)
	}
	samples := filepath.Join(dir, "s.npy")
	out = runOK(t, "sample", "--score", ckpt, "--sampler", "ode", "--method", "euler", "--steps", "3", "--n", "4", "--out", samples, "--quiet")
	if _, err := os.Stat(filepath.Join(dir, "s.png")); err != nil || !strings.Contains(out, "image grid") {
		t.Fatalf("sample output %q: want an image grid s.png (%v)", out, err)
	}
	out = runOK(t, "likelihood", "--score", ckpt, "--points", "test", "--data-dir", mnist, "--n", "2", "--method", "euler", "--steps", "3", "--out", filepath.Join(dir, "logp.npy"))
	if !strings.Contains(out, "2 points") || !strings.Contains(out, "bits/dim") || !strings.Contains(out, "hutchinson") {
		t.Fatalf("likelihood output %q: want bits/dim of 2 test digits with the Hutchinson divergence", out)
	}
}

// TestInpaintAndColorize runs both image conditionings on the exact colorblocks mixture: the known
// pixels (inpainting) and the gray values (colorization) must come back unchanged.
func TestInpaintAndColorize(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		flag []string
		out  string
	}{{[]string{"--inpaint-mask", "left"}, "inp.npy"}, {[]string{"--colorize"}, "col.npy"}} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"sample", "--data", "colorblocks", "--sde", "vp", "--n", "4", "--steps", "200", "--quiet", "--out", filepath.Join(dir, c.out)}, c.flag...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("scoresde %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
		pts, err := npy.ReadPoints(filepath.Join(dir, c.out))
		if err != nil || len(pts) != 4 || len(pts[0]) != 192 {
			t.Fatalf("%s: %d samples (%v), want 4 of 8×8×3", c.out, len(pts), err)
		}
		if _, err := os.Stat(filepath.Join(dir, strings.TrimSuffix(c.out, ".npy")+".png")); err != nil {
			t.Fatal(err)
		}
		// Every sample is near one of the mixture's images: flat blocks, so the pixels of a block
		// agree within the noise (std 0.05).
		for i, p := range pts {
			for ch := range 3 {
				if d := math.Abs(p[ch] - p[3*(8*7+3)+ch]); d > 0.3 {
					t.Errorf("%s sample %d: left block pixels differ by %.2f in channel %d", c.out, i, d, ch)
				}
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"sample", "--data", "ncsn", "--inpaint-mask", "left"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "need an image model") {
		t.Errorf("inpainting a 2-D mixture: exit %d, %q", code, stderr.String())
	}
	if code := run([]string{"sample", "--data", "colorblocks", "--inpaint-mask", "donut"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--inpaint-mask") {
		t.Errorf("unknown mask: exit %d, %q", code, stderr.String())
	}
}

// TestClassifierGuidanceCommands trains a toy time-conditional classifier briefly and samples one
// class with its guidance.
func TestClassifierGuidanceCommands(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "cls")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--data", "8gaussians", "--sde", "vp", "--classifier", "--steps", "30", "--ckpt", ckpt, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("train --classifier: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "cross-entropy") {
		t.Errorf("train --classifier output %q: want the cross-entropy objective named", stdout.String())
	}
	out := filepath.Join(dir, "s.npy")
	if code := run([]string{"sample", "--data", "8gaussians", "--sde", "vp", "--class", "3", "--classifier", ckpt, "--n", "8", "--steps", "50", "--quiet", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("sample --classifier: exit %d\n%s", code, stderr.String())
	}
	if pts, err := npy.ReadPoints(out); err != nil || len(pts) != 8 {
		t.Fatalf("guided samples: %d (%v), want 8", len(pts), err)
	}
	stderr.Reset()
	if code := run([]string{"sample", "--data", "8gaussians", "--classifier", ckpt}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "give --class K") {
		t.Errorf("--classifier without --class: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"sample", "--data", "colorblocks", "--sde", "vp", "--class", "0", "--classifier", ckpt, "--n", "2", "--steps", "5", "--out", out}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "not a classifier for this model's d=192") {
		t.Errorf("a classifier of the wrong data: exit %d, %q", code, stderr.String())
	}
}
