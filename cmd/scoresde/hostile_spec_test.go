package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scoresde/scoresde/toy"
)

// specCase is a hostile mixture spec for `scoresde sample --data spec.json`: refused with exit 2
// and want on stderr, leaving an existing output file as it was.
func specCase(name, spec, want string) hostileCase {
	return hostileCase{
		name: "spec-" + name,
		setup: func(t *testing.T, dir string) {
			writeFile(t, dir, "spec.json", []byte(spec))
			writeFile(t, dir, "x.npy", []byte("samples of an earlier run"))
		},
		args:      []string{"sample", "--data", "{dir}/spec.json", "--n", "10", "--steps", "5", "--out", "{dir}/x.npy", "--quiet"},
		code:      2,
		want:      want,
		untouched: []string{"x.npy"},
	}
}

func init() {
	huge := `{"weights":[1],"means":[[` + strings.TrimSuffix(strings.Repeat("0,", toy.MaxDim+1), ",") + `]],"covs":[1]}`
	hostileCases = append(hostileCases,
		specCase("trailing-garbage", `{"weights":[1],"means":[[0,0]],"covs":[1]} garbage`, "trailing data after the JSON object at byte 43"),
		specCase("two-objects", `{"weights":[1],"means":[[0,0]],"covs":[1]}{}`, "a spec is one JSON object"),
		specCase("ragged-cov", `{"weights":[1],"means":[[0,0]],"covs":[[[1,0],[]]]}`, "covs[0][1] has 0 values, want 2 (row 1 of a 2×2 matrix)"),
		specCase("non-pd-cov", `{"weights":[1],"means":[[0,0]],"covs":[[[1,2],[2,1]]]}`, "covs[0] is not positive definite"),
		specCase("mean-1e20", `{"weights":[1],"means":[[1e20,0]],"covs":[1]}`, "means[0][0] is 1e+20, beyond ±1e+06"),
		specCase("variance-1e20", `{"weights":[1],"means":[[0,0]],"covs":[1e20]}`, "covs[0]: variance is 1e+20, beyond 1e+12"),
		specCase("weights-nan", `{"weights":[NaN],"means":[[0,0]],"covs":[1]}`, "NaN and Infinity are not JSON numbers"),
		specCase("weights-sum", `{"weights":[0.5,0.2],"means":[[0,0],[1,1]],"covs":[1,1]}`, "weights sum to 0.7, want 1"),
		specCase("huge-dimension", huge, "means[0] has 1048577 coordinates, more than the 1048576 allowed"),
		specCase("truncated", `{"weights":[1],"means":[[0,0]`, "the JSON ends too early"),
		hostileCase{name: "spec-unknown-flag", setup: func(t *testing.T, dir string) { writeFile(t, dir, "x.npy", []byte("old")) },
			args: []string{"sample", "--data", "ncsn", "--bogus", "--out", "{dir}/x.npy"}, code: 2,
			want: "scoresde sample: flag provided but not defined: -bogus\nrun 'scoresde sample --help' for the flags\n", untouched: []string{"x.npy"}},
		hostileCase{name: "spec-bad-flag-value", args: []string{"sample", "--n", "ten", "--out", "{dir}/x.npy"}, code: 2,
			want: `scoresde sample: invalid value "ten" for flag -n: parse error`, untouched: []string{"x.npy"}},
		hostileCase{name: "spec-figures-unknown-figure", args: []string{"figures", "--out", "{dir}/figs", "--only", "kernels,nosuch"}, code: 2,
			want: "scoresde figures: --only: unknown figure(s) nosuch: choose from"},
		hostileCase{name: "spec-figures-empty-name", args: []string{"figures", "--out", "{dir}/figs", "--only", "kernels,"}, code: 2,
			want: `--only "kernels," holds an empty name`},
		hostileCase{name: "spec-data-with-score", args: []string{"sample", "--score", "{dir}/nockpt", "--data", "{dir}/missing.json", "--out", "{dir}/x.npy"}, code: 2,
			want: `--data: unknown data`, untouched: []string{"x.npy"}},
	)
}

// TestBadFlagOneLine: a bad flag gives exactly the problem and the pointer to --help on stderr
// (not the whole usage), with exit 2; --help prints the usage on stdout with exit 0.
func TestBadFlagOneLine(t *testing.T) {
	for _, args := range [][]string{{"sample", "--bogus"}, {"figures", "-x"}, {"sample", "--steps", "many"}, {"backends", "--start=maybe"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if code != 2 || len(lines) != 2 || !strings.HasPrefix(lines[0], "scoresde "+args[0]+": ") || lines[1] != "run 'scoresde "+args[0]+" --help' for the flags" {
				t.Errorf("exit %d, stderr %q: want exit 2, the problem and the --help pointer", code, stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"sample", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: scoresde sample") || !strings.Contains(stdout.String(), "-data") || stderr.Len() > 0 {
		t.Errorf("sample --help: exit %d, stdout %.80q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// TestFiguresBadOnlyMakesNothing: an unknown --only name is refused before the output
// directory is made.
func TestFiguresBadOnlyMakesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "figs")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"figures", "--out", out, "--only", "nosuch"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was made by a refused command (%v)", out, err)
	}
}

// TestSampleHighDimensionalSpec: a 10,000-D isotropic spec samples within seconds (no d×d work
// in toy, no 500-point plot reference for a non-2-D model).
func TestSampleHighDimensionalSpec(t *testing.T) {
	dir := t.TempDir()
	zeros := strings.TrimSuffix(strings.Repeat("0,", 10000), ",")
	ones := strings.TrimSuffix(strings.Repeat("1,", 10000), ",")
	writeFile(t, dir, "spec.json", []byte(`{"weights":[0.5,0.5],"means":[[`+zeros+`],[`+ones+`]],"covs":[0.5,0.5]}`))
	start := time.Now()
	out := runOK(t, "sample", "--data", filepath.Join(dir, "spec.json"), "--n", "10", "--steps", "5", "--out", filepath.Join(dir, "x.npy"), "--quiet")
	if !strings.Contains(out, "wrote 10 samples of mixture (d=10000)") {
		t.Errorf("sample output: %s", out)
	}
	if el := time.Since(start); el > time.Minute {
		t.Errorf("sampling a 10,000-D isotropic spec took %s", el)
	}
}

// TestScoreWithMismatchedData: with --score DIR, an explicit --data of another dimension is a
// usage error (it used to be dropped without a word), and the default --data is still optional.
func TestScoreWithMismatchedData(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt")
	runOK(t, "train", "--data", "8gaussians", "--sde", "vp", "--steps", "2", "--batch", "16", "--ckpt", ckpt, "--quiet")
	out := filepath.Join(dir, "x.npy")
	checkBad(t, []badCase{
		{[]string{"sample", "--score", ckpt, "--data", "bimodal1d", "--n", "4", "--steps", "30", "--out", out, "--quiet"}, 2, "--data bimodal1d has dimension 1, but the network of"},
	})
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written by a refused command (%v)", out, err)
	}
	runOK(t, "sample", "--score", ckpt, "--n", "4", "--steps", "30", "--out", out, "--quiet")
}
