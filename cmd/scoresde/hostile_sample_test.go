package main

import (
	"testing"

	"github.com/scoresde/scoresde/lib/npy"
)

// writeOld is a setup that leaves an earlier result at dir/x.npy, which a failing run must keep.
func writeOld(t *testing.T, dir string) {
	writeFile(t, dir, "x.npy", []byte("an earlier result"))
}

// writeLatents writes a small (n, 2) latent file at dir/z.npy, plus an earlier result.
func writeLatents(t *testing.T, dir string) {
	if err := npy.WritePoints(dir+"/z.npy", [][]float64{{0.1, 2}, {-1, 0.5}, {3, -2}}); err != nil {
		t.Fatal(err)
	}
	writeOld(t, dir)
}

func init() {
	out := []string{"--out", "{dir}/x.npy", "--quiet"}
	sample := func(args ...string) []string { return append(append([]string{"sample"}, args...), out...) }
	hostileCases = append(hostileCases,
		hostileCase{name: "sample-snr-inf", setup: writeOld, args: sample("--snr", "Inf"), code: 2, want: "--snr=+Inf, want a finite value ≥ 0", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-snr-huge", setup: writeOld, args: sample("--snr", "1e10", "--steps", "20", "--n", "50"), code: 1,
			want: "became non-finite", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-langevin-step-huge", setup: writeOld, args: sample("--sampler", "langevin", "--step-size", "1e6", "--steps", "50", "--n", "50"), code: 1,
			want: "nothing was written", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-step-size-inf", setup: writeOld, args: sample("--sampler", "langevin", "--step-size", "Inf"), code: 2, want: "--step-size=+Inf", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-guidance-inf", setup: writeOld, args: sample("--class", "0", "--guidance-scale", "Inf"), code: 2, want: "--guidance-scale=+Inf, want a finite value ≥ 0", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-record-every-0", setup: writeOld, args: sample("--trajectory", "{dir}/traj.npy", "--record-every", "0"), code: 2, want: "--record-every=0, want ≥ 1", untouched: []string{"x.npy", "traj.npy"}},
		hostileCase{name: "sample-steps-huge", setup: writeOld, args: sample("--steps", "1000000000"), code: 2, want: "--steps=1000000000, want 1 to 1000000", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-param-wrong-sampler", setup: writeOld, args: sample("--churn", "5"), code: 2, want: "--churn does not apply to --sampler pc: it is an option of --sampler edm", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-unknown-schedule", setup: writeOld, args: sample("--sampler", "edm", "--schedule", "cosine"), code: 2, want: `unknown schedule "cosine"`, untouched: []string{"x.npy"}},
		hostileCase{name: "sample-edm-bad-churn", setup: writeOld, args: sample("--sampler", "edm", "--churn", "-1"), code: 2, want: "want churn ≥ 0", untouched: []string{"x.npy"}},
		hostileCase{name: "sample-ode-stochastic-method", setup: writeOld, args: sample("--sampler", "ode", "--method", "edm"), code: 2, want: `unknown ODE method "edm"`, untouched: []string{"x.npy"}},
		hostileCase{name: "decode-in-is-out", setup: writeLatents, args: []string{"decode", "--in", "{dir}/z.npy", "--out", "{dir}/z.npy"}, code: 2, want: "--in and --out are the same file", untouched: []string{"z.npy"}},
		hostileCase{name: "encode-in-is-out", setup: writeLatents, args: []string{"encode", "--in", "{dir}/z.npy", "--out", "{dir}/z.npy"}, code: 2, want: "--in and --out are the same file", untouched: []string{"z.npy"}},
		hostileCase{name: "likelihood-points-is-out", setup: writeLatents, args: []string{"likelihood", "--points", "{dir}/z.npy", "--out", "{dir}/z.npy"}, code: 2, want: "--points and --out are the same file", untouched: []string{"z.npy"}},
		hostileCase{name: "decode-unknown-method", setup: writeLatents, args: []string{"decode", "--in", "{dir}/z.npy", "--out", "{dir}/x.npy", "--method", "rk99"}, code: 2, want: `--method "rk99": use rk45`, untouched: []string{"x.npy"}},
		hostileCase{name: "decode-unknown-schedule", setup: writeLatents, args: []string{"decode", "--in", "{dir}/z.npy", "--out", "{dir}/x.npy", "--method", "heun", "--schedule", "cosine"}, code: 2, want: `--schedule: unknown schedule "cosine"`, untouched: []string{"x.npy"}},
		hostileCase{name: "decode-steps-negative", setup: writeLatents, args: []string{"decode", "--in", "{dir}/z.npy", "--out", "{dir}/x.npy", "--steps", "-3"}, code: 2, want: "--steps=-3", untouched: []string{"x.npy"}},
	)
}
