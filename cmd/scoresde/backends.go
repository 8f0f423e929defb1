package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomlx/compute"
	"github.com/scoresde/scoresde/lib/backend"
)

func init() {
	register(command{
		name:    "backends",
		summary: "Say which GoMLX backend runs the graphs, why, whether SIMD kernels are in, and how to choose another.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			start := fs.Bool("start", true, "start the backend to check that it works")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				c := backend.Choose()
				fmt.Fprintf(stdout, "compiled-in backends: %s\n", strings.Join(backend.Available(), ", "))
				fmt.Fprintf(stdout, "%s=%q\n", backend.EnvVar, os.Getenv(backend.EnvVar))
				fmt.Fprintf(stdout, "selected: %s (%s)\n", c.Config, c.Reason)
				fmt.Fprintln(stdout, backend.SIMDReport())
				if *start {
					b, err := backend.New()
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "started: %s — %s\n", b.Name(), b.Description())
				}
				fmt.Fprintln(stdout, backend.Hint)
				return nil
			}
		},
	})
}

// startBackend starts the GoMLX backend and writes which one runs, and why, to w.
func startBackend(w io.Writer) (compute.Backend, error) {
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(w, backend.Describe())
	return b, nil
}
