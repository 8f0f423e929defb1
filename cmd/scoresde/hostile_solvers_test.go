package main

// Hostile options of the fast ODE/SDE solvers of lib/sampling (DDIM, Euler ancestral,
// DPM-Solver++, UniPC, DPM-Solver): each is a usage error that names the option and its range,
// and the earlier result stays as it was.
func init() {
	out := []string{"--out", "{dir}/x.npy", "--quiet", "--n", "20"}
	sample := func(args ...string) []string { return append(append([]string{"sample"}, args...), out...) }
	hostileCases = append(hostileCases,
		hostileCase{name: "solvers-unipc-order-7", setup: writeOld, args: sample("--sampler", "ode", "--method", "unipc", "--order", "7"), code: 2,
			want: "unipc: order=7, want 2 or 3", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-unipc-order-fraction", setup: writeOld, args: sample("--sampler", "ode", "--method", "unipc", "--order", "2.5"), code: 2,
			want: "unipc: order=2.5, want 2 or 3", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-unipc-2-takes-no-order", setup: writeOld, args: sample("--sampler", "ode", "--method", "unipc-2", "--order", "3"), code: 2,
			want: "--order does not apply", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-ddim-negative-eta", setup: writeOld, args: sample("--sampler", "ode", "--method", "ddim", "--eta", "-0.5"), code: 2,
			want: "ddim: eta=-0.5, want ≥ 0", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-euler-ancestral-negative-eta", setup: writeOld, args: sample("--sampler", "euler-ancestral", "--eta", "-1"), code: 2,
			want: "euler-ancestral: eta=-1 s-noise=1: want eta ≥ 0 and s-noise ≥ 0", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-2m-sde-negative-s-noise", setup: writeOld, args: sample("--sampler", "dpmpp-2m-sde", "--s-noise", "-1"), code: 2,
			want: "dpmpp-2m-sde: eta=1 s-noise=-1", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-2m-sde-eta-inf", setup: writeOld, args: sample("--sampler", "dpmpp-2m-sde", "--eta", "Inf"), code: 2,
			want: "eta=+Inf, want a finite number", untouched: []string{"x.npy"}},
		hostileCase{name: "solvers-dpm3-eps-at-T", setup: writeOld, args: sample("--sampler", "ode", "--method", "dpm3", "--eps", "1"), code: 2,
			want: "eps=1", untouched: []string{"x.npy"}},
	)
}
