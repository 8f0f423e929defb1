package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	imgdata "github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/fileio"
	"github.com/scoresde/scoresde/lib/likelihood"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/sampling"
)

// odeFlags defines the likelihood ODE's flags; the returned function builds the options and
// the grid choice of decode's registry methods (steps 0: the method's default).
func odeFlags(fs *flag.FlagSet, decode bool) func() (likelihood.Options, string, int, error) {
	methods := "rk45, euler, heun or rk4"
	if decode {
		methods = strings.Join(sampling.ODEMethods(), ", ")
	}
	def := likelihood.Default()
	method := fs.String("method", def.Method, "ODE solver: "+methods)
	rtol := fs.Float64("rtol", def.RTol, "rk45 relative tolerance")
	atol := fs.Float64("atol", def.ATol, "rk45 absolute tolerance")
	steps := fs.Int("steps", 0, fmt.Sprintf("steps of the fixed-step solvers (0: the method's default; euler, heun and rk4 take %d)", def.N))
	schedule := ""
	if decode {
		fs.StringVar(&schedule, "schedule", "", "time grid of the fixed-step methods: "+strings.Join(sampling.Schedules(), ", ")+" (default: the method's)")
	}
	eps := fs.Float64("eps", def.Eps, "end time ε of the ODE")
	return func() (likelihood.Options, string, int, error) {
		o := likelihood.Default()
		o.Method, o.RTol, o.ATol, o.Eps = strings.ToLower(*method), *rtol, *atol, *eps
		if *steps < 0 || *steps > sampling.MaxSteps {
			return o, "", 0, usagef("--steps=%d, want 1 to %d (0: the method's default)", *steps, sampling.MaxSteps)
		}
		if *steps > 0 {
			o.N = *steps
		}
		switch o.Method {
		case "rk45", "euler", "heun", "rk4":
		default:
			if m, err := sampling.LookupMethod(o.Method); !decode || err != nil || m.Stochastic {
				return o, "", 0, usagef("--method %q: use %s", *method, methods)
			}
		}
		if schedule != "" {
			if _, err := sampling.LookupSchedule(schedule); err != nil {
				return o, "", 0, usageError{"--schedule: " + err.Error()}
			}
		}
		if o.Method == "rk45" && (!(o.RTol > 0) || !(o.ATol > 0)) {
			return o, "", 0, usagef("--rtol=%g --atol=%g: tolerances must be > 0", o.RTol, o.ATol)
		}
		return o, schedule, *steps, nil
	}
}

// readPointsFor reads an (n, d) .npy file of points and checks its dimension against the model's.
func readPointsFor(path, flagName string, md *model) ([][]float64, error) {
	pts, err := npy.ReadPoints(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	if len(pts[0]) != md.dim {
		return nil, fmt.Errorf("%s: %s holds points of dimension %d, but the model %s has dimension %d", flagName, path, len(pts[0]), md.name, md.dim)
	}
	return pts, nil
}

func init() {
	register(command{
		name: "likelihood",
		summary: "Exact log-likelihood of points (an (n, d) .npy array) through the probability-flow ODE;\n" +
			"prints the mean NLL in nats and bits/dim and the NFE, and writes log p per point.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			buildModel := modelFlags(fs)
			buildODE := odeFlags(fs, false)
			points := fs.String("points", "points.npy", "points to evaluate: an (n, d) .npy array, or test for the test images of an image model's data set (uniformly dequantized)")
			dataDir := fs.String("data-dir", "", "with --points test: the image set's folder (default: <cache>/<set>)")
			nTest := fs.Int("n", 100, "with --points test: the number of test images (the first n)")
			out := fs.String("out", "logp.npy", "log p per point (nats), an (n,) .npy array")
			div := fs.String("divergence", "auto", "divergence: exact, hutchinson, or auto (exact up to d = 16 and for exact mixture scores, hutchinson above)")
			probes := fs.Int("probes", 1, "hutchinson probes per point")
			gaussian := fs.Bool("gaussian-probes", false, "hutchinson: Gaussian instead of Rademacher probes")
			repeats := fs.Int("repeats", 1, "passes averaged (fresh probes each)")
			offset := fs.Float64("bpd-offset", math.NaN(), "added to bits/dim (8 for 8-bit data in [0,1], 7 for [−1,1]; 0 for continuous toys); default: 8 or 7 for image models, 0 otherwise")
			seed := fs.Uint64("seed", 0, "seed of the probes")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				o, _, _, err := buildODE()
				if err != nil {
					return err
				}
				if *out == "" {
					return usagef("--out is empty: give a .npy path")
				}
				if fileio.SameFile(*points, *out) {
					return usagef("--points and --out are the same file %s: write the log-likelihoods elsewhere, the points would be lost", *out)
				}
				o.Divergence, o.Probes, o.Gaussian, o.Repeats, o.Seed = *div, *probes, *gaussian, *repeats, *seed
				md, err := buildModel(stderr)
				if err != nil {
					return err
				}
				if md.exact && md.mixture != nil {
					o.ScoreDivergence = md.mixture.ScoreDivFn(md.sde) // the exact divergence in one evaluation, any d
				}
				if o.Divergence == "auto" {
					o.Divergence = "exact"
					if md.dim > 16 && o.ScoreDivergence == nil {
						o.Divergence = "hutchinson"
					}
				}
				if err := o.Validate(md.sde); err != nil {
					return usageError{err.Error()}
				}
				if md.image != nil {
					o.DType = dtypes.Float32 // as the references; float64 image networks run at half speed
				}
				if math.IsNaN(*offset) {
					*offset = 0
					if md.image != nil {
						*offset = likelihood.Offset8Bit(md.centered)
					}
				}
				var pts [][]float64
				if *points == "test" {
					if md.image == nil || !isImageSet(md.dataName) {
						return usagef("--points test needs an image model trained on %s (--score DIR)", strings.Join(imageSets, " or "))
					}
					if *nTest < 1 {
						return usagef("--n=%d, want ≥ 1", *nTest)
					}
					imgs, err := loadImages(md.dataName, *dataDir, "test", stderr)
					if err != nil {
						return fmt.Errorf("--points test: %w", err)
					}
					set, err := imgdata.NewSet(imgs, false)
					if err != nil {
						return err
					}
					pts = likelihood.UniformDequantize(set.Rows(0, *nTest), rand.New(rand.NewPCG(*seed, 0xde9)))
					if md.centered {
						for _, p := range pts {
							for j := range p {
								p[j] = 2*p[j] - 1
							}
						}
					}
				} else if pts, err = readPointsFor(*points, "--points", md); err != nil {
					return err
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				start := time.Now()
				res, err := likelihood.LogLikelihood(b, md.sde, md.score, pts, o)
				if err != nil {
					return err
				}
				if err := npy.CheckFinite(res.LogP); err != nil {
					return fmt.Errorf("log p: %w; nothing was written (check the score, or tighten --rtol/--atol)", err)
				}
				if err := npy.Write(*out, res.LogP, len(res.LogP)); err != nil {
					return err
				}
				nll := res.MeanNLL()
				fmt.Fprintf(stdout, "%d points of %s, %s SDE, %s divergence: mean NLL %.4f nats = %.4f bits/dim; NFE %d; %s\n",
					len(pts), md.name, md.sde.Name(), o.Divergence, nll, likelihood.BitsPerDim(nll, md.dim, *offset), res.NFE, time.Since(start).Round(time.Millisecond))
				if md.mixture != nil && o.Divergence == "exact" && md.mixture.Dim() == md.dim {
					exact := 0.0
					p := md.mixture.Perturb(md.sde, o.Eps)
					for _, x := range pts {
						exact -= p.LogProb(x) / float64(len(pts))
					}
					fmt.Fprintf(stdout, "closed-form NLL of the %s mixture: %.4f nats (difference %.2g)\n", md.mixture.Name(), exact, math.Abs(exact-nll))
				}
				fmt.Fprintf(stdout, "wrote %s\n", *out)
				return nil
			}
		},
	})
	for _, dir := range []struct{ name, summary, in, out string }{
		{"encode", "Map points (an (n, d) .npy array) to their latents z = x(T) along the probability-flow ODE.", "points.npy", "latents.npy"},
		{"decode", "Map latents (an (n, d) .npy array) to points x(ε) along the probability-flow ODE.", "latents.npy", "points.npy"},
	} {
		register(command{
			name:    dir.name,
			summary: dir.summary,
			setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
				buildModel := modelFlags(fs)
				buildODE := odeFlags(fs, dir.name == "decode")
				in := fs.String("in", dir.in, "input (n, d) .npy array")
				out := fs.String("out", dir.out, "output (n, d) .npy array")
				return func(args []string, stdout, stderr io.Writer) error {
					if len(args) > 0 {
						return usagef("unexpected arguments %q", args)
					}
					o, schedule, steps, err := buildODE()
					if err != nil {
						return err
					}
					if *out == "" {
						return usagef("--out is empty: give a .npy path")
					}
					if fileio.SameFile(*in, *out) {
						return usagef("--in and --out are the same file %s: write the output elsewhere, the input would be lost", *out)
					}
					md, err := buildModel(stderr)
					if err != nil {
						return err
					}
					pts, err := readPointsFor(*in, "--in", md)
					if err != nil {
						return err
					}
					b, err := startBackend(stderr)
					if err != nil {
						return err
					}
					start := time.Now()
					f := likelihood.Encode
					if dir.name == "decode" {
						f = likelihood.Decode
					}
					var res [][]float64
					var nfe int
					if dir.name == "decode" && (schedule != "" || !slices.Contains([]string{"rk45", "euler", "heun", "rk4"}, o.Method)) {
						res, nfe, err = decodeOnGrid(b, md, pts, o, schedule, steps)
					} else {
						res, nfe, err = f(b, md.sde, md.score, pts, o)
					}
					if err != nil {
						return err
					}
					if err := checkFinitePoints(res, o.Method); err != nil {
						return err
					}
					if err := npy.WritePoints(*out, res); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "%sd %d points with %s (%s SDE): NFE %d, %s; wrote %s\n", dir.name, len(pts), md.name, md.sde.Name(), nfe, time.Since(start).Round(time.Millisecond), *out)
					return nil
				}
			},
		})
	}
}

// decodeOnGrid decodes latents with a registry method on a time grid (float64, no denoising).
func decodeOnGrid(b compute.Backend, md *model, z [][]float64, o likelihood.Options, schedule string, steps int) ([][]float64, int, error) {
	zt, err := sampling.FromPoints(z, dtypes.Float64)
	if err != nil {
		return nil, 0, fmt.Errorf("--in: %w", err)
	}
	res, err := sampling.Sample(b, md.sde, md.score, nil, sampling.SolveOptions{Method: o.Method, Schedule: schedule,
		Steps: steps, Eps: o.Eps, Latent: zt}, sampling.Run{DType: dtypes.Float64})
	if err != nil {
		return nil, 0, err
	}
	return res.Points(), res.NFE, nil
}
