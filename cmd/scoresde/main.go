// Command scoresde is the command-line face of the scoresde workbench for score-based generative
// modeling with SDEs.
//
//	scoresde figures --out docs      reproduce the toy figures as PNG and SVG
//	scoresde backends                say which GoMLX backend runs the graphs, and why
//
// Run `scoresde help` or `scoresde COMMAND --help` for the flags of each command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its flags are defined by setup, and run executes it.
type command struct {
	name, summary string
	// setup defines the flags on fs and returns the function that runs the command with the
	// remaining positional arguments.
	setup func(fs *flag.FlagSet) func(args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands; each lives in its own file.
var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// usageError marks a bad invocation: it is reported with a hint to --help and exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status. Panics inside commands are turned
// into one line on stderr, never a stack trace.
func run(args []string, stdout, stderr io.Writer) (code int) {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c)
				c.setup(fs)
				fs.SetOutput(stdout)
				fs.Usage()
				return 0
			}
		}
		mainUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "scoresde: unknown command %q: run 'scoresde help' to list the commands (%s)\n", args[0], strings.Join(names(), ", "))
		return 2
	}
	fs := newFlagSet(c)
	exec := c.setup(fs)
	// The flag package would print the whole usage after a bad flag: keep it quiet and report the
	// problem in one line with a pointer to --help; --help itself prints the usage on stdout.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		fmt.Fprintf(stderr, "scoresde %s: %v\n", c.name, err)
		fmt.Fprintf(stderr, "run 'scoresde %s --help' for the flags\n", c.name)
		return 2
	}
	fs.SetOutput(stderr)
	defer func() {
		if r := recover(); r != nil {
			msg := strings.SplitN(fmt.Sprint(r), "\n", 2)[0]
			fmt.Fprintf(stderr, "scoresde %s: %s\n", c.name, msg)
			code = 1
		}
	}()
	if err := exec(fs.Args(), stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "scoresde %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "run 'scoresde %s --help' for the flags\n", c.name)
			return 2
		}
		return 1
	}
	return 0
}

// newFlagSet returns the flag set of c; its Usage writes the summary and the flags to fs.Output().
func newFlagSet(c command) *flag.FlagSet {
	fs := flag.NewFlagSet("scoresde "+c.name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scoresde %s [flags]\n\n%s\n\nflags:\n", c.name, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

func names() []string {
	var out []string
	for n := range commands {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "scoresde: score-based generative modeling with SDEs (Song et al., ICLR 2021)")
	fmt.Fprintln(w, "\nusage: scoresde COMMAND [flags]\n\ncommands:")
	for _, n := range names() {
		fmt.Fprintf(w, "  %-13s %s\n", n, strings.SplitN(commands[n].summary, "\n", 2)[0])
	}
	fmt.Fprintln(w, "\nRun 'scoresde COMMAND --help' for the flags of a command.")
	fmt.Fprintln(w, "The compute backend is chosen by GOMLX_BACKEND; see 'scoresde backends'.")
}
