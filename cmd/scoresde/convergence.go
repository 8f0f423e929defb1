package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/scoresde/scoresde/lib/experiments"
	"github.com/scoresde/scoresde/lib/fileio"
	"github.com/scoresde/scoresde/lib/progress"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/plots"
)

func init() {
	register(command{
		name: "convergence",
		summary: "Measure how fast each sampler's error falls with the NFE: from the same latents, the pathwise\n" +
			"error at the grid's end against a tight RK45 solve (stochastic methods: strong error against their own\n" +
			"fine grid on the same Brownian path, and weak error as SW2 to exact samples) for each method × schedule\n" +
			"× steps; print the fitted orders with 95% intervals and write every row as JSON and a log-log plot.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			def := experiments.DefaultConvergence()
			buildModel := modelFlags(fs)
			methods := fs.String("methods", "", "comma list of registered methods (default: every deterministic one: "+strings.Join(sampling.MethodNames(true, false), ", ")+
				"); stochastic ones ("+strings.Join(sampling.MethodNames(false, true), ", ")+") when named")
			schedule := fs.String("schedule", strings.Join(def.Schedules, ","), "comma list of time grids: "+strings.Join(sampling.Schedules(), ", "))
			steps := fs.String("steps", joinInts(def.Steps), "comma list of grid sizes (at least two)")
			n := fs.Int("n", def.N, "number of latents, shared by every solve")
			seed := fs.Int64("seed", def.Seed, "random seed of the latents, the Brownian path and the exact data sample")
			eps := fs.Float64("eps", def.Eps, "last time of the grids (0: the SDE's default)")
			refTol := fs.Float64("ref-tol", def.ReferenceTol, "RK45 rtol = atol of the deterministic reference")
			fine := fs.Int("fine-factor", def.FineFactor, "stochastic methods: the reference has this many times the largest --steps")
			jsonPath := fs.String("json", "", "write the result (every row and fit) to this JSON file")
			plotPath := fs.String("plot", "", "write the log-log plot of error vs NFE to this PNG (and SVG)")
			rows := fs.Bool("rows", false, "also print every row (NFE, mean/median/max error, outliers, SW2)")
			quiet := fs.Bool("quiet", false, "no progress bar")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				o := def
				var err error
				if o.Steps, err = parseInts(*steps); err != nil {
					return usagef("--steps %q: %v", *steps, err)
				}
				if o.Methods, err = parseNames(*methods); err != nil {
					return usagef("--methods %q: %v", *methods, err)
				}
				if o.Schedules, err = parseNames(*schedule); err != nil {
					return usagef("--schedule %q: %v", *schedule, err)
				}
				if len(o.Schedules) == 0 {
					return usagef("--schedule is empty: give one or more of %s", strings.Join(sampling.Schedules(), ", "))
				}
				o.N, o.Seed, o.Eps, o.ReferenceTol, o.FineFactor = *n, *seed, *eps, *refTol, *fine
				md, err := buildModel(stderr)
				if err != nil {
					return err
				}
				if md.mixture == nil {
					return usagef("--data: convergence needs a Gaussian mixture (its exact samples give the weak error): use a mixture preset or a JSON spec")
				}
				if !md.exact {
					o.Score = md.score
				}
				if err := o.Validate(md.sde, md.mixture.Dim()); err != nil {
					return usageError{err.Error()}
				}
				if err := checkOutputs(*jsonPath, *plotPath, fs.Lookup("data").Value.String()); err != nil {
					return err
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				var bar *progress.Bar
				if !*quiet {
					bar = progress.New("convergence", 0, stderr)
					o.Progress = bar.Func()
				}
				res, err := experiments.Convergence(b, md.mixture, md.sde, o)
				bar.Finish()
				if err != nil {
					return err
				}
				fmt.Fprint(stdout, res)
				if *rows {
					fmt.Fprintf(stdout, "\n%s", res.RowsTable())
				}
				if *jsonPath != "" {
					if err := fileio.WriteFile(*jsonPath, func(w io.Writer) error {
						enc := json.NewEncoder(w)
						enc.SetIndent("", "  ")
						return enc.Encode(res)
					}); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "wrote %s\n", *jsonPath)
				}
				if *plotPath != "" {
					fig, w, h := res.Figure()
					files, err := plots.Save(fig, *plotPath, w, h)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "wrote %s\n", strings.Join(files, " and "))
				}
				return nil
			}
		},
	})
}

// maxListItems bounds a comma list of the command line.
const maxListItems = 1000

// parseInts reads a comma list of integers such as "8,16,32".
func parseInts(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty: give a comma list such as 8,16,32,64,128")
	}
	if len(parts) > maxListItems {
		return nil, fmt.Errorf("%d values: at most %d", len(parts), maxListItems)
	}
	out := make([]int, 0, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("value %d (%q) is not an integer: give a comma list such as 8,16,32,64,128", i+1, strings.TrimSpace(p))
		}
		out = append(out, v)
	}
	return out, nil
}

// parseNames reads a comma list of names; the empty string gives none.
func parseNames(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxListItems {
		return nil, fmt.Errorf("%d names: at most %d", len(parts), maxListItems)
	}
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("name %d is empty: separate names by single commas", i+1)
		}
		out = append(out, p)
	}
	return out, nil
}

// joinInts prints a comma list of integers.
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// checkOutputs refuses output paths that name each other, the input spec or a directory, before
// any work.
func checkOutputs(jsonPath, plotPath, data string) error {
	var outs []string
	if jsonPath != "" {
		outs = append(outs, jsonPath)
	}
	if plotPath != "" {
		base := strings.TrimSuffix(strings.TrimSuffix(plotPath, ".png"), ".svg")
		outs = append(outs, base+".png", base+".svg")
	}
	for i, a := range outs {
		for _, b := range outs[:i] {
			if filepath.Clean(a) == filepath.Clean(b) || fileio.SameFile(a, b) {
				return usagef("--json %s and --plot %s would write the same file %s: give different names", jsonPath, plotPath, a)
			}
		}
		if fileio.SameFile(a, data) {
			return usagef("output %s is the --data spec %s: give another output name", a, data)
		}
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			return usagef("output %s is a directory: name a file inside it", a)
		}
	}
	return nil
}
