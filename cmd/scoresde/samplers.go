package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/scoresde/scoresde/lib/sampling"
)

// samplersTable is the registry of lib/sampling as a Markdown table: the list `scoresde samplers`
// prints and the README shows.
func samplersTable() string {
	var sb strings.Builder
	sb.WriteString("| method | kind | claimed order | NFE per step | default grid | options |\n|---|---|---|---|---|---|\n")
	for _, m := range sampling.Methods() {
		kind := "ODE (`--sampler ode --method " + m.Name + "`, `decode --method " + m.Name + "`)"
		if m.Stochastic {
			kind = "SDE (`--sampler " + m.Name + "`)"
		}
		var opts []string
		for _, p := range m.Params {
			opts = append(opts, fmt.Sprintf("`--%s` %g", p.Name, p.Default))
		}
		fmt.Fprintf(&sb, "| `%s`: %s | %s | %g | %d | %d steps, %s | %s |\n", m.Name, m.Summary, kind, m.Order, m.EvalsPerStep,
			m.DefaultSteps, m.DefaultSchedule, strings.Join(opts, ", "))
	}
	sb.WriteString("\nGrids (`--schedule`): ")
	var gs []string
	for _, name := range sampling.Schedules() {
		g, _ := sampling.LookupSchedule(name)
		gs = append(gs, fmt.Sprintf("`%s` (%s)", name, g.Summary))
	}
	sb.WriteString(strings.Join(gs, ", ") + ".\n")
	return sb.String()
}

func init() {
	register(command{
		name:    "samplers",
		summary: "List the registered ODE and SDE solvers (claimed order, NFE per step, default grid, options) and the time grids, as a Markdown table.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				fmt.Fprint(stdout, samplersTable())
				return nil
			}
		},
	})
}
