package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scoresde/scoresde/lib/guidance"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/progress"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// samplerNames lists the values of --sampler: the PC sampler, the ODE sampler, the Langevin
// samplers and the registry's stochastic methods (EDM, Euler ancestral, DPM-Solver++ SDE, …).
func samplerNames() []string {
	return append([]string{"pc", "ode", "langevin", "ald"}, sampling.MethodNames(false, true)...)
}

// samplerFlags says which samplers each sampler-specific flag of `sample` applies to ("method"
// stands for the registry's methods); a flag set for another sampler draws a warning.
var samplerFlags = map[string][]string{
	"predictor": {"pc"}, "corrector": {"pc"}, "snr": {"pc"}, "corrector-steps": {"pc", "ald"},
	"predictor-first": {"pc"}, "probability-flow": {"pc"}, "sqrt-d": {"pc"},
	"method": {"ode"}, "rtol": {"ode"}, "atol": {"ode"}, "schedule": {"ode", "method"},
	"step-size": {"langevin", "ald"}, "denoise": {"pc", "ode", "method"}, "eps": {"pc", "ode", "method"},
}

// methodParamFlags defines one float flag per distinct parameter of the registry's methods
// (--churn, --eta, …); the returned function gives the ones the user set.
func methodParamFlags(fs *flag.FlagSet) func() map[string]float64 {
	vals := map[string]*float64{}
	uses := map[string][]string{}
	for _, m := range sampling.Methods() {
		for _, p := range m.Params {
			uses[p.Name] = append(uses[p.Name], fmt.Sprintf("%s: %s (default %g)", m.Name, p.Help, p.Default))
		}
	}
	for name, u := range uses {
		vals[name] = fs.Float64(name, math.NaN(), strings.Join(u, "; "))
	}
	return func() map[string]float64 {
		out := map[string]float64{}
		fs.Visit(func(f *flag.Flag) {
			if v, ok := vals[f.Name]; ok {
				out[f.Name] = *v
			}
		})
		return out
	}
}

func init() {
	register(command{
		name: "sample",
		summary: "Draw samples by the reverse SDE (PC), the probability-flow ODE, Langevin or annealed Langevin\n" +
			"dynamics, with the exact score of a toy mixture or a trained model (--score DIR); optionally guided by\n" +
			"a class (--class), imputing coordinates (--given), inpainting (--inpaint-mask) or colorizing (--colorize);\n" +
			"write them as an (n, d) .npy array, and image models also as a PNG grid.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			buildModel := modelFlags(fs)
			samplerName := fs.String("sampler", "pc", "sampler: "+strings.Join(samplerNames(), ", "))
			pred := fs.String("predictor", "reverse_diffusion", "PC predictor: "+strings.Join(sampling.PredictorNames, ", "))
			corr := fs.String("corrector", "langevin", "PC corrector: "+strings.Join(sampling.CorrectorNames, ", "))
			snr := fs.Float64("snr", 0.16, "corrector signal-to-noise ratio r")
			steps := fs.Int("steps", 0, "number of time steps N; 0: the sampler's default (PC: the SDE's N = 1000; ODE and stochastic methods: their own, e.g. 20 for DPM-Solver; langevin: 1000 iterations)")
			schedule := fs.String("schedule", "", "time grid of the ODE and stochastic methods: "+strings.Join(sampling.Schedules(), ", ")+" (default: the method's)")
			params := methodParamFlags(fs)
			cSteps := fs.Int("corrector-steps", 1, "PC: corrector iterations M per time step; ald: steps per noise level (0: 100)")
			predFirst := fs.Bool("predictor-first", false, "PC: run the predictor before the corrector (the paper's Algorithm 1; the references run the corrector first)")
			pflow := fs.Bool("probability-flow", false, "PC: the predictor discretizes the probability-flow ODE")
			sqrtD := fs.Bool("sqrt-d", false, "Langevin corrector: use √d instead of the sampled noise norm")
			method := fs.String("method", "rk45", "ODE solver: "+strings.Join(sampling.ODEMethods(), ", "))
			rtol := fs.Float64("rtol", 1e-5, "ODE rk45 relative tolerance")
			atol := fs.Float64("atol", 1e-5, "ODE rk45 absolute tolerance")
			eps := fs.Float64("eps", 0, "last time of the reverse integration (0: 1e-5 for VE, 1e-3 for VP/sub-VP)")
			denoise := fs.Bool("denoise", true, "PC/ODE: return the noise-free mean of the last step")
			stepSize := fs.Float64("step-size", 0.1, "langevin: step ε; ald: ε of α_i = ε(σ_i/σ_L)²")
			n := fs.Int("n", 1000, "number of samples")
			seed := fs.Int64("seed", 0, "random seed (same seed, same samples)")
			out := fs.String("out", "samples.npy", "output .npy file, shaped (n, d)")
			traj := fs.String("trajectory", "", "also write the trajectory as a (snapshots, n, d) .npy file")
			every := fs.Int("record-every", 10, "with --trajectory: record every k steps")
			plotPath := fs.String("plot", "", "also draw the samples (2-D data) to this PNG (and SVG); image models: the PNG grid of the samples (default: --out with .png)")
			quiet := fs.Bool("quiet", false, "no progress bar")
			class := fs.Int("class", -1, "sample one class (0-based) with classifier guidance: the exact classifier of a mixture (its components), or --classifier")
			classifierDir := fs.String("classifier", "", "with --class: a time-conditional classifier trained by scoresde train --classifier (its EMA weights)")
			scale := fs.Float64("guidance-scale", 1, "with --class: guidance scale w in s + w·∇log p_t(k | x) (1 is exact conditioning)")
			given := fs.String("given", "", "impute: known coordinates, e.g. 'x1=0.5' or 'x1=0.5,x3=-1' (1-based); the rest is sampled by the PC inpainter")
			refBug := fs.Bool("reference-mean-bug", false, "with --given, --inpaint-mask or --colorize: reproduce the references' noise-free output (built from the noised x)")
			maskSpec := fs.String("inpaint-mask", "", "image models: inpaint the --images where the mask is 0: "+strings.Join(guidance.MaskNames(), ", ")+", or a PNG (white = known)")
			colorize := fs.Bool("colorize", false, "colour image models: colorize the gray versions of the --images (or gray images of H·W values)")
			images := fs.String("images", "", "with --inpaint-mask or --colorize: the images to start from: test (the data set's test split), data (samples of the --data mixture) or an (n, d) .npy file; default test for checkpoints, data for mixtures")
			dataDir := fs.String("data-dir", "", "with --images test: the image set's folder (default: <cache>/<set>)")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				md, err := buildModel(stderr)
				if err != nil {
					return err
				}
				sc, s, dim, name, ref := md.score, md.sde, md.dim, md.name, md.ref
				if *classifierDir != "" && *class < 0 {
					return usagef("--classifier guides one class: give --class K")
				}
				if *class >= 0 {
					var grad guidance.Grad
					switch {
					case *classifierDir != "":
						ck, err := train.LoadDir(*classifierDir)
						if err != nil {
							return fmt.Errorf("--classifier: %w", err)
						}
						if ck.Net.Spec().Out == 0 || ck.Net.Spec().Dim != dim {
							return usagef("--classifier %s holds a %s network for d=%d, not a classifier for this model's d=%d", *classifierDir, ck.Net.Spec().Kind, ck.Net.Spec().Dim, dim)
						}
						if grad, err = guidance.LearnedClassGrad(ck.Net, ck.State.EMA, *class); err != nil {
							return usageError{"--class: " + err.Error()}
						}
					case md.exact:
						if grad, err = guidance.ExactClassGrad(md.mixture, s, *class); err != nil {
							return usageError{"--class: " + err.Error()}
						}
					default:
						return usagef("--class with a trained score needs --classifier DIR (scoresde train --classifier); the exact classifier exists for mixtures only")
					}
					if math.IsNaN(*scale) || math.IsInf(*scale, 0) || *scale < 0 {
						return usagef("--guidance-scale=%g, want a finite value ≥ 0", *scale)
					}
					sc = guidance.Guided(sc, grad, *scale)
					name = fmt.Sprintf("%s, class %d, guidance scale %g", name, *class, *scale)
				}
				conditional := *maskSpec != "" || *colorize
				if conditional && (*given != "" || *class >= 0 || (*maskSpec != "" && *colorize)) {
					return usagef("use one of --inpaint-mask, --colorize, --given and --class at a time")
				}
				if conditional && strings.ToLower(*samplerName) != "pc" {
					return usagef("--inpaint-mask and --colorize sample with the PC inpainter: use --sampler pc")
				}
				if md.image == nil && md.mixture != nil {
					md.image = toy.ImageShape(md.mixture.Name())
				}
				var known map[int]float64
				if *given != "" {
					if known, err = parseGiven(*given, dim); err != nil {
						return err
					}
					if strings.ToLower(*samplerName) != "pc" {
						return usagef("--given imputes with the PC sampler: use --sampler pc")
					}
				}
				if *n < 1 {
					return usagef("--n=%d, want ≥ 1", *n)
				}
				if *steps < 0 || *steps > sampling.MaxSteps {
					return usagef("--steps=%d, want 1 to %d (0: the sampler's default)", *steps, sampling.MaxSteps)
				}
				if math.IsNaN(*snr) || math.IsInf(*snr, 0) || *snr < 0 {
					return usagef("--snr=%g, want a finite value ≥ 0", *snr)
				}
				if *cSteps > sampling.MaxSteps {
					return usagef("--corrector-steps=%d, want at most %d", *cSteps, sampling.MaxSteps)
				}
				if math.IsNaN(*stepSize) || math.IsInf(*stepSize, 0) || *stepSize <= 0 {
					return usagef("--step-size=%g, want a finite value > 0", *stepSize)
				}
				if *traj != "" && *every < 1 {
					return usagef("--record-every=%d, want ≥ 1 (every k-th step of the trajectory)", *every)
				}
				sname := strings.ToLower(*samplerName)
				var meth *sampling.Method
				if m, err := sampling.LookupMethod(sname); err == nil && m.Stochastic {
					meth, sname = m, m.Name
				}
				set := params()
				paramOwner := meth
				if sname == "ode" {
					paramOwner, _ = sampling.LookupMethod(*method)
				}
				for k := range set {
					if paramOwner == nil || !hasParam(paramOwner, k) {
						return usagef("--%s does not apply to --sampler %s: it is an option of %s", k, *samplerName, strings.Join(methodsWith(k), ", "))
					}
				}
				fs.Visit(func(f *flag.Flag) {
					uses, ok := samplerFlags[f.Name]
					if !ok {
						return
					}
					for _, u := range uses {
						if u == sname || (u == "method" && meth != nil) {
							return
						}
					}
					fmt.Fprintf(stderr, "scoresde sample: warning: --%s does not apply to --sampler %s (it applies to %s)\n", f.Name, *samplerName, strings.Join(uses, ", "))
				})
				if *cSteps < 0 {
					return usagef("--corrector-steps=%d, want ≥ 0", *cSteps)
				}
				if *out == "" {
					return usagef("--out is empty: give a .npy path")
				}
				switch {
				case meth != nil, sname == "pc", sname == "ode", sname == "langevin":
				case sname == "ald":
					if _, ok := s.(*sde.VE); !ok {
						return usagef("--sampler ald needs --sde ve (its noise levels are VE noise scales)")
					}
				default:
					return usagef("--sampler %q: use one of %s", *samplerName, strings.Join(samplerNames(), ", "))
				}
				// Check the sampler's options before any work, so a bad value is a usage error.
				switch {
				case meth != nil:
					if _, _, err := (sampling.SolveOptions{Method: meth.Name, Steps: *steps, Schedule: *schedule, Eps: *eps, Params: set}).Prepare(s, sc); err != nil {
						return usageError{err.Error()}
					}
				case sname == "ode":
					o := sampling.ODEOptions{Method: *method, RTol: *rtol, ATol: *atol, N: *steps, Eps: *eps}
					if err := o.Validate(s); err != nil {
						return usageError{err.Error()}
					}
					if !strings.EqualFold(*method, "rk45") {
						if _, _, err := (sampling.SolveOptions{Method: *method, Steps: *steps, Schedule: *schedule, Eps: *eps, Params: set}).Prepare(s, sc); err != nil {
							return usageError{err.Error()}
						}
					}
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				run := sampling.Run{Seed: *seed}
				if *traj != "" {
					run.RecordEvery = *every
				}
				var bar *progress.Bar
				if !*quiet {
					bar = progress.New(*samplerName, 0, stderr)
					run.Progress = bar.Func()
				}
				shape := []int{*n, dim}
				var res *sampling.Result
				switch {
				case meth != nil:
					res, err = sampling.Sample(b, s, sc, shape, sampling.SolveOptions{Method: meth.Name, Steps: *steps,
						Schedule: *schedule, Eps: *eps, Params: set, Denoise: *denoise}, run)
				case sname == "pc":
					o := sampling.DefaultPC()
					o.Predictor, o.Corrector, o.SNR, o.Steps = *pred, *corr, *snr, *cSteps
					o.N, o.Eps, o.Denoise, o.PredictorFirst, o.ProbabilityFlow, o.SqrtDNoiseNorm = *steps, *eps, *denoise, *predFirst, *pflow, *sqrtD
					if conditional {
						src := *images
						if src == "" {
							src = "test"
							if md.mixture != nil {
								src = "data"
							}
						}
						imgs, err := sourceImages(md, src, *dataDir, *n, *seed, stderr)
						if err != nil {
							return err
						}
						io := guidance.DefaultInpaint()
						if *eps == 0 {
							o.Eps = io.PC.Eps
						}
						io.PC, io.ReferenceMeanBug = o, *refBug
						var rows [][]float64
						if res, rows, err = conditionalSample(b, md, imgs, *maskSpec, *colorize, io, run); err != nil {
							return err
						}
						bar.Finish()
						if err := npy.WritePoints(*out, res.Points()); err != nil {
							return err
						}
						path := *plotPath
						if path == "" {
							path = strings.TrimSuffix(*out, ".npy") + ".png"
						}
						file, err := saveImageGrid(path, rows, md.image, md.centered, 3)
						if err != nil {
							return err
						}
						fmt.Fprintf(stdout, "wrote %d %s images to %s and %s (each row: original, condition, sample); NFE %d, %s\n",
							len(rows)/3, map[bool]string{true: "colorized", false: "inpainted"}[*colorize], *out, file, res.NFE, res.Elapsed.Round(time.Millisecond))
						return nil
					}
					if known == nil {
						res, err = sampling.PC(b, s, sc, shape, o, run)
						break
					}
					data, mask := make([][]float64, *n), make([][]float64, *n)
					for i := range data {
						data[i], mask[i] = make([]float64, dim), make([]float64, dim)
						for j, v := range known {
							data[i][j], mask[i][j] = v, 1
						}
					}
					io := guidance.DefaultInpaint()
					if *eps == 0 {
						o.Eps = io.PC.Eps
					}
					io.PC, io.ReferenceMeanBug = o, *refBug
					res, err = guidance.Inpaint(b, s, sc, data, mask, io, run)
				case sname == "ode":
					o := sampling.DefaultODE()
					o.Method, o.RTol, o.ATol, o.N, o.Schedule, o.Eps, o.Denoise = *method, *rtol, *atol, *steps, *schedule, *eps, *denoise
					if len(set) > 0 {
						if res, err = sampling.Sample(b, s, sc, shape, sampling.SolveOptions{Method: o.Method, Steps: o.N,
							Schedule: o.Schedule, Eps: o.Eps, Params: set, Denoise: o.Denoise}, run); err != nil {
							break
						}
					} else {
						res, err = sampling.ODE(b, s, sc, shape, o, run)
					}
				case sname == "langevin":
					o := sampling.DefaultLangevin()
					o.StepSize = *stepSize
					if *steps > 0 {
						o.Steps = *steps
					}
					res, err = sampling.Langevin(b, sc, shape, o, run)
				case sname == "ald":
					ve, ok := s.(*sde.VE)
					if !ok {
						return usagef("--sampler ald needs --sde ve (its noise levels are VE noise scales)")
					}
					o := sampling.DefaultAnnealed()
					o.Epsilon = *stepSize
					if *cSteps > 1 {
						o.StepsPerLevel = *cSteps
					}
					res, err = sampling.AnnealedLangevin(b, ve, sc, shape, o, run)
				default:
					return usagef("--sampler %q: use one of %s", *samplerName, strings.Join(samplerNames(), ", "))
				}
				bar.Finish()
				if err != nil {
					return err
				}
				pts := res.Points()
				if err := checkFinitePoints(pts, *samplerName); err != nil {
					return err
				}
				if err := npy.WritePoints(*out, pts); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "wrote %d samples of %s (d=%d) to %s\n", len(pts), name, dim, *out)
				fmt.Fprintf(stdout, "NFE %d (reference count %d), wall time %s\n", res.NFE, res.ReferenceNFE, res.Elapsed.Round(time.Millisecond))
				if *traj != "" {
					var flat []float64
					for _, snap := range res.Trajectory {
						for _, p := range snap {
							flat = append(flat, p...)
						}
					}
					if err := npy.Write(*traj, flat, len(res.Trajectory), len(pts), dim); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "wrote %d snapshots to %s\n", len(res.Trajectory), *traj)
				}
				if md.image != nil {
					path := *plotPath
					if path == "" {
						path = strings.TrimSuffix(*out, ".npy") + ".png"
					}
					file, err := saveImageGrid(path, pts, md.image, md.centered, 0)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "wrote the image grid %s\n", file)
					return nil
				}
				if *plotPath != "" {
					if dim != 2 {
						return fmt.Errorf("--plot draws 2-D samples; %s has d=%d", name, dim)
					}
					p := plots.Scatter(pts, plots.BoundsOf(append(ref, pts...), 0.05))
					p.Title.Text = fmt.Sprintf("%s: %s samples (%s SDE, NFE %d)", name, *samplerName, s.Name(), res.NFE)
					files, err := plots.Save(p, *plotPath, 0, 0)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "wrote %s\n", strings.Join(files, " "))
				}
				return nil
			}
		},
	})
}

// parseGiven reads known coordinates "x1=0.5,x3=-1" (1-based) into a map of 0-based indices.
func parseGiven(spec string, dim int) (map[int]float64, error) {
	out := map[int]float64{}
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		var idx int
		if _, err := fmt.Sscanf(k, "x%d", &idx); !ok || err != nil || idx < 1 || idx > dim {
			return nil, usagef("--given %q: write coordinates as x1=value,... with x1 to x%d", spec, dim)
		}
		val, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(val) || math.IsInf(val, 0) {
			return nil, usagef("--given %q: %q is not a finite number", spec, v)
		}
		out[idx-1] = val
	}
	if len(out) >= dim {
		return nil, usagef("--given %q fixes every coordinate: leave at least one to sample", spec)
	}
	return out, nil
}

// hasParam reports whether the method has the named parameter.
func hasParam(m *sampling.Method, name string) bool {
	for _, p := range m.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// methodsWith lists the methods that have the named parameter.
func methodsWith(name string) []string {
	var out []string
	for _, m := range sampling.Methods() {
		if hasParam(m, name) && m.Stochastic {
			out = append(out, "--sampler "+m.Name)
		} else if hasParam(m, name) {
			out = append(out, "--sampler ode --method "+m.Name)
		}
	}
	return out
}

// checkFinitePoints refuses to write samples holding NaN or ±Inf, naming the first.
func checkFinitePoints(pts [][]float64, sampler string) error {
	for i, p := range pts {
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("sample %d, coordinate %d is %g: the %s sampler diverged; nothing was written (lower the step size or SNR, or check the score)", i, j+1, v, sampler)
			}
		}
	}
	return nil
}
