package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostileCase is one hostile command line run through the CLI in process. Files the case needs
// are made by setup in a fresh directory dir; every "{dir}" in args is replaced by dir.
//
// The case checks the exit code, that stderr holds want (one clear line, no stack trace), and
// that each path in untouched (relative to dir) has the same bytes after the run as before it.
type hostileCase struct {
	// name is the subtest name (short, unique).
	name string
	// setup, when set, writes the inputs into dir before the run.
	setup func(t *testing.T, dir string)
	// args is the command line; "{dir}" stands for the case's directory.
	args []string
	// code is the wanted exit status (2 for usage errors).
	code int
	// want is a fragment the message on stderr must hold.
	want string
	// untouched lists files (relative to dir) that must keep their bytes; a file that does not
	// exist before the run must not exist after it.
	untouched []string
}

// hostileCases is the table of TestHostileInputs. Each area's file adds its cases in an init
// function (hostile_<area>_test.go), so the table is one list across the CLI.
var hostileCases []hostileCase

// stackTrace matches what a Go panic or runtime error prints.
var stackTrace = regexp.MustCompile(`goroutine \d+ \[|panic:|runtime error|fatal error`)

// TestHostileInputs runs every hostile case: exit code, message, no stack trace, outputs untouched.
func TestHostileInputs(t *testing.T) {
	names := map[string]bool{}
	for _, c := range hostileCases {
		if names[c.name] {
			t.Fatalf("hostile case %q is listed twice", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := map[string][]byte{}
			for _, p := range c.untouched {
				b, err := os.ReadFile(filepath.Join(dir, p))
				if err == nil {
					before[p] = b
				} else if !os.IsNotExist(err) {
					t.Fatalf("reading %s before the run: %v", p, err)
				}
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.ReplaceAll(a, "{dir}", dir)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			msg := stderr.String()
			if code != c.code {
				t.Errorf("scoresde %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, c.code, msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("scoresde %s: stderr %q lacks %q", strings.Join(args, " "), msg, c.want)
			}
			if stackTrace.MatchString(msg) {
				t.Errorf("scoresde %s: stack trace or runtime error on stderr: %q", strings.Join(args, " "), msg)
			}
			if n := strings.Count(strings.TrimSpace(msg), "\n") + 1; code != 0 && n > 3 {
				t.Errorf("scoresde %s: %d lines on stderr, want one clear line (and a hint): %q", strings.Join(args, " "), n, msg)
			}
			for _, p := range c.untouched {
				b, err := os.ReadFile(filepath.Join(dir, p))
				old, existed := before[p]
				switch {
				case !existed && err == nil:
					t.Errorf("%s was written by a failing command", p)
				case existed && err != nil:
					t.Errorf("%s is gone after the run: %v", p, err)
				case existed && !bytes.Equal(b, old):
					t.Errorf("%s changed: %d bytes before, %d after", p, len(old), len(b))
				}
			}
		})
	}
}

// writeFile is a setup helper: it writes data to dir/name, creating folders.
func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func init() {
	hostileCases = append(hostileCases,
		hostileCase{name: "unknown-command", args: []string{"frobnicate"}, code: 2, want: `unknown command "frobnicate"`},
	)
}
