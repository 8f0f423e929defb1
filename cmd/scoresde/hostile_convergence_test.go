package main

import "testing"

func init() {
	spec := func(t *testing.T, dir string) {
		writeFile(t, dir, "mix.json", []byte(`{"weights":[1],"means":[[0,0]],"covs":[1]}`))
		writeFile(t, dir, "old.json", []byte(`{"kept": true}`))
	}
	hostileCases = append(hostileCases,
		hostileCase{name: "convergence-unknown-method", args: []string{"convergence", "--methods", "heun,rk99", "--json", "{dir}/out.json"},
			code: 2, want: `unknown method "rk99": use one of`, untouched: []string{"out.json"}},
		hostileCase{name: "convergence-empty-method", args: []string{"convergence", "--methods", "heun,,euler"},
			code: 2, want: "--methods \"heun,,euler\": name 2 is empty"},
		hostileCase{name: "convergence-method-twice", args: []string{"convergence", "--methods", "heun,Heun"},
			code: 2, want: "method heun is listed twice"},
		hostileCase{name: "convergence-steps-not-int", args: []string{"convergence", "--steps", "8,x,32"},
			code: 2, want: `--steps "8,x,32": value 2 ("x") is not an integer`},
		hostileCase{name: "convergence-steps-one", args: []string{"convergence", "--steps", "16"},
			code: 2, want: "give at least two grid sizes"},
		hostileCase{name: "convergence-steps-zero", args: []string{"convergence", "--steps", "0,16"},
			code: 2, want: "steps=0: want 1 ≤ steps"},
		hostileCase{name: "convergence-steps-huge", args: []string{"convergence", "--steps", "16,999999999"},
			code: 2, want: "steps=999999999: want 1 ≤ steps ≤ 125000"},
		hostileCase{name: "convergence-steps-empty", args: []string{"convergence", "--steps", ""},
			code: 2, want: `--steps "": empty`},
		hostileCase{name: "convergence-schedule", args: []string{"convergence", "--schedule", "karras,cosine"},
			code: 2, want: `unknown schedule "cosine": use one of`},
		hostileCase{name: "convergence-schedule-empty", args: []string{"convergence", "--schedule", " "},
			code: 2, want: "--schedule is empty"},
		hostileCase{name: "convergence-n", args: []string{"convergence", "--n", "1"},
			code: 2, want: "n=1: use at least 2 latents"},
		hostileCase{name: "convergence-n-huge", args: []string{"convergence", "--n", "2000000000"},
			code: 2, want: "at most 16777216 values"},
		hostileCase{name: "convergence-eps", args: []string{"convergence", "--eps", "NaN"},
			code: 2, want: "eps=NaN, want 0 < eps < T"},
		hostileCase{name: "convergence-ref-tol", args: []string{"convergence", "--ref-tol", "-1"},
			code: 2, want: "reference tolerance -1"},
		hostileCase{name: "convergence-fine-factor", args: []string{"convergence", "--fine-factor", "1"},
			code: 2, want: "fine factor 1: want ≥ 2"},
		hostileCase{name: "convergence-shape-data", args: []string{"convergence", "--data", "moons"},
			code: 2, want: `--data: data "moons" has no exact score`},
		hostileCase{name: "convergence-bad-spec", setup: func(t *testing.T, dir string) { writeFile(t, dir, "bad.json", []byte(`{"weights":[0.7]}`)) },
			args: []string{"convergence", "--data", "{dir}/bad.json", "--json", "{dir}/out.json"}, code: 2, want: "--data:", untouched: []string{"bad.json", "out.json"}},
		hostileCase{name: "convergence-json-over-spec", setup: spec,
			args: []string{"convergence", "--data", "{dir}/mix.json", "--json", "{dir}/mix.json"}, code: 2, want: "is the --data spec", untouched: []string{"mix.json"}},
		hostileCase{name: "convergence-json-is-plot", setup: spec,
			args: []string{"convergence", "--data", "{dir}/mix.json", "--json", "{dir}/o.png", "--plot", "{dir}/o.png"}, code: 2, want: "would write the same file", untouched: []string{"o.png"}},
		hostileCase{name: "convergence-json-dir", setup: spec,
			args: []string{"convergence", "--data", "{dir}/mix.json", "--methods", "euler", "--schedule", "uniform", "--steps", "2,4", "--n", "4", "--quiet", "--json", "{dir}"},
			code: 2, want: "is a directory: name a file inside it", untouched: []string{"old.json"}},
		hostileCase{name: "convergence-extra-args", args: []string{"convergence", "extra"},
			code: 2, want: `unexpected arguments ["extra"]`},
	)
}
