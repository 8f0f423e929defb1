package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/toy"
)

func init() {
	register(command{
		name: "eval",
		summary: "Score samples (an (n, d) .npy array) against a toy distribution: sliced Wasserstein-2,\n" +
			"MMD, energy distance and, for mixtures, the weight of each mode.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			data := fs.String("data", "ncsn", "toy data: a preset ("+strings.Join(toy.PresetNames(), ", ")+") or a JSON mixture spec")
			samples := fs.String("samples", "samples.npy", "samples to score, an (n, d) .npy array")
			nRef := fs.Int("n-ref", 0, "size of the reference data sample (0: the number of samples)")
			seed := fs.Uint64("seed", 1, "seed of the reference sample and the SW2 projections")
			floorFlag := fs.Bool("floor", true, "also print the SW2 between two data samples of the same size (the noise floor)")
			jsonOut := fs.String("json", "", "also write the report as JSON to this file")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				d, err := toy.Load(*data)
				if err != nil {
					return usageError{"--data: " + err.Error()}
				}
				pts, err := npy.ReadPoints(*samples)
				if err != nil {
					return fmt.Errorf("--samples: %w", err)
				}
				if len(pts[0]) != d.Dim() {
					return fmt.Errorf("--samples: %s holds points of dimension %d but %s has dimension %d", *samples, len(pts[0]), d.Name(), d.Dim())
				}
				if *nRef < 0 {
					return usagef("--n-ref=%d, want ≥ 0", *nRef)
				}
				n := *nRef
				if n == 0 {
					n = len(pts)
				}
				m, _ := d.(*toy.Mixture)
				ref := d.Sample(toy.NewRand(*seed), n)
				rep, err := metrics.Evaluate(pts, ref, m, *seed)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s vs %s: %s\n", *samples, d.Name(), rep)
				if *floorFlag {
					fl, err := metrics.SW2Floor(d, len(pts), metrics.DefaultProjections, *seed)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "SW2 floor between two data samples of %d points: %.4g (ratio %.2f)\n", len(pts), fl, rep.SW2/fl)
				}
				if *jsonOut != "" {
					raw, _ := json.MarshalIndent(rep, "", "  ")
					if err := writeAtomic(*jsonOut, append(raw, '\n')); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "wrote %s\n", *jsonOut)
				}
				return nil
			}
		},
	})
}

// writeAtomic writes data to a temporary file beside path and renames it into place.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
