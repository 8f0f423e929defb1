package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	imgdata "github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/figures"
	"github.com/scoresde/scoresde/lib/guidance"
	"github.com/scoresde/scoresde/lib/losses"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// trainData reads --data: a toy preset, a JSON mixture spec or an (n, d) .npy file of points.
func trainData(ref string) (train.Data, string, error) {
	if strings.HasSuffix(strings.ToLower(ref), ".npy") {
		pts, err := npy.ReadPoints(ref)
		if err != nil {
			return nil, "", err
		}
		return train.Points{X: pts}, filepath.Base(ref), nil
	}
	d, err := toy.Load(ref)
	if err != nil {
		return nil, "", err
	}
	return d, d.Name(), nil
}

// parseWidths reads "128,128,128".
func parseWidths(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--hidden %q: give positive layer widths separated by commas, e.g. 128,128,128", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func init() {
	register(command{
		name: "train",
		summary: "Train a score network on toy data or images (MNIST, CIFAR-10) by denoising (dsm), NCSN (smld), DDPM\n" +
			"(ddpm) or sliced (ssm) score matching, or a time-conditional classifier (--classifier); checkpoints go\n" +
			"to --ckpt, and training resumes when it holds one (with its settings; a conflicting flag is refused).",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			data := fs.String("data", "8gaussians", "training data: a preset ("+strings.Join(toy.PresetNames(), ", ")+"), a JSON mixture spec, an (n, d) .npy file, or an image set ("+strings.Join(imageSets, ", ")+")")
			dataDir := fs.String("data-dir", "", "image sets: the folder of the files (default: <cache>/<set>, the cache being $SCORESDE_DATA_DIR or the user cache folder; missing files are downloaded)")
			netName := fs.String("net", "auto", "network: mlp (toys) or, for images, "+strings.Join(imageNetNames(), ", ")+"; auto: mlp for toys, unet-small for images")
			centered := fs.String("centered", "auto", "images: pixels in [-1, 1] (true) or [0, 1] (false); auto: true for VP/sub-VP, false for VE, as the references")
			flip := fs.Bool("flip", false, "images: random left-right flips (the references' CIFAR-10 augmentation)")
			classifier := fs.Bool("classifier", false, "train a time-conditional classifier p_t(y | x) on perturbed data for class guidance (sample --class K --classifier DIR) instead of a score model: a small CNN for images, an MLP for toy mixtures (their components are the classes)")
			buildSDE := sdeFlags(fs)
			lossKind := fs.String("loss", "dsm", "loss: "+strings.Join(losses.Names, ", ")+" (smld needs --sde ve, ddpm --sde vp)")
			lw := fs.Bool("likelihood-weighting", false, "dsm: weight by g(t)² instead of std(t)²")
			reduce := fs.String("reduce", "auto", "per-point reduction: mean, sum (½·sum) or auto (sum for VE, mean otherwise, as the references)")
			ssmGauss := fs.Bool("ssm-gaussian", false, "ssm: Gaussian instead of Rademacher projections")
			ssmVR := fs.Bool("ssm-vr", false, "ssm: the variance-reduced form")
			steps := fs.Int("steps", 5000, "optimizer steps to reach (a resumed run continues to this count)")
			batch := fs.Int("batch", 512, "batch size")
			lr := fs.Float64("lr", 2e-3, "Adam learning rate")
			warmup := fs.Int("warmup", 100, "linear learning-rate warm-up steps")
			clip := fs.Float64("grad-clip", 1, "global gradient-norm clipping (≤ 0: off)")
			ema := fs.Float64("ema", 0.999, "EMA rate of the weights used for sampling (0: off)")
			emaWarmup := fs.Bool("ema-warmup", false, "EMA rate min(r, (1+n)/(10+n)), as the PyTorch reference")
			hidden := fs.String("hidden", "128,128,128", "hidden layer widths")
			fourier := fs.Float64("fourier-scale", 16, "std of the Gaussian Fourier time features")
			scaleBySigma := fs.String("scale-by-sigma", "auto", "VE: divide the network output by σ(t): true, false or auto (true for VE, as the references' NCSN++)")
			ckpt := fs.String("ckpt", "", "checkpoint directory (resumes from its latest intact checkpoint, with the settings it was trained with; one trainer at a time)")
			every := fs.Int("checkpoint-every", 1000, "write a checkpoint every K steps (and at the end)")
			keep := fs.Int("keep", 3, "checkpoints to keep")
			seed := fs.Uint64("seed", 0, "seed of the initialization, the data and the noise")
			divDefault := train.Default(sde.NewVE())
			divergeFactor := fs.Float64("diverge-factor", divDefault.DivergeFactor, "stop when a loss strays from the median of the last --diverge-window losses by more than this factor times max(|median|, MAD) (0: off)")
			divergeWindow := fs.Int("diverge-window", divDefault.DivergeWindow, "losses in the running median of --diverge-factor")
			quiet := fs.Bool("quiet", false, "no progress bar")
			return func(args []string, stdout, stderr io.Writer) (retErr error) {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				set := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
				// A checkpoint directory is opened (locked, checked writable, its newest intact
				// checkpoint loaded) before anything else, so that the flags left out take the
				// checkpoint's values and a conflicting flag is refused.
				var ckd *train.Dir
				var resumed *train.Checkpoint
				if *ckpt != "" {
					_, statErr := os.Stat(*ckpt)
					var err error
					if ckd, err = train.OpenDir(*ckpt, stderr); err != nil {
						return err
					}
					defer func() {
						created := statErr != nil && retErr != nil
						if entries, err := os.ReadDir(*ckpt); created && err == nil && len(entries) == 1 && entries[0].Name() == train.LockFile {
							// Leave no trace of a run that never started in a directory it created. The lock
							// file goes while the lock is held: a trainer that opens it meanwhile is refused,
							// one that opens the path afterwards makes a new one.
							os.Remove(filepath.Join(*ckpt, train.LockFile))
						}
						ckd.Close()
						if created {
							os.Remove(*ckpt) // only when empty
						}
					}()
					if resumed = ckd.Latest; resumed != nil {
						if err := adoptCheckpoint(fs, set, resumed); err != nil {
							return err
						}
					}
				}
				images := isImageSet(*data)
				if images {
					// Image defaults: the VP SDE, batch 64, 2000 steps and lr 1e-3 (a fast schedule for a small CPU;
					// the references use 2e-4 with 5000 warm-up steps at batch 128).
					// The EMA warms up as in the PyTorch reference, so that a short run's average does not
					// still hold the initial weights (0.999^2000 = 0.14).
					defaults := map[string]string{"sde": "vp", "batch": "64", "lr": "1e-3", "steps": "2000", "checkpoint-every": "500", "ema-warmup": "true"}
					for name, v := range defaults {
						if !set[name] && resumed == nil {
							if err := fs.Set(name, v); err != nil {
								return err
							}
						}
					}
				}
				s, err := buildSDE()
				if err != nil {
					return err
				}
				var d train.Data
				var dataName string
				var imgShape []int
				isCentered := false
				if images {
					switch *centered {
					case "auto":
						isCentered = s.Parameterization() == sde.PredictNoise
					case "true", "false":
						isCentered = *centered == "true"
					default:
						return usagef("--centered %q: use true, false or auto", *centered)
					}
					imgs, err := loadImages(*data, *dataDir, "train", stderr)
					if err != nil {
						return fmt.Errorf("--data %s: %w", *data, err)
					}
					ds, err := imgdata.NewSet(imgs, isCentered)
					if err != nil {
						return err
					}
					ds.Flip = *flip
					d, dataName, imgShape = ds, fmt.Sprintf("%s (%d images %d×%d×%d)", strings.ToLower(*data), imgs.Len(), imgs.H, imgs.W, imgs.C), []int{imgs.H, imgs.W, imgs.C}
				} else {
					if set["data-dir"] || set["centered"] || set["flip"] {
						return usagef("--data-dir, --centered and --flip are for image sets (--data %s)", strings.Join(imageSets, "|"))
					}
					if d, dataName, err = trainData(*data); err != nil {
						return usageError{"--data: " + err.Error()}
					}
				}
				widths, err := parseWidths(*hidden)
				if err != nil {
					return usageError{err.Error()}
				}
				cfg := train.Default(s)
				cfg.Steps, cfg.Batch, cfg.LR, cfg.Warmup, cfg.GradClip = *steps, *batch, *lr, *warmup, *clip
				cfg.EMA, cfg.EMAWarmup, cfg.Seed, cfg.CheckpointEvery, cfg.Keep = *ema, *emaWarmup, *seed, *every, *keep
				cfg.DivergeFactor, cfg.DivergeWindow = *divergeFactor, *divergeWindow
				switch *scaleBySigma {
				case "auto":
				case "true", "false":
					cfg.ScaleBySigma = *scaleBySigma == "true"
				default:
					return usagef("--scale-by-sigma %q: use true, false or auto", *scaleBySigma)
				}
				cfg.Loss.Kind, cfg.Loss.LikelihoodWeighting, cfg.Loss.Gaussian, cfg.Loss.VarianceReduced = strings.ToLower(*lossKind), *lw, *ssmGauss, *ssmVR
				switch *reduce {
				case "auto":
				case "mean":
					cfg.Loss.ReduceMean = true
				case "sum":
					cfg.Loss.ReduceMean = false
				default:
					return usagef("--reduce %q: use mean, sum or auto", *reduce)
				}
				if *keep < 1 {
					return usagef("--keep=%d, want ≥ 1", *keep)
				}
				if err := cfg.Validate(s); err != nil {
					return usageError{err.Error()}
				}
				cfg.Data, cfg.Centered = *data, isCentered
				if images {
					cfg.Data = strings.ToLower(*data)
				}
				if resumed != nil {
					// Settings without a flag come from the checkpoint.
					rc := resumed.Config
					cfg.Beta1, cfg.Beta2, cfg.AdamEps, cfg.Loss.Eps = rc.Beta1, rc.Beta2, rc.AdamEps, rc.Loss.Eps
				}
				var net nets.Net
				var objective train.Objective
				switch {
				case *classifier:
					if _, ok := d.(train.Labeled); !ok {
						return usagef("--classifier needs labeled data: an image set or a toy mixture (its components are the classes)")
					}
					classes := 10
					if m, isMixture := d.(*toy.Mixture); isMixture {
						classes = m.K()
					}
					if images {
						net = guidance.NewCNNClassifier(imgShape[0], imgShape[1], imgShape[2], classes)
					} else {
						mlp := nets.NewMLP(d.Dim())
						mlp.Hidden, mlp.FourierScale, mlp.Out = widths, *fourier, classes
						net = mlp
					}
				case images:
					name := *netName
					if name == "auto" {
						name = "unet-small"
					}
					if cfg.Loss.Kind == "smld" {
						return usagef("--loss smld trains the noise-conditional MLP on toys; for images use dsm or ddpm")
					}
					if net, err = imageNet(name, imgShape[0], imgShape[1], imgShape[2]); err != nil {
						return usageError{err.Error()}
					}
					if n, ok := net.(*nets.NCSNpp); ok {
						n.Centered = isCentered // the network maps [0, 1] data to [−1, 1] itself
					}
				case *netName != "auto" && *netName != "mlp":
					return usagef("--net %s is an image network: toy data (--data %s) trains an mlp", *netName, *data)
				case cfg.Loss.Kind == "smld":
					nc := nets.NewNoiseConditionalMLP(d.Dim(), s.N(), s.(*sde.VE))
					nc.Hidden = widths
					net = nc
				default:
					mlp := nets.NewMLP(d.Dim())
					mlp.Hidden, mlp.FourierScale = widths, *fourier
					net = mlp
				}
				if resumed != nil {
					if err := checkResume(set, flagValues(fs), resumed, s, net, cfg); err != nil {
						return err
					}
					net, s = resumed.Net, resumed.SDE // what the checkpoint holds, as train.NewFromDir resumes it
				}
				if *classifier {
					objective = guidance.ClassifierObjective(s, net, 1e-3)
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				tr, err := train.NewFromDir(b, net, s, d, cfg, ckd)
				if err != nil {
					return err
				}
				if objective != nil {
					tr.Objective, tr.ObjectiveName = objective, "cross-entropy"
				}
				if tr.State.Step > 0 {
					fmt.Fprintf(stdout, "resuming %s at step %d\n", *ckpt, tr.State.Step)
				}
				fmt.Fprintf(stdout, "training on %s (d=%d): %s\n", dataName, d.Dim(), tr.Describe())
				var log io.Writer = stderr
				if *quiet {
					log = nil
				}
				if err := tr.Run(log); err != nil {
					return err
				}
				l := tr.State.Losses
				if len(l) > 0 {
					fmt.Fprintf(stdout, "step %d: loss %.4g (mean of the last 100 steps)\n", tr.State.Step, train.MeanTail(l, 100))
				}
				if *ckpt != "" {
					files, err := plots.Save(figures.LossCurve(l, 100), filepath.Join(*ckpt, "loss"), 0, 0)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "checkpoint in %s; loss curve %s\n", *ckpt, strings.Join(files, " "))
				} else {
					fmt.Fprintln(stdout, "no --ckpt given: the trained weights were not saved")
				}
				return nil
			}
		},
	})
}

// checkpointFlags maps the train flags that a checkpoint records to the values it was trained
// with, in the flags' syntax.
func checkpointFlags(ck *train.Checkpoint) map[string]string {
	c, sp, ns := ck.Config, train.SpecOfSDE(ck.SDE), ck.Net.Spec()
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	f := map[string]string{
		"sde": sp.Name, "num-scales": strconv.Itoa(sp.N),
		"steps": strconv.Itoa(c.Steps), "batch": strconv.Itoa(c.Batch), "lr": g(c.LR), "warmup": strconv.Itoa(c.Warmup),
		"grad-clip": g(c.GradClip), "ema": g(c.EMA), "ema-warmup": strconv.FormatBool(c.EMAWarmup),
		"checkpoint-every": strconv.Itoa(c.CheckpointEvery), "seed": strconv.FormatUint(c.Seed, 10),
		"loss": c.Loss.Kind, "likelihood-weighting": strconv.FormatBool(c.Loss.LikelihoodWeighting),
		"ssm-gaussian": strconv.FormatBool(c.Loss.Gaussian), "ssm-vr": strconv.FormatBool(c.Loss.VarianceReduced),
		"reduce": map[bool]string{true: "mean", false: "sum"}[c.Loss.ReduceMean], "scale-by-sigma": strconv.FormatBool(c.ScaleBySigma),
		"classifier": strconv.FormatBool(ck.Objective == "cross-entropy"),
	}
	if c.Keep > 0 {
		f["keep"] = strconv.Itoa(c.Keep)
	}
	if sp.Name == "ve" {
		f["sigma-min"], f["sigma-max"] = g(sp.SigmaMin), g(sp.SigmaMax)
	} else {
		f["beta-min"], f["beta-max"] = g(sp.Beta0), g(sp.Beta1)
	}
	if c.Data != "" {
		f["data"] = c.Data
	}
	if ns.Image != nil {
		f["centered"] = strconv.FormatBool(c.Centered)
	}
	if (ns.Kind == "mlp" || ns.Kind == "ncsn-mlp") && len(ns.Hidden) > 0 {
		f["hidden"] = hiddenFlag(ns.Hidden)
		if ns.Kind == "mlp" {
			f["fourier-scale"] = g(ns.FourierScale)
		}
	}
	return f
}

// adoptCheckpoint gives each flag that the command line leaves out the value the checkpoint was
// trained with, so that a resumed run goes on as it started (the same data, network, SDE, loss and
// optimizer settings, and the same --steps to reach).
func adoptCheckpoint(fs *flag.FlagSet, set map[string]bool, ck *train.Checkpoint) error {
	for name, v := range checkpointFlags(ck) {
		if set[name] || fs.Lookup(name) == nil {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return usagef("%s was trained with --%s %q, which this version does not accept (%v): give --%s explicitly", ck.Path, name, v, err, name)
		}
	}
	return nil
}

// flagValues maps every flag of fs to its value as a string.
func flagValues(fs *flag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

// checkResume refuses a flag given on the command line whose value conflicts with what the
// checkpoint being resumed was trained with, naming the flag, its value and the checkpoint's.
func checkResume(set map[string]bool, vals map[string]string, ck *train.Checkpoint, s sde.SDE, net nets.Net, cfg train.Config) error {
	conflict := func(name, ckValue string) error {
		return usagef("--%s %s conflicts with the checkpoint %s, trained with --%s %s: leave the flag out to resume it, or give another --ckpt directory to train anew",
			name, vals[name], ck.Path, name, ckValue)
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	a, b := train.SpecOfSDE(s), train.SpecOfSDE(ck.SDE)
	type field struct {
		flag       string
		mine, ck   string
		applicable bool
	}
	fields := []field{
		{"sde", a.Name, b.Name, true},
		{"sigma-min", g(a.SigmaMin), g(b.SigmaMin), b.Name == "ve"},
		{"sigma-max", g(a.SigmaMax), g(b.SigmaMax), b.Name == "ve"},
		{"beta-min", g(a.Beta0), g(b.Beta0), b.Name != "ve"},
		{"beta-max", g(a.Beta1), g(b.Beta1), b.Name != "ve"},
		{"num-scales", strconv.Itoa(a.N), strconv.Itoa(b.N), true},
	}
	c := ck.Config
	if c.Data != "" {
		fields = append(fields, field{"data", cfg.Data, c.Data, !sameData(cfg.Data, c.Data)})
	}
	bs := strconv.FormatBool
	fields = append(fields,
		field{"loss", cfg.Loss.Kind, c.Loss.Kind, true},
		field{"likelihood-weighting", bs(cfg.Loss.LikelihoodWeighting), bs(c.Loss.LikelihoodWeighting), true},
		field{"ssm-gaussian", bs(cfg.Loss.Gaussian), bs(c.Loss.Gaussian), true},
		field{"ssm-vr", bs(cfg.Loss.VarianceReduced), bs(c.Loss.VarianceReduced), true},
		field{"reduce", map[bool]string{true: "mean", false: "sum"}[cfg.Loss.ReduceMean], map[bool]string{true: "mean", false: "sum"}[c.Loss.ReduceMean], true},
		field{"scale-by-sigma", bs(cfg.ScaleBySigma), bs(c.ScaleBySigma), true},
		field{"centered", bs(cfg.Centered), bs(c.Centered), ck.Net.Spec().Image != nil},
	)
	for _, f := range fields {
		if f.applicable && f.mine != f.ck {
			return conflict(f.flag, f.ck)
		}
	}
	mine, theirs := net.Spec(), ck.Net.Spec()
	if !reflect.DeepEqual(mine, theirs) {
		toy := mine.Kind == theirs.Kind && (theirs.Kind == "mlp" || theirs.Kind == "ncsn-mlp")
		switch {
		case toy && set["hidden"] && !slices.Equal(mine.Hidden, theirs.Hidden):
			return conflict("hidden", hiddenFlag(theirs.Hidden))
		case toy && set["fourier-scale"] && mine.FourierScale != theirs.FourierScale:
			return conflict("fourier-scale", g(theirs.FourierScale))
		case set["classifier"] && vals["classifier"] != bs(ck.Objective == "cross-entropy") && ck.Objective != "":
			return conflict("classifier", bs(ck.Objective == "cross-entropy"))
		case set["net"]:
			return conflict("net", vals["net"]+" (not that network: it holds a "+theirs.Kind+" network)")
		}
	}
	return nil
}

// sameData reports whether two --data values name the same data: the same preset or image set
// (case aside), or the same file.
func sameData(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// hiddenFlag writes widths as --hidden takes them ("128,128,128").
func hiddenFlag(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
