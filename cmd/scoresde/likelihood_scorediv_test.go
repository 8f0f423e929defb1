package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/toy"
)

// TestLikelihoodClosedFormDivergence: for an exact mixture score in d = 20 (above the d = 16 where
// auto switches a learned score to Hutchinson) the likelihood command keeps the exact divergence,
// computed in closed form, and its NLL matches the closed-form NLL of the mixture.
func TestLikelihoodClosedFormDivergence(t *testing.T) {
	dir := t.TempDir()
	const d = 20
	mean := func(v float64) string {
		parts := make([]string, d)
		for i := range parts {
			parts[i] = strconv.FormatFloat(v*float64(i%3-1), 'g', -1, 64)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	spec := filepath.Join(dir, "mix.json")
	full := make([]string, d) // a tridiagonal covariance: one full component
	for i := range full {
		row := make([]string, d)
		for j := range row {
			switch {
			case i == j:
				row[j] = "1"
			case i-j == 1 || j-i == 1:
				row[j] = "0.3"
			default:
				row[j] = "0"
			}
		}
		full[i] = "[" + strings.Join(row, ",") + "]"
	}
	js := fmt.Sprintf(`{"weights":[0.4,0.6],"means":[%s,%s],"covs":[[%s],0.5]}`, mean(2), mean(-1), strings.Join(full, ","))
	if err := os.WriteFile(spec, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := toy.LoadMixture(spec)
	if err != nil {
		t.Fatal(err)
	}
	pts := filepath.Join(dir, "p.npy")
	if err := npy.WritePoints(pts, m.Sample(toy.NewRand(3), 8)); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"likelihood", "--data", spec, "--sde", "vp", "--points", pts, "--out", filepath.Join(dir, "lp.npy")}, &stdout, &stderr); code != 0 {
		t.Fatalf("likelihood: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	t.Log(out)
	if !strings.Contains(out, "exact divergence") {
		t.Fatalf("likelihood output %q: want the exact divergence for an exact mixture score in d = %d", out, d)
	}
	got := regexp.MustCompile(`mean NLL ([-0-9.]+) nats`).FindStringSubmatch(out)
	want := regexp.MustCompile(`closed-form NLL of the \S+ mixture: ([-0-9.]+) nats`).FindStringSubmatch(out)
	if got == nil || want == nil {
		t.Fatalf("likelihood output %q: want the NLL and the closed-form NLL", out)
	}
	a, _ := strconv.ParseFloat(got[1], 64)
	b, _ := strconv.ParseFloat(want[1], 64)
	if math.Abs(a-b) > 0.01 {
		t.Errorf("NLL %g, closed form %g: want them within 0.01 nats", a, b)
	}
}
