package sampling

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// fastSolvers are the methods of ddim.go … unipc.go, with their exact NFE for n steps.
var fastSolvers = map[string]func(n int) int{
	"ddim":            func(n int) int { return n },
	"euler-ancestral": func(n int) int { return n },
	"dpmpp-2s":        func(n int) int { return 2 * n },
	"dpmpp-2m":        func(n int) int { return n },
	"dpmpp-3m":        func(n int) int { return n },
	"dpmpp-2m-sde":    func(n int) int { return n },
	"unipc":           func(n int) int { return n },
	"unipc-2":         func(n int) int { return n },
	"dpm2":            func(n int) int { return 2 * n },
	"dpm3":            func(n int) int { return 3 * n },
}

func allSDEs() []sde.SDE { return []sde.SDE{sde.NewVE(), sde.NewVP(), sde.NewSubVP()} }

// TestFastSolversRegistered: every method of these files is in the registry under its name.
func TestFastSolversRegistered(t *testing.T) {
	for name := range fastSolvers {
		if _, err := LookupMethod(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSolversMatchData: every registered method, deterministic and stochastic, at its default
// steps and grid with the exact score, draws samples of a 2-D and a 5-D Gaussian mixture whose SW2
// to a fresh data sample is within 3× the floor between two data samples.
func TestSolversMatchData(t *testing.T) {
	if testing.Short() {
		t.Skip("long: every method on two mixtures and three SDEs")
	}
	b := backend.MustNew()
	for _, mix := range mixtures(t) {
		fl := floor(t, mix)
		ref := mix.Sample(toy.NewRand(303), testN)
		for _, m := range Methods() {
			for _, s := range allSDEs() {
				t.Run(fmt.Sprintf("%s/%s/%s", mix.Name(), m.Name, s.Name()), func(t *testing.T) {
					res, err := Sample(b, s, mix.ScoreFn(s), []int{testN, mix.Dim()}, SolveOptions{Method: m.Name, Denoise: true},
						Run{Seed: 11, DType: dtypes.Float64})
					if err != nil {
						t.Fatal(err)
					}
					sw, err := metrics.SlicedW2(res.Points(), ref, projections, 7)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("SW2 %.4f (floor %.4f, ratio %.2f) NFE %d in %v", sw, fl, sw/fl, res.NFE, res.Elapsed.Round(1e6))
					if !(sw <= 3*fl) {
						t.Errorf("SW2 %.4f exceeds 3× the data floor %.4f (%d steps of %s)", sw, fl, m.DefaultSteps, m.DefaultSchedule)
					}
				})
			}
		}
	}
}

// maxAbsDiff is the largest |a − b| over two point sets of the same shape.
func maxAbsDiff(a, b [][]float64) float64 {
	var d float64
	for i := range a {
		for j := range a[i] {
			d = math.Max(d, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return d
}

// TestDDIMEqualsEulerAncestral: DDIM(η) in x-space and Euler ancestral(η) on the scaled state in σ
// are the same update, so with the same latent and the same noise (one Brownian path, or the
// backend's generator from the same seed) they agree to 1e-10 in float64 on every SDE, while
// their noise does change the samples (η = 0 lands elsewhere).
func TestDDIMEqualsEulerAncestral(t *testing.T) {
	b := backend.MustNew()
	mix := mixtures(t)[0]
	for _, s := range allSDEs() {
		for _, noise := range []string{"brownian", "rng"} {
			for _, eta := range []float64{0.5, 1, 1.5} {
				t.Run(fmt.Sprintf("%s/%s/eta=%g", s.Name(), noise, eta), func(t *testing.T) {
					run := func(method string, eta float64) [][]float64 {
						params := map[string]float64{"eta": eta}
						res, err := Sample(b, s, mix.ScoreFn(s), []int{200, 2},
							SolveOptions{Method: method, Schedule: "karras", Steps: 40, Params: params, Noise: noise},
							Run{Seed: 5, DType: dtypes.Float64})
						if err != nil {
							t.Fatal(err)
						}
						return res.Points()
					}
					ddim, ea := run("ddim", eta), run("euler-ancestral", eta)
					d, dNoise := maxAbsDiff(ddim, ea), maxAbsDiff(ddim, run("ddim", 0))
					t.Logf("DDIM vs Euler ancestral: %.3g; vs DDIM(η=0): %.3g", d, dNoise)
					if !(d <= 1e-10) {
						t.Errorf("DDIM(η=%g) and Euler ancestral differ by %.3g", eta, d)
					}
					if d := dNoise; !(d > 1e-2) {
						t.Errorf("DDIM with η=%g is within %.3g of η=0: the noise did not reach the samples", eta, d)
					}
				})
			}
		}
	}
}

// TestDPMpp2MSDEWithoutNoise: DPM-Solver++(2M) SDE with η = 0 is DPM-Solver++(2M) (k-diffusion's
// midpoint weight equals 2M's), to round-off.
func TestDPMpp2MSDEWithoutNoise(t *testing.T) {
	b := backend.MustNew()
	mix := mixtures(t)[0]
	for _, s := range allSDEs() {
		run := func(method string, params map[string]float64) [][]float64 {
			res, err := Sample(b, s, mix.ScoreFn(s), []int{100, 2}, SolveOptions{Method: method, Schedule: "karras", Steps: 25, Params: params},
				Run{Seed: 3, DType: dtypes.Float64})
			if err != nil {
				t.Fatal(err)
			}
			return res.Points()
		}
		if d := maxAbsDiff(run("dpmpp-2m-sde", map[string]float64{"eta": 0}), run("dpmpp-2m", nil)); !(d <= 1e-12) {
			t.Errorf("%s: 2M SDE with η=0 differs from 2M by %.3g", s.Name(), d)
		}
	}
}

// rmsDiff is the root mean square of a − b over all coordinates.
func rmsDiff(a, b [][]float64) float64 {
	var sum float64
	var n int
	for i := range a {
		for j := range a[i] {
			d := a[i][j] - b[i][j]
			sum += d * d
			n++
		}
	}
	return math.Sqrt(sum / float64(n))
}

// TestStochasticPathwise: every method that injects noise, driven by one Brownian path in σ (same
// seed, same latent), converges pathwise: its distance to the same method on a 1024-step grid
// shrinks as the steps go 16 → 64 → 256, by at least half overall.
func TestStochasticPathwise(t *testing.T) {
	b := backend.MustNew()
	mix := mixtures(t)[0]
	type cfg struct {
		method string
		params map[string]float64
	}
	var cfgs []cfg
	for _, name := range MethodNames(false, true) {
		cfgs = append(cfgs, cfg{name, nil})
	}
	cfgs = append(cfgs, cfg{"ddim", map[string]float64{"eta": 1}})
	for _, s := range allSDEs() {
		latent, _, err := priorSample(b, s, []int{200, 2}, Run{Seed: 21, DType: dtypes.Float64})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cfgs {
			t.Run(s.Name()+"/"+c.method, func(t *testing.T) {
				m, _ := LookupMethod(c.method)
				runNoise := func(steps int, noise string) [][]float64 {
					res, err := Sample(b, s, mix.ScoreFn(s), nil, SolveOptions{Method: c.method, Steps: steps, Params: c.params, Latent: latent, Noise: noise},
						Run{Seed: 4, DType: dtypes.Float64})
					if err != nil {
						t.Fatal(err)
					}
					return res.Points()
				}
				run := func(steps int) [][]float64 { return runNoise(steps, "brownian") }
				ref := run(1024)
				var errs []float64
				for _, n := range []int{16, 64, 256} {
					errs = append(errs, rmsDiff(run(n), ref))
				}
				// The control: independent noise (the backend's generator) does not come closer.
				indep := rmsDiff(runNoise(256, "rng"), ref)
				t.Logf("%s grid: RMS distance to 1024 steps at 16, 64, 256 steps: %.3g (independent noise at 256: %.3g)", m.DefaultSchedule, errs, indep)
				if !(errs[0] > errs[1] && errs[1] > errs[2] && errs[2] <= errs[0]/2) {
					t.Errorf("no pathwise convergence: RMS distances %.3g", errs)
				}
				if !(indep > 4*errs[2]) {
					t.Errorf("independent noise at 256 steps is as close (%.3g) as the Brownian path (%.3g): the test does not see the path", indep, errs[2])
				}
			})
		}
	}
}

// TestFastSolversNFEAndShapes: each method counts its score evaluations exactly, and runs on a
// batch of any trailing shape ([8, 2, 3] here) with a closed-form Gaussian score, on every SDE,
// landing near the data from 7 steps on (the noise-prediction DPM-Solvers overshoot on one or two
// steps that span the whole log-SNR range, as Lu et al. report).
func TestFastSolversNFEAndShapes(t *testing.T) {
	b := backend.MustNew()
	g := gaussian{mu: 0.5, c: 0.8}
	for _, s := range allSDEs() {
		for name, nfe := range fastSolvers {
			for _, steps := range []int{1, 2, 7, 12} {
				t.Run(fmt.Sprintf("%s/%s/%d", s.Name(), name, steps), func(t *testing.T) {
					res, err := Sample(b, s, g.score(s), []int{8, 2, 3}, SolveOptions{Method: name, Steps: steps}, Run{Seed: 1, DType: dtypes.Float64})
					if err != nil {
						t.Fatal(err)
					}
					if res.NFE != nfe(steps) {
						t.Errorf("NFE %d, want %d", res.NFE, nfe(steps))
					}
					if dims := res.Samples.Shape().Dimensions; fmt.Sprint(dims) != "[8 2 3]" {
						t.Errorf("samples shaped %v, want [8 2 3]", dims)
					}
					for _, p := range res.Points() {
						for _, v := range p {
							if math.IsNaN(v) || math.IsInf(v, 0) || (steps >= 7 && math.Abs(v) > 10) {
								t.Fatalf("sample value %g", v)
							}
						}
					}
				})
			}
		}
	}
}

// TestFastSolversLearnedScore: each method runs with a score network (a randomly initialized
// toy MLP, in float32) on every SDE and gives finite samples.
func TestFastSolversLearnedScore(t *testing.T) {
	b := backend.MustNew()
	mlp := nets.NewMLP(2)
	params, err := mlp.Init(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range allSDEs() {
		score := func(x, tt *Node) *Node {
			ps := make([]*Node, len(params.Values))
			for i, v := range params.Values {
				ps[i] = ConvertDType(Const(x.Graph(), v), x.DType())
			}
			return nets.ScoreFn(mlp, ps, s, false)(x, tt)
		}
		for name := range fastSolvers {
			t.Run(s.Name()+"/"+name, func(t *testing.T) {
				res, err := Sample(b, s, score, []int{16, 2}, SolveOptions{Method: name, Steps: 5}, Run{Seed: 2})
				if err != nil {
					t.Fatal(err)
				}
				if res.Samples.DType() != dtypes.Float32 {
					t.Errorf("samples of dtype %s, want the run's Float32", res.Samples.DType())
				}
				for _, p := range res.Points() {
					if math.IsNaN(p[0]) || math.IsInf(p[0], 0) {
						t.Fatalf("sample %v", p)
					}
				}
			})
		}
	}
}

// TestFastSolversBadInput: each bad option or grid ends in one error line that names it and the fix.
func TestFastSolversBadInput(t *testing.T) {
	b := backend.MustNew()
	mix := mixtures(t)[0]
	vp, ve := sde.NewVP(), sde.NewVE()
	cases := []struct {
		name string
		s    sde.SDE
		o    SolveOptions
		want string
	}{
		{"ddim negative eta", vp, SolveOptions{Method: "ddim", Params: map[string]float64{"eta": -1}}, "ddim: eta=-1, want ≥ 0"},
		{"euler-ancestral negative s-noise", vp, SolveOptions{Method: "euler-ancestral", Params: map[string]float64{"s-noise": -2}}, "s-noise=-2"},
		{"2m-sde negative eta", vp, SolveOptions{Method: "dpmpp-2m-sde", Params: map[string]float64{"eta": -0.5}}, "want eta ≥ 0"},
		{"unipc order 4", vp, SolveOptions{Method: "unipc", Params: map[string]float64{"order": 4}}, "unipc: order=4, want 2 or 3"},
		{"unipc order 2.5", vp, SolveOptions{Method: "unipc", Params: map[string]float64{"order": 2.5}}, "order=2.5, want 2 or 3"},
		{"unipc-2 takes no order", vp, SolveOptions{Method: "unipc-2", Params: map[string]float64{"order": 3}}, "takes no option \"order\""},
		{"grid to t=0", vp, SolveOptions{Method: "dpmpp-2m", Grid: []float64{1, 0.5, 0}}, "log-SNR is not finite: end the grid at ε > 0"},
		{"dpm3 grid to t=0", vp, SolveOptions{Method: "dpm3", Grid: []float64{1, 0}}, "t[1]=0"},
		// VE's σ(t) = σmin·(σmax/σmin)^t rounds to σmin for both of the last two times.
		{"times too close", ve, SolveOptions{Method: "unipc", Grid: []float64{1, 0.5, 1e-20, 5e-21}}, "same noise level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Sample(b, c.s, mix.ScoreFn(c.s), []int{4, 2}, c.o, Run{})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line containing %q", err, c.want)
			}
		})
	}
}

// TestDPMSolverTinyStep: a step too short for DPM-Solver's intermediate times to fall strictly
// inside it in float64 (found by FuzzSolverPlans: t = 1.25e-4 to its float64 neighbour on VP) is
// taken at first order instead of dividing by a zero ratio r_1, and the samples stay finite and equal
// to a grid without that step.
func TestDPMSolverTinyStep(t *testing.T) {
	b := backend.MustNew()
	vp := sde.NewVP()
	g := gaussian{mu: 0.5, c: 0.8}
	for _, name := range []string{"dpm2", "dpm3"} {
		run := func(grid []float64) [][]float64 {
			res, err := Sample(b, vp, g.score(vp), []int{16, 2}, SolveOptions{Method: name, Grid: grid}, Run{Seed: 1, DType: dtypes.Float64})
			if err != nil {
				t.Fatalf("%s on grid %v: %v", name, grid, err)
			}
			return res.Points()
		}
		tiny := run([]float64{1, 0.9, 1.25e-4, math.Nextafter(1.25e-4, 0), 2e-5})
		if d := maxAbsDiff(tiny, run([]float64{1, 0.9, 1.25e-4, 2e-5})); !(d < 1e-9) {
			t.Errorf("%s: the tiny step moved the samples by %.3g", name, d)
		}
	}
}

// TestPhi: φ_k(z) = Σ z^j/(j+k)! by series and by recurrence agree with the closed forms, across
// the switch at |z| = 1 and at tiny z where the closed forms cancel.
func TestPhi(t *testing.T) {
	closed := []func(z float64) float64{
		math.Exp,
		func(z float64) float64 { return math.Expm1(z) / z },
		func(z float64) float64 { return (math.Expm1(z) - z) / (z * z) },
		func(z float64) float64 { return (math.Expm1(z) - z - z*z/2) / (z * z * z) },
	}
	for k, f := range closed {
		for _, z := range []float64{-5, -1.0000001, -0.9999999, -0.3, 0.3, 0.9999999, 1.0000001, 2, 7} {
			if got, want := phi(k, z), f(z); math.Abs(got-want) > 1e-9*math.Abs(want) {
				t.Errorf("φ_%d(%g) = %.15g, want %.15g", k, z, got, want)
			}
		}
	}
	// At z = 1e-6 the closed form of φ_3 has lost its digits; the series is 1/6 + z/24 + z²/120 + ….
	z := 1e-6
	if got, want := phi(3, z), 1.0/6+z/24+z*z/120; math.Abs(got-want) > 1e-16 {
		t.Errorf("φ_3(1e-6) = %.17g, want %.17g", got, want)
	}
}

// TestSolveSmall: the Vandermonde systems of UniPC are solved exactly (pivoting included).
func TestSolveSmall(t *testing.T) {
	a := [][]float64{{0, 1, 1}, {1, -2, 1}, {1, 4, 1}}
	want := []float64{1, -2, 3}
	b := make([]float64, 3)
	for i := range a {
		for j := range a[i] {
			b[i] += a[i][j] * want[j]
		}
	}
	got := solveSmall(a, b)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("x = %v, want %v", got, want)
		}
	}
}

// BenchmarkStep times one compiled step of each registered method (VP, exact score of the
// 8-Gaussians mixture, float32) on 10,000 2-D points at the middle of its default grid, tensors
// kept on the backend; the noise of stochastic methods is a given normal tensor (the Brownian path
// is drawn on the host, outside the step).
func BenchmarkStep(b *testing.B) {
	be := backend.MustNew()
	mix, err := toy.LoadMixture("8gaussians")
	if err != nil {
		b.Fatal(err)
	}
	s := sde.NewVP()
	for _, m := range Methods() {
		b.Run(m.Name, func(b *testing.B) {
			_, p, err := SolveOptions{Method: m.Name}.Prepare(s, mix.ScoreFn(s))
			if err != nil {
				b.Fatal(err)
			}
			st, err := m.New(p)
			if err != nil {
				b.Fatal(err)
			}
			v, coeffs, _ := st.Plan(p.Steps() / 2)
			nh := st.History
			exec, err := NewExec(be, func(in []*Node) []*Node { // as runSteps builds a step
				x := in[0]
				var z *Node
				if st.Noise {
					z = in[2+nh]
				}
				next, nextHist := st.Step(v, x, in[1:1+nh], ConvertDType(in[1+nh], x.DType()), z)
				return append(append([]*Node{next}, nextHist...), LogicalAll(IsFinite(next)))
			})
			if err != nil {
				b.Fatal(err)
			}
			run := Run{Seed: 1, DType: dtypes.Float32}
			x, _, err := priorSample(be, s, []int{benchPoints, 2}, run)
			if err != nil {
				b.Fatal(err)
			}
			args := []any{x}
			for range nh {
				args = append(args, x) // history: any tensor shaped like x
			}
			args = append(args, coeffs)
			if st.Noise {
				z, _, err := priorSample(be, sde.NewVP(), []int{benchPoints, 2}, Run{Seed: 2, DType: dtypes.Float32})
				if err != nil {
					b.Fatal(err)
				}
				args = append(args, z)
			}
			step := func() {
				outs, err := exec.Call(args...)
				if err != nil {
					b.Fatal(err)
				}
				args[0] = outs[0]
				for k := range nh {
					args[1+k] = outs[1+k]
				}
			}
			step() // compile outside the timer
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.StopTimer()
			b.ReportMetric(float64(benchPoints)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// FuzzSolverPlans: for any grid of two to five times and any method options, a fast solver either
// refuses the problem with one error line or plans every step with finite coefficients (the host
// arithmetic: log-SNR steps, φ functions, UniPC's small solves, DPM-Solver's intermediate times).
func FuzzSolverPlans(f *testing.F) {
	f.Add(uint8(0), uint8(0), 1.0, 0.5, 0.001, -1.0, -1.0, 1.0)
	f.Add(uint8(1), uint8(3), 1.0, 1-1e-15, 1e-300, 0.0, -1.0, 0.0)          // times closer than their σ can tell
	f.Add(uint8(2), uint8(8), 1.0, 0.999999, 0.999998, 0.5, 0.0, 2.0)        // tiny steps, then t = 0
	f.Add(uint8(0), uint8(9), 1.0, 1e-20, 5e-21, 1e-22, -1.0, 1e10)          // VE σ stuck at σmin
	f.Add(uint8(1), uint8(6), 1.0, 0.9, 1e-3, 1e-3*(1-1e-16), 1e-5, 3.0)     // a huge step after tiny ones
	f.Add(uint8(2), uint8(7), math.Inf(1), math.NaN(), -1.0, 2.0, 0.5, -3.0) // out of range
	f.Add(uint8(1), uint8(5), 1.0, 0.5, 0.25, 0.125, 0.0625, math.Inf(1))    // bad eta
	names := []string{"ddim", "euler-ancestral", "dpmpp-2s", "dpmpp-2m", "dpmpp-3m", "dpmpp-2m-sde", "unipc", "unipc-2", "dpm2", "dpm3"}
	f.Fuzz(func(t *testing.T, sdeIdx, methodIdx uint8, t0, t1, t2, t3, t4, eta float64) {
		s := allSDEs()[int(sdeIdx)%3]
		name := names[int(methodIdx)%len(names)]
		var grid []float64
		for _, v := range []float64{t0, t1, t2, t3, t4} {
			if v < 0 && len(grid) >= 2 {
				break // a negative time ends the grid
			}
			grid = append(grid, v)
		}
		m, err := LookupMethod(name)
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]float64{}
		for _, p := range m.Params {
			if p.Name == "eta" {
				params["eta"] = eta
			}
		}
		_, p, err := SolveOptions{Method: name, Grid: grid, Params: params}.Prepare(s, nil)
		if err == nil {
			var st *Stepper
			if st, err = m.New(p); err == nil {
				for i := range p.Steps() {
					v, c, nfe := st.Plan(i)
					if v < 0 || v >= max(st.Variants, 1) || nfe < 0 {
						t.Fatalf("%s step %d: variant %d of %d, NFE %d", name, i, v, st.Variants, nfe)
					}
					for k, x := range c {
						if math.IsNaN(x) || math.IsInf(x, 0) {
							t.Fatalf("%s on %s, grid %v, eta %g: step %d coefficient %d is %g (all %v)", name, s.Name(), grid, eta, i, k, x, c)
						}
					}
				}
				return
			}
		}
		if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
			t.Fatalf("error %q: want one line", msg)
		}
	})
}
