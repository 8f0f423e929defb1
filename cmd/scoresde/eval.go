package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/scoresde/scoresde/lib/fileio"
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
				if *jsonOut != "" && fileio.SameFile(*jsonOut, *samples) {
					return usagef("--json %s is the --samples file: name another file for the report", *jsonOut)
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
					if err := writeJSON(*jsonOut, rep); err != nil {
						return fmt.Errorf("--json: %w", err)
					}
					fmt.Fprintf(stdout, "wrote %s\n", *jsonOut)
				}
				return nil
			}
		},
	})
}

// writeJSON writes v (a report struct) as indented JSON to path through fileio.WriteFile. It
// marshals and checks first: a NaN or ±Inf value (which JSON cannot hold) is an error naming
// the metric, and the file at path is then left as it was.
func writeJSON(path string, v any) error {
	if name, x, ok := nonFinite(reflect.ValueOf(v), ""); ok {
		return fmt.Errorf("not writing %s: metric %s is %v, which JSON cannot hold (the previous report, if any, is left as it was): check the samples for diverged or huge values", path, name, x)
	}
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("not writing %s: %w", path, err)
	}
	return fileio.WriteBytes(path, append(raw, '\n'))
}

// nonFinite returns the JSON name (a.b, a[2]) and value of the first NaN or ±Inf float in v,
// a struct, pointer, slice, array or map of them.
func nonFinite(v reflect.Value, name string) (string, float64, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nonFinite(v.Elem(), name)
		}
	case reflect.Float32, reflect.Float64:
		if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
			return name, x, true
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if n, x, ok := nonFinite(v.Index(i), fmt.Sprintf("%s[%d]", name, i)); ok {
				return n, x, true
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			if n, x, ok := nonFinite(v.MapIndex(k), fmt.Sprintf("%s[%v]", name, k)); ok {
				return n, x, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "-" {
				continue
			}
			if key == "" {
				key = f.Name
			}
			if name != "" {
				key = name + "." + key
			}
			if n, x, ok := nonFinite(v.Field(i), key); ok {
				return n, x, true
			}
		}
	}
	return "", 0, false
}
