package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/internal/sharedtest"

	"github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/fd"
	"github.com/scoresde/scoresde/lib/npy"
)

// writeSamples stores n MNIST test digits as an (n, 784) .npy array, centered to [−1, 1] when
// asked, and returns its path.
func writeSamples(t *testing.T, mnist string, n int, centered bool, shape ...int) string {
	t.Helper()
	test, err := data.LoadMNIST(mnist, "test")
	if err != nil {
		t.Fatal(err)
	}
	flat := make([]float64, 0, n*fd.Pixels)
	for i := range n {
		for _, v := range test.Float(i, centered) {
			flat = append(flat, float64(v))
		}
	}
	if len(shape) == 0 {
		shape = []int{n, fd.Pixels}
	}
	path := filepath.Join(t.TempDir(), "samples.npy")
	if err := npy.Write(path, flat, shape...); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFDBadInvocations: each bad command line of fd and fd-classifier gives one line naming the
// flag and the fix, never a stack trace.
func TestFDBadInvocations(t *testing.T) {
	mnist := sharedtest.MNISTDir(t)
	corrupt := t.TempDir()
	for _, name := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if err := os.WriteFile(filepath.Join(corrupt, name), []byte("not an IDX file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	badShape := filepath.Join(tmp, "points.npy")
	if err := npy.Write(badShape, make([]float64, 10), 5, 2); err != nil {
		t.Fatal(err)
	}
	bytes255 := filepath.Join(tmp, "bytes.npy")
	vals := make([]float64, 2*fd.Pixels)
	vals[3] = 255
	if err := npy.Write(bytes255, vals, 2, 28, 28, 1); err != nil {
		t.Fatal(err)
	}
	one := writeSamples(t, mnist, 1, false)
	plain := writeSamples(t, mnist, 4, false)
	centered := writeSamples(t, mnist, 4, true)
	notDir := filepath.Join(tmp, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	cases := []badCase{
		{[]string{"fd-classifier", "extra"}, 2, `unexpected arguments ["extra"]`},
		{[]string{"fd-classifier", "--epochs", "0"}, 2, "--epochs=0, want ≥ 1"},
		{[]string{"fd-classifier", "--n-train", "-1"}, 2, "--n-train=-1, want ≥ 0"},
		{[]string{"fd-classifier", "--data-dir", mnist, "--n-train", "10"}, 2, "--n-train=10 is fewer than one batch"},
		{[]string{"fd-classifier", "--data-dir", corrupt}, 1, "--data-dir: data: "},
		{[]string{"fd-classifier", "--data-dir", mnist, "--n-train", "64", "--epochs", "1", "--quiet", "--out", notDir}, 1, "--out: fd: saving " + notDir + ": it is a file"},
		{[]string{"fd", "extra"}, 2, `unexpected arguments ["extra"]`},
		{[]string{"fd", "--samples", ""}, 2, "--samples is empty"},
		{[]string{"fd", "--samples", "/nonexistent.npy"}, 1, "--samples: /nonexistent.npy does not exist: pass the .npy file written by `scoresde sample"},
		{[]string{"fd", "--samples", badShape}, 1, "shape [5 2]: want MNIST images of shape (n, 784)"},
		{[]string{"fd", "--samples", one}, 1, "holds 1 image(s): FD-MNIST needs at least 2"},
		{[]string{"fd", "--samples", bytes255}, 1, "values up to 255: scale the pixels to [0, 1]"},
		{[]string{"fd", "--samples", bytes255, "--clip", "--classifier", t.TempDir()}, 1, "--classifier: fd: "}, // --clip passes the range check
		{[]string{"fd", "--samples", centered}, 1, "look like centered samples in [−1, 1]; pass --centered"},
		{[]string{"fd", "--samples", plain, "--centered"}, 1, "look like samples in [0, 1]; drop --centered"},
		{[]string{"fd", "--samples", plain, "--classifier", t.TempDir()}, 1, "--classifier: fd: "},
		{[]string{"fd", "--centered=maybe"}, 2, "invalid boolean value"},
	}
	checkBad(t, cases)
	var stdout, stderr bytes.Buffer
	run([]string{"fd", "--samples", plain, "--classifier", t.TempDir()}, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "scoresde fd-classifier --out") {
		t.Errorf("a folder without a classifier: %q does not say how to train one", stderr.String())
	}
}

// TestFDPipeline trains a quick classifier with fd-classifier and scores test digits with fd, in
// [0, 1] and centered, with the JSON report.
func TestFDPipeline(t *testing.T) {
	mnist := sharedtest.MNISTDir(t)
	dir := t.TempDir()
	clf := filepath.Join(dir, "clf")
	out := runOK(t, "fd-classifier", "--data-dir", mnist, "--out", clf, "--epochs", "1", "--n-train", "640", "--quiet")
	if !strings.Contains(out, "on 640 digits for 1 epochs") || !strings.Contains(out, "test accuracy") || !strings.Contains(out, "wrote "+clf) {
		t.Fatalf("fd-classifier output %q", out)
	}
	if _, err := os.Stat(filepath.Join(clf, fd.ManifestName)); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "fd.json")
	plain := writeSamples(t, mnist, 50, false, 50, 28, 28, 1)
	out = runOK(t, "fd", "--samples", plain, "--classifier", clf, "--data-dir", mnist, "--json", report)
	for _, want := range []string{"FD-MNIST ", "50 samples", "vs 1000 MNIST test digits", "FD-MNIST of 50 real training digits", "grows as the sample shrinks"} {
		if !strings.Contains(out, want) {
			t.Errorf("fd output lacks %q:\n%s", want, out)
		}
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep fdReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.N != 50 || rep.RefN != 1000 || !(rep.FDMNIST > 0) || !(rep.Floor > 0) || rep.FloorN != 50 {
		t.Errorf("report %+v", rep)
	}
	centered := writeSamples(t, mnist, 50, true)
	out = runOK(t, "fd", "--samples", centered, "--centered", "--classifier", clf, "--data-dir", mnist, "--floor=false")
	var v float64
	if _, err := fmt.Sscanf(out, "FD-MNIST %g:", &v); err != nil || math.Abs(v-rep.FDMNIST) > 1e-3*rep.FDMNIST {
		t.Errorf("centered samples: FD-MNIST %q, want %.4g as for the same digits in [0, 1]", out, rep.FDMNIST)
	}
}
