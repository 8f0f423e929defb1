package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/scoresde/scoresde/lib/figures"
)

func init() {
	register(command{
		name:    "figures",
		summary: "Reproduce the toy versions of the paper's figures (exact mixture scores) as PNG and SVG.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			out := fs.String("out", "figures", "output directory (created if missing)")
			only := fs.String("only", "", "comma-separated figure names to write (default all); see --list")
			list := fs.Bool("list", false, "list the figures and exit")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *list {
					for _, f := range figures.Set() {
						fmt.Fprintf(stdout, "%-26s %s\n", f.Name, f.Caption)
					}
					return nil
				}
				if strings.TrimSpace(*out) == "" {
					return usagef("--out is empty: give an output directory")
				}
				names, err := figureNames(*only)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(*out, 0o755); err != nil {
					return fmt.Errorf("creating the output directory: %w", err)
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				start := time.Now()
				files, err := figures.Write(b, *out, names, stdout)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "wrote %d files to %s in %.1fs\n", len(files), *out, time.Since(start).Seconds())
				return nil
			}
		},
	})
}

// figureNames splits --only into figure names and checks each against the figure set before any
// directory is made or figure drawn: an unknown or empty name is a usage error.
func figureNames(only string) ([]string, error) {
	if strings.TrimSpace(only) == "" {
		return nil, nil
	}
	known := map[string]bool{}
	for _, n := range figures.Names() {
		known[n] = true
	}
	var names, unknown []string
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			return nil, usagef("--only %q holds an empty name: give comma-separated figure names (see --list)", only)
		case !known[n]:
			unknown = append(unknown, n)
		}
		names = append(names, n)
	}
	if len(unknown) > 0 {
		return nil, usagef("--only: unknown figure(s) %s: choose from %s", strings.Join(unknown, ", "), strings.Join(figures.Names(), ", "))
	}
	return names, nil
}
